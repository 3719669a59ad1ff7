#pragma once
// TCP, UDP (IPv4 and IPv6) and unix sockets of the calling thread's network namespace through
// NETLINK_SOCK_DIAG inet_diag dumps, no text parsing.
#include <linux/netlink.h>

#include <cstdint>
#include <string>
#include <vector>

#include "model/capture.h"

namespace netviz {

// One SOCK_DIAG_BY_FAMILY reply message → a socket (netns set, no owners); false when the
// message is not one or is too short. Pure, so tests/fuzz can feed it any bytes.
bool parse_inet_diag_msg(const nlmsghdr* h, int protocol, uint64_t netns, Socket& out);

// protocol: IPPROTO_TCP or IPPROTO_UDP; family: AF_INET or AF_INET6. Appends sockets
// (netns set, no owners). Returns "" on success, else the reason.
std::string sock_diag_inet(int protocol, int family, uint64_t netns, std::vector<Socket>& out);

// TCP sockets of both families in one kernel walk (the TCPDIAG_GETSOCK request, replies
// parsed as above). Same contract as sock_diag_inet.
std::string sock_diag_tcp(uint64_t netns, std::vector<Socket>& out);

// A unix socket name as the kernel holds it (len bytes, sun_path without sun_family): a path
// up to its NUL; an abstract name (leading NUL) as "@name" with every NUL as '@', as
// /proc/net/unix and ss show them. "" for an unnamed socket.
std::string unix_name_text(const char* data, size_t len);

// One AF_UNIX SOCK_DIAG_BY_FAMILY reply (unix_diag_msg with UNIX_DIAG_NAME/PEER attributes)
// → a socket: path or "@name" for abstract names, inode, peer_inode. Pure, like the above.
bool parse_unix_diag_msg(const nlmsghdr* h, uint64_t netns, Socket& out);

// Every unix socket of the namespace with its name and peer inode. Same contract as
// sock_diag_inet.
std::string sock_diag_unix(uint64_t netns, std::vector<Socket>& out);

}  // namespace netviz
