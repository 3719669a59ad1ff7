#pragma once
// The JSON-lines stream (docs/output-format.md): one object per line, formatted by
// src/format/event_json.h, so netviz-stitch reads it back.
#include <ostream>
#include <string>

#include "sinks/event_sink.h"

namespace netviz {

// One flow line, byte for byte what flow_line(event, f, time).dump() (tests/support) gives.
std::string flow_line_text(std::string_view event, const Flow& f, WallNs time);

class EventJsonSink : public EventSink {
 public:
  explicit EventJsonSink(std::ostream& out) : out_(out) {}
  void host(const HostInfo& h, WallNs time) override;
  void flow(std::string_view event, const Flow& f, WallNs time) override;
  void socket(const TraceEvent& e) override;
  void process(const TraceEvent& e) override;
  void stats(const Stats& s, WallNs time) override;
  bool flush() override;

 private:
  std::ostream& out_;
};

}  // namespace netviz
