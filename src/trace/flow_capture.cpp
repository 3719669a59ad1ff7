#include "trace/flow_capture.h"

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
      if (t.state == SockState::listen && t.netns == s.netns && t.local == s.local && t.proto == s.proto) {
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

}  // namespace netviz
