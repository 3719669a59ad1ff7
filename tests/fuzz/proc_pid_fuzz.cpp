// Any bytes as the files of /proc/PID: stat, status, cmdline, cgroup, and the fd / ns links
// ("socket:[N]", "net:[N]"). The first byte picks the parser.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "scan/process_info.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 6) {
    case 0:
      if (auto st = netviz::parse_proc_stat(text)) {
        // comm comes from between the parentheses: never longer than the input.
        if (st->comm.size() > text.size()) __builtin_trap();
      }
      break;
    case 1:
      (void)netviz::parse_status_uid(text);
      break;
    case 2:
      (void)netviz::parse_status_ppid(text);
      break;
    case 3: {
      size_t total = 0;
      for (const auto& a : netviz::split_cmdline(text)) total += a.size();
      if (total > text.size()) __builtin_trap();
      break;
    }
    case 4:
      if (netviz::pick_cgroup(text).size() > text.size()) __builtin_trap();
      break;
    case 5: {
      // Links as readlink gives them; the prefix is "socket" or "net".
      auto a = netviz::parse_ns_link(text, "socket");
      auto b = netviz::parse_ns_link(text, "net");
      if (a && b) __builtin_trap();  // one text cannot carry both prefixes
      break;
    }
  }
  return 0;
}
