// Option values that reach the core unchecked by CLI11: --proto names (netviz-trace),
// --view and --format (netviz-stitch). The first byte picks the option. Anything accepted
// is one of the documented names; anything refused is a netviz::Error naming the option.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cli/filter_options.h"
#include "stitch/stitch_options.h"
#include "util/error.h"

namespace {

void expect_named(const netviz::Error& e, const char* option) {
  if (std::string(e.what()).find(option) == std::string::npos) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string s(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0:
      try {
        netviz::proto_matches({s});
        static const char* const known[] = {"tcp",  "tcp6",   "udp",  "udp6", "raw", "raw6",
                                            "sctp", "sctp6", "packet", "unix", "inet", "inet6"};
        bool ok = false;
        for (const char* k : known) ok = ok || s == k;
        if (!ok) __builtin_trap();
      } catch (const netviz::Error& e) {
        expect_named(e, "--proto");
      }
      break;
    case 1:
      try {
        (void)netviz::parse_view(s);
        if (s != "process" && s != "pid" && s != "endpoint" && s != "host" && s != "service")
          __builtin_trap();
      } catch (const netviz::Error& e) {
        expect_named(e, "--view");
      }
      break;
    case 2:
      try {
        (void)netviz::parse_format(s);
        if (s != "dot" && s != "json" && s != "svg" && s != "png" && s != "pdf") __builtin_trap();
      } catch (const netviz::Error& e) {
        expect_named(e, "--format");
      }
      break;
  }
  return 0;
}
