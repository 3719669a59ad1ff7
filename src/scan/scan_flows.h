#pragma once
// Flows a snapshot can see: one per connected TCP or UDP socket, one per connected unix pair.
#include <vector>

#include "model/capture.h"

namespace netviz {

// Direction: inbound when the local port is a listening port in the socket's namespace
// (a TCP LISTEN socket, or for UDP an unconnected bound one) on the same or a wildcard
// address; outbound otherwise. pid/comm come from the first owner. An IPv4-mapped IPv6
// flow is reported as the IPv4 flow it is on the wire.
// Unix: one flow per connected pair (peer_inode) whose ends have owners in two processes,
// seen from the client (local) with the server's path as remote and its owner as peer;
// the server is the end named for a listening path. A pair with no named end is left out.
std::vector<Flow> flows_from_sockets(const std::vector<Socket>& sockets, WallNs now);

// "::ffff:1.2.3.4" → "1.2.3.4"; anything else unchanged.
std::string unmap_v4(const std::string& addr);

}  // namespace netviz
