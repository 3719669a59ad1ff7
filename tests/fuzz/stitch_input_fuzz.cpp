// Any bytes as one netviz-stitch input (capture document or JSON-lines stream, told apart
// by content): load or throw netviz::Error, never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "stitch/flow_store.h"
#include "stitch/input_reader.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  netviz::FlowStore store;
  try {
    netviz::load_text(store, text, "fuzz");
  } catch (const netviz::Error&) {
  }
  // Line by line as `--follow` feeds a growing stream.
  netviz::FlowStore store2;
  netviz::StreamIngest in(store2, "fuzz");
  try {
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string_view::npos) nl = text.size();
      in.feed_line(text.substr(pos, nl - pos));
      pos = nl + 1;
    }
    in.finish();
  } catch (const netviz::Error&) {
  }
  return 0;
}
