#include "sinks/event_jsonl.h"

#include <cstdint>

#include "format/event_json.h"
#include "format/json_text.h"
#include "format/kind_names.h"
#include "util/time.h"

namespace netviz {

void EventJsonSink::host(const HostInfo& h, WallNs time) {
  out_ << host_line(h, time).dump(-1, ' ', false, ojson::error_handler_t::replace) << '\n';
}

// A connection storm writes several flow lines per connection: built by hand (about 20x
// faster than a JSON tree), byte for byte flow_line(...).dump() of tests/support/json_tree.h; the unit tests compare them.
std::string flow_line_text(std::string_view event, const Flow& f, WallNs time) {
  std::string o;
  o.reserve(512);
  o += "{\"event\":";
  append_json_string(o, event);
  o += ",\"time\":";
  append_json_time(o, time);
  o += ',';
  append_flow_members(o, f);
  o += '}';
  return o;
}

void EventJsonSink::flow(std::string_view event, const Flow& f, WallNs time) {
  out_ << flow_line_text(event, f, time) << '\n';
}

void EventJsonSink::socket(const TraceEvent& e) {
  ojson j{{"event", event_name(e.kind)},
          {"time", format_time(e.time)},
          {"proto", to_text(e.proto)},
          {"family", to_text(e.family)},
          {"local", to_json(e.local)},
          {"remote", nullptr},
          {"state", e.kind == EventKind::listen ? "LISTEN" : (e.proto == Proto::udp ? "UNCONN" : "CLOSE")},
          {"netns", e.netns},
          {"pid", e.pid},
          {"comm", e.comm}};
  out_ << j.dump(-1, ' ', false, ojson::error_handler_t::replace) << '\n';
}

void EventJsonSink::process(const TraceEvent& e) {
  ojson j{{"event", event_name(e.kind)}, {"time", format_time(e.time)}, {"pid", e.pid},
          {"ppid", e.ppid},               {"comm", e.comm},              {"netns", e.netns}};
  if (e.kind == EventKind::exit) {
    // The kernel's wait status: exit code in bits 8-15, terminating signal in bits 0-6.
    j["exit_code"] = (e.exit_code >> 8) & 0xff;
    j["signal"] = e.exit_code & 0x7f;
  }
  out_ << j.dump(-1, ' ', false, ojson::error_handler_t::replace) << '\n';
}

void EventJsonSink::stats(const Stats& s, WallNs time) {
  out_ << stats_line(s, time).dump(-1, ' ', false, ojson::error_handler_t::replace) << '\n';
}

bool EventJsonSink::flush() {
  out_.flush();
  return static_cast<bool>(out_);
}

}  // namespace netviz
