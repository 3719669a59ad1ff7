#include "util/listen_address.h"

#include <cstdlib>

#include "util/error.h"

namespace netviz {

ListenAddress parse_listen_address(const std::string& option, const std::string& s) {
  ListenAddress a{"127.0.0.1", 0};
  std::string port = s;
  if (!s.empty() && s[0] == '[') {  // [::1]:9101
    size_t close = s.find("]:");
    if (close == std::string::npos)
      throw Error(option + ": expected [ADDRESS]:PORT, got \"" + s + "\"");
    a.host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else if (size_t colon = s.rfind(':'); colon != std::string::npos) {
    if (s.find(':') != colon) throw Error(option + ": an IPv6 address goes in brackets: [::1]:9101");
    if (colon > 0) a.host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  char* end = nullptr;
  long p = port.empty() || port.size() > 5 ? -1 : strtol(port.c_str(), &end, 10);
  if (p <= 0 || p > 65535 || (end && *end))
    throw Error(option + ": expected [ADDRESS:]PORT with a port 1-65535, got \"" + s + "\"");
  a.port = static_cast<int>(p);
  return a;
}

}  // namespace netviz
