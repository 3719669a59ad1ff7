#pragma once
// [ADDRESS:]PORT as the HTTP options take it (--metrics); loopback when no address is given.
#include <string>

namespace netviz {

struct ListenAddress {
  std::string host;
  int port = 0;
};

// Throws netviz::Error naming `option` when s is not [ADDRESS:]PORT or [IPV6]:PORT.
ListenAddress parse_listen_address(const std::string& option, const std::string& s);

}  // namespace netviz
