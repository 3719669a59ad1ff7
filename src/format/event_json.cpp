#include "format/event_json.h"

#include "util/error.h"
#include "util/time.h"

namespace netviz {

using nlohmann::json;

namespace {
const std::string_view kFlowEvents[] = {"connect", "accept", "close", "udp", "flow", "update"};
}

bool is_flow_event(std::string_view event) {
  for (auto e : kFlowEvents)
    if (e == event) return true;
  return false;
}

ojson host_line(const HostInfo& h, WallNs time) {
  return ojson{{"event", "host"}, {"time", format_time(time)}, {"netviz", kFormatVersion},
               {"host", to_json(h)}};
}

ojson stats_line(const Stats& s, WallNs time) {
  return ojson{{"event", "stats"}, {"time", format_time(time)}, {"stats", to_json(s)}};
}

StreamLine parse_stream_line(std::string_view text, const std::string& source, size_t line_no) {
  std::string where = source + ":" + std::to_string(line_no);
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) throw Error(where + ": malformed JSON");
  JsonPath at{where, ""};
  if (!j.is_object()) at.fail("expected an object");
  StreamLine out;
  auto ev = j.find("event");
  if (ev == j.end()) at.field("event").fail("missing");
  if (!ev->is_string()) at.field("event").fail("expected a string");
  out.event = ev->get<std::string>();
  if (auto t = j.find("time"); t != j.end() && t->is_string()) {
    auto parsed = parse_time(t->get<std::string>());
    if (!parsed) at.field("time").fail("expected an RFC 3339 time");
    out.time = *parsed;
  }
  if (out.event == "host") {
    if (auto v = j.find("netviz"); v != j.end() && (!v->is_number_integer() || *v != kFormatVersion))
      at.field("netviz").fail("unsupported format version");
    auto h = j.find("host");
    if (h == j.end()) at.field("host").fail("missing");
    out.host = host_from_json(*h, at.field("host"));
    out.kind = StreamLine::Kind::host;
  } else if (is_flow_event(out.event)) {
    out.flow = flow_from_json(j, at);
    out.kind = StreamLine::Kind::flow;
  } else if (out.event == "stats") {
    if (auto s = j.find("stats"); s != j.end() && s->is_object()) {
      if (auto l = s->find("lost_events"); l != s->end() && l->is_number_unsigned())
        out.stats.lost_events = l->get<uint64_t>();
      if (auto p = s->find("scan_path"); p != s->end() && p->is_string())
        out.stats.scan_path = p->get<std::string>();
    }
    out.kind = StreamLine::Kind::stats;
  }
  return out;
}

}  // namespace netviz
