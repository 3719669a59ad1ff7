// Option values that reach the core unchecked by CLI11: --proto names.
#include <cstddef>
#include <cstdint>
#include <string>

#include "model/filter.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  try {
    netviz::check_proto_name(s);
  } catch (const netviz::Error& e) {
    if (std::string(e.what()).find("--proto") == std::string::npos) __builtin_trap();
  }
  return 0;
}
