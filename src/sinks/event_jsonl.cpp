#include "sinks/event_jsonl.h"

#include "format/event_json.h"
#include "util/time.h"

namespace netviz {

void EventJsonSink::host(const HostInfo& h, WallNs time) {
  out_ << host_line(h, time).dump() << '\n';
}

void EventJsonSink::flow(std::string_view event, const Flow& f, WallNs time) {
  out_ << flow_line(event, f, time).dump() << '\n';
}

void EventJsonSink::socket(const TraceEvent& e) {
  ojson j{{"event", event_name(e.kind)},
          {"time", format_time(e.time)},
          {"proto", e.proto},
          {"family", e.family},
          {"local", to_json(e.local)},
          {"remote", nullptr},
          {"state", e.kind == EventKind::listen ? "LISTEN" : (e.proto == "udp" ? "UNCONN" : "CLOSE")},
          {"netns", e.netns},
          {"pid", e.pid},
          {"comm", e.comm}};
  out_ << j.dump() << '\n';
}

void EventJsonSink::process(const TraceEvent& e) {
  ojson j{{"event", event_name(e.kind)}, {"time", format_time(e.time)}, {"pid", e.pid},
          {"ppid", e.ppid},               {"comm", e.comm},              {"netns", e.netns}};
  if (e.kind == EventKind::exit) {
    // The kernel's wait status: exit code in bits 8-15, terminating signal in bits 0-6.
    j["exit_code"] = (e.exit_code >> 8) & 0xff;
    j["signal"] = e.exit_code & 0x7f;
  }
  out_ << j.dump() << '\n';
}

void EventJsonSink::stats(const Stats& s, WallNs time) { out_ << stats_line(s, time).dump() << '\n'; }

bool EventJsonSink::flush() {
  out_.flush();
  return static_cast<bool>(out_);
}

}  // namespace netviz
