#pragma once
// TCP and UDP sockets (IPv4 and IPv6) of the calling thread's network namespace through
// NETLINK_SOCK_DIAG inet_diag dumps: one request per protocol and family, no text parsing.
#include <cstdint>
#include <string>
#include <vector>

#include "model/capture.h"

namespace netviz {

// protocol: IPPROTO_TCP or IPPROTO_UDP; family: AF_INET or AF_INET6. Appends sockets
// (netns set, no owners). Returns "" on success, else the reason.
std::string sock_diag_inet(int protocol, int family, uint64_t netns, std::vector<Socket>& out);

}  // namespace netviz
