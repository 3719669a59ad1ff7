// Any bytes as a /proc/net table: the first byte picks the table, the rest is the file text.
// Every row either parses or is counted as unparsed; never a crash, never more sockets
// than lines.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "scan/proc_net_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  auto table = static_cast<netviz::ProcNetTable>(data[0] % 10);
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<netviz::Socket> out;
  size_t bad = netviz::parse_proc_net(table, text, 4026531840u, out,
                                      [](int i) { return "if" + std::to_string(i); });
  size_t lines = 1;
  for (char c : text) lines += c == '\n';
  if (out.size() + bad > lines) __builtin_trap();
  for (const auto& s : out)
    if (s.netns != 4026531840u) __builtin_trap();
  (void)netviz::proc_net_file(table);
  return 0;
}
