#pragma once
// How a raw or packet socket reads the wire, in words for graph labels.
#include <string>

#include "model/capture.h"

namespace netviz {

// "raw icmp", "raw6 proto 47", "packet eth0 all", "packet any ipv4": what an ingress socket
// reads (raw: by IP protocol; packet: by interface and ethertype); "" for any other socket.
std::string ingress_text(const Socket& s);

}  // namespace netviz
