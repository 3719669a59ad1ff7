#include "format/ingress_text.h"

#include <cstdio>

namespace netviz {

std::string ingress_text(const Socket& s) {
  if (s.proto == Proto::raw) {
    bool v6 = s.family == Family::ipv6;
    std::string kind = v6 ? "raw6 " : "raw ";
    switch (s.local.port) {  // the IP protocol number
      case 1: return kind + "icmp";
      case 58: return kind + "icmpv6";
      case 6: return kind + "tcp";
      case 17: return kind + "udp";
      case 255: return kind + "any";
      default: return kind + "proto " + std::to_string(s.local.port);
    }
  }
  if (s.proto == Proto::packet) {
    std::string dev = s.local.addr.empty() || s.local.addr == "*" ? "any" : s.local.addr;
    switch (s.local.port) {  // the ethertype
      case 0x0003: return "packet " + dev + " all";
      case 0x0800: return "packet " + dev + " ipv4";
      case 0x86dd: return "packet " + dev + " ipv6";
      case 0x0806: return "packet " + dev + " arp";
      case 0: return "packet " + dev + " none";
      default: {
        char hex[16];
        snprintf(hex, sizeof hex, "0x%04x", s.local.port);
        return "packet " + dev + " " + hex;
      }
    }
  }
  return {};
}

}  // namespace netviz
