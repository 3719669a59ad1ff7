#pragma once
// Host identity for stitching (hostname, machine-id, boot-id, kernel release) and the
// addresses configured in a network namespace.
#include <linux/netlink.h>

#include <string>
#include <vector>

#include "model/capture.h"

namespace netviz {

// Fills name, machine_id, boot_id and kernel. proc_root gives boot_id
// (<proc_root>/sys/kernel/random/boot_id); machine-id comes from /etc/machine-id.
HostInfo read_host_identity(const std::string& proc_root);

// One RTM_NEWADDR message → its address as text; false for anything else or anything
// malformed. Pure, so tests/fuzz can feed it any bytes.
bool parse_ifaddr_msg(const nlmsghdr* h, std::string& out);

// Every address in the calling thread's network namespace (netlink RTM_GETADDR), as text.
// Returns "" on success, else the reason.
std::string namespace_addresses(std::vector<std::string>& out);

}  // namespace netviz
