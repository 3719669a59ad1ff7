// Any bytes as one JSON-lines record of a trace stream.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "format/event_json.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)netviz::parse_stream_line(
        std::string_view(reinterpret_cast<const char*>(data), size), "fuzz", 1);
  } catch (const netviz::Error&) {
  }
  return 0;
}
