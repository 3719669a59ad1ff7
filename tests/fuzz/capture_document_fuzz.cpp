// Any bytes as a capture document: must parse or throw netviz::Error, never crash.
#include <cstddef>
#include <cstdint>

#include "format/capture_json.h"
#include "../support/json_tree.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) return 0;
  try {
    netviz::Capture c = netviz::capture_from_json(j, "fuzz");
    (void)netviz::to_json(c).dump();
  } catch (const netviz::Error&) {
  }
  return 0;
}
