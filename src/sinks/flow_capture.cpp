#include "sinks/flow_capture.h"

#include <set>

#include "format/capture_json.h"
#include "scan/scan.h"
#include "trace/live_table.h"

namespace netviz {

Capture assemble_trace_capture(const ScanResult& scan, const LiveTable& table,
                               const Filter& filter, const Stats& stats) {
  Capture c;
  c.host = scan.host;
  std::set<int32_t> pids;
  auto keep_socket = [&](const Socket& s) {
    if (!filter.matches(s)) return;
    for (const auto& o : s.owners) pids.insert(o.pid);
    c.sockets.push_back(s);
  };
  for (const auto& s : scan.sockets) keep_socket(s);
  for (const auto& s : table.traced_listeners()) {
    bool known = false;
    for (const auto& t : scan.sockets)
      if (t.state == "LISTEN" && t.netns == s.netns && t.local == s.local && t.proto == s.proto) {
        known = true;
        break;
      }
    if (!known) keep_socket(s);
  }
  for (auto& f : table.flows()) {
    if (!filter.matches(f)) continue;
    if (f.pid) pids.insert(f.pid);
    c.flows.push_back(std::move(f));
  }
  const auto& procs = table.processes();
  for (int32_t pid : pids) {
    auto it = procs.find(pid);
    if (it != procs.end()) {
      c.processes.push_back(it->second.process);
      continue;
    }
    for (const auto& p : scan.processes)
      if (p.pid == pid) c.processes.push_back(p);
  }
  c.stats = stats;
  return c;
}

namespace {

// One value as dump(1) prints it at the given depth of the document.
void put_at_depth(std::ostream& out, const ojson& j, int depth) {
  std::string s = j.dump(1, ' ', false, ojson::error_handler_t::replace);
  std::string pad(static_cast<size_t>(depth), ' ');
  size_t start = 0;
  for (size_t nl; (nl = s.find('\n', start)) != std::string::npos; start = nl + 1)
    out.write(s.data() + start, static_cast<std::streamsize>(nl + 1 - start)) << pad;
  out.write(s.data() + start, static_cast<std::streamsize>(s.size() - start));
}

template <typename T, typename F>
void put_array(std::ostream& out, const char* name, const std::vector<T>& v, F to) {
  out << ",\n \"" << name << "\": ";
  if (v.empty()) {
    out << "[]";
    return;
  }
  out << "[\n";
  for (size_t i = 0; i < v.size(); ++i) {
    out << "  ";
    put_at_depth(out, to(v[i]), 2);
    out << (i + 1 < v.size() ? ",\n" : "\n");
  }
  out << " ]";
}

}  // namespace

// Streams the document element by element: the same bytes as write_capture(), without
// building one JSON tree of every flow (which would double the tracer's peak memory).
void write_trace_capture(std::ostream& out, const Capture& c, bool with_cmdline) {
  out << "{\n \"netviz\": " << c.version << ",\n \"host\": ";
  put_at_depth(out, to_json(c.host), 1);
  put_array(out, "processes", c.processes,
            [&](const Process& p) { return to_json(p, with_cmdline); });
  put_array(out, "sockets", c.sockets, [](const Socket& s) { return to_json(s); });
  put_array(out, "flows", c.flows, [](const Flow& f) { return to_json(f); });
  out << ",\n \"stats\": ";
  put_at_depth(out, to_json(c.stats), 1);
  out << "\n}\n";
}

}  // namespace netviz
