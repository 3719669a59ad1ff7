#pragma once
// The capture document and a stream's flow line built as one JSON tree, from the item writers
// of src/format/: what the streaming writers (sinks/capture_document.h, sinks/event_jsonl.h)
// must produce byte for byte, and a convenient way for tests to make documents; and a whole
// document read back into one Capture through the product's checked reader.
#include <ostream>
#include <string_view>

#include "format/capture_json.h"
#include "format/capture_reader.h"
#include "util/time.h"

namespace netviz {

inline ojson to_json(const Capture& c, bool with_cmdline = true) {
  ojson j{{"netviz", c.version}, {"host", to_json(c.host)}};
  ojson procs = ojson::array();
  for (const auto& p : c.processes) procs.push_back(to_json(p, with_cmdline));
  ojson socks = ojson::array();
  for (const auto& s : c.sockets) socks.push_back(to_json(s));
  ojson flows = ojson::array();
  for (const auto& f : c.flows) flows.push_back(to_json(f));
  j["processes"] = std::move(procs);
  j["sockets"] = std::move(socks);
  j["flows"] = std::move(flows);
  j["stats"] = to_json(c.stats);
  return j;
}

// The whole document, pretty-printed, newline-terminated.
inline void write_capture(std::ostream& out, const Capture& c, bool with_cmdline = true) {
  out << to_json(c, with_cmdline).dump(1) << '\n';
}

// {"event": ..., "time": ..., <every flow field>}: one flow line of the JSON-lines stream.
inline ojson flow_line(std::string_view event, const Flow& f, WallNs time) {
  ojson j{{"event", event}, {"time", format_time(time)}};
  ojson body = to_json(f);  // named: a range-for over a temporary's items() dangles
  for (auto& [k, v] : body.items()) j[k] = v;
  return j;
}

// A whole capture document as one Capture: what the checked reader (format/capture_reader.h)
// hands netviz-stitch, plus the processes and stats.scan_path it only checks for syntax.
// Throws netviz::Error as the reader does.
inline Capture capture_from_json(const nlohmann::json& j, const std::string& source) {
  struct Collect : CaptureVisitor {
    Capture c;
    void on_host(const HostInfo& h) override { c.host = h; }
    void on_flow(Flow&& f) override { c.flows.push_back(std::move(f)); }
    void on_socket(Socket&& s) override { c.sockets.push_back(std::move(s)); }
    void on_lost_events(uint64_t n) override { c.stats.lost_events = n; }
    void reset() override { c = Capture{}; }
  } v;
  read_capture_checked(j.dump(), source, v);
  if (auto p = j.find("processes"); p != j.end() && p->is_array())
    for (size_t i = 0; i < p->size(); ++i)
      v.c.processes.push_back(
          process_from_json((*p)[i], JsonPath{source, "processes[" + std::to_string(i) + "]"}));
  if (auto s = j.find("stats"); s != j.end() && s->is_object())
    v.c.stats.scan_path = s->value("scan_path", "");
  return std::move(v.c);
}

}  // namespace netviz
