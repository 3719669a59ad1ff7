#pragma once
// Where the tracer's stream goes: JSON lines (event_jsonl), terminal columns (event_table).
// Sinks only format; they write to a std::ostream and never touch the capture machinery.
#include <string_view>

#include "model/capture.h"
#include "model/event.h"

namespace netviz {

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void host(const HostInfo& h, WallNs time) = 0;
  // A flow event: connect, accept, close, udp; "flow" for scan flows, "update" for counters.
  virtual void flow(std::string_view event, const Flow& f, WallNs time) = 0;
  // bind and listen.
  virtual void socket(const TraceEvent& e) = 0;
  // exec and exit.
  virtual void process(const TraceEvent& e) = 0;
  virtual void stats(const Stats& s, WallNs time) = 0;
  // Pushes out what is buffered. False once the output is gone (closed pipe).
  virtual bool flush() = 0;
};

}  // namespace netviz
