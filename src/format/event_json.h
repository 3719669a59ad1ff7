#pragma once
// The JSON-lines stream of netviz-trace (docs/output-format.md). One object per line:
//   {"event":"host","time":T,"host":{...}}                   first line
//   {"event":"connect"|"accept"|"close"|"udp"|..., "time":T, <every flow field>}
//   {"event":"bind"|"listen", "time":T, <socket fields>, "pid", "comm"}
//   {"event":"exec"|"exit", "time":T, "pid", "ppid", "comm", ...}
//   {"event":"stats","time":T,"stats":{...}}                 last line
// A flow event carries the whole flow as known at that time, so a reader keeps the latest
// line per flow.
#include <string_view>

#include "format/capture_json.h"

namespace netviz {

ojson host_line(const HostInfo& h, WallNs time);
ojson stats_line(const Stats& s, WallNs time);

// One parsed line of a stream. kind says which member is meaningful.
struct StreamLine {
  enum class Kind { host, flow, stats, other } kind = Kind::other;
  std::string event;
  WallNs time = 0;
  HostInfo host;
  Flow flow;
  Stats stats;
};

// Throws netviz::Error "<source>:<line>: <field>: <what>" on malformed input.
StreamLine parse_stream_line(std::string_view text, const std::string& source, size_t line_no);

// Which events carry a flow.
bool is_flow_event(std::string_view event);

}  // namespace netviz
