#pragma once
// One spelling per IPv4 address: a dual-stack socket sees an IPv4 peer as ::ffff:a.b.c.d,
// the peer knows itself as a.b.c.d (and conntrack calls it that too).
#include <string_view>

namespace netviz {

inline std::string_view canonical_addr(std::string_view a) {
  if (a.size() > 7 && (a.starts_with("::ffff:") || a.starts_with("::FFFF:")) &&
      a.find('.') != std::string_view::npos)
    return a.substr(7);
  return a;
}

}  // namespace netviz
