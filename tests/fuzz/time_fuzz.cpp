// RFC 3339 times: parse, and anything parsed formats and parses back to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "util/time.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto t = netviz::parse_time(std::string_view(reinterpret_cast<const char*>(data), size));
  if (t) {
    auto back = netviz::parse_time(netviz::format_time(*t));
    if (!back || *back != *t) abort();
  }
  return 0;
}
