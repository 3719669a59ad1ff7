#pragma once
// Parsers for the /proc/net socket tables (tcp, tcp6, udp, udp6, raw, raw6, packet, unix,
// sctp/eps, sctp/assocs). Pure functions over the file text: the scan reads the files,
// the unit tests feed fixtures.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "model/capture.h"

namespace netviz {

enum class ProcNetTable { tcp, tcp6, udp, udp6, raw, raw6, packet, unix_, sctp_eps, sctp_assocs };

// File name under /proc/<pid>/net for a table ("tcp6", "sctp/eps", ...).
const char* proc_net_file(ProcNetTable t);

// Interface index → name, for packet sockets (0 means every interface, shown "*").
using IfName = std::function<std::string(int ifindex)>;

// Appends one Socket per data row, with netns set and no owners. Returns the number of
// rows that did not parse (the header line is not counted).
size_t parse_proc_net(ProcNetTable t, std::string_view text, uint64_t netns,
                      std::vector<Socket>& out, const IfName& ifname = {});

// A socket's TCP state as the kernel numbers it; NEW_SYN_RECV (a request socket) is SYN_RECV
// as ss shows it.
SockState tcp_socket_state(unsigned state);
// The state of a datagram or raw socket: established when connected, else unconn.
SockState dgram_socket_state(unsigned state);

// inet_ntop of a 4- or 16-byte address in network order.
std::string inet_addr_text(int family, const void* addr);

}  // namespace netviz
