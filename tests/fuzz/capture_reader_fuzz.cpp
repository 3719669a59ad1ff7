// Any bytes as a capture document through the streaming readers. Differential: when the
// hand-written fast path accepts a text, the checked reader must accept it too and hand
// over the same host, flows and sockets.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "format/capture_json.h"
#include "format/capture_reader.h"
#include "util/error.h"

namespace {

struct Collect : netviz::CaptureVisitor {
  std::vector<std::string> items;
  uint64_t lost = 0;
  void on_host(const netviz::HostInfo& h) override { items.push_back("H" + netviz::to_json(h).dump()); }
  void on_flow(netviz::Flow&& f) override { items.push_back("F" + netviz::to_json(f).dump()); }
  void on_socket(netviz::Socket&& s) override { items.push_back("S" + netviz::to_json(s).dump()); }
  void on_lost_events(uint64_t n) override { lost = n; }
  void reset() override {
    items.clear();
    lost = 0;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Collect fast;
  bool fast_ok = false;
  try {
    fast_ok = netviz::read_capture_fast_path(text, "fuzz", fast);
  } catch (const netviz::Error&) {
  }
  Collect checked;
  bool checked_ok = true;
  try {
    netviz::read_capture_checked(text, "fuzz", checked);
  } catch (const netviz::Error&) {
    checked_ok = false;
  }
  if (fast_ok && !checked_ok) __builtin_trap();
  if (fast_ok && fast.items != checked.items) __builtin_trap();
  Collect both;
  try {
    netviz::read_capture(text, "fuzz", both);
    if (!checked_ok) __builtin_trap();  // the combined reader judges errors like the checked one
  } catch (const netviz::Error&) {
    if (checked_ok) __builtin_trap();
  }
  return 0;
}
