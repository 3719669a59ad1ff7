#include "sinks/scan_warnings.h"

#include <string>

namespace netviz {

namespace {

std::string num(int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string who(const UnreadableProcess& p) {
  return "pid " + std::to_string(p.pid) + (p.comm.empty() ? "" : " (" + p.comm + ")");
}

// "network namespace of pid 7 (app) unreadable", or a count and the first few by name:
// without root that is every other user's process.
std::string netns_part(const std::vector<const UnreadableProcess*>& procs, bool as_root) {
  if (procs.size() == 1) return "network namespace of " + who(*procs[0]) + " unreadable";
  constexpr size_t kNamed = 3;
  std::string out = num(static_cast<int64_t>(procs.size()), "process's network namespace",
                        "processes' network namespaces") +
                    " unreadable" + (as_root ? "" : " without root") + " (";
  for (size_t i = 0; i < procs.size() && i < kNamed; ++i)
    out += (i ? ", " : "") + who(*procs[i]);
  if (procs.size() > kNamed) out += ", ...";
  return out + ")";
}

}  // namespace

void write_scan_warnings(std::ostream& err, const ScanResult& r, bool verbose, bool as_root) {
  auto count = [&](const char* key) -> int64_t {
    auto it = r.stats.counters.find(key);
    return it == r.stats.counters.end() ? 0 : it->second;
  };
  std::string msg;
  auto add = [&](const std::string& part) { msg += (msg.empty() ? "" : "; ") + part; };
  if (int64_t n = count("unreadable_pids"))
    add(num(n, "process's", "processes'") + " fds unreadable" + (as_root ? "" : " without root") +
        "; owners may be missing");
  std::vector<const UnreadableProcess*> named, inits;
  for (const auto& p : r.unreadable_netns) (p.pidns_init ? inits : named).push_back(&p);
  if (!named.empty()) add(netns_part(named, as_root));
  if (int64_t n = count("netns_not_entered"))
    add(num(n, "network namespace", "network namespaces") + " read through /proc only (no addresses)");
  if (int64_t n = count("netns_unreadable"))
    add(num(n, "network namespace", "network namespaces") + " not entered; its sockets are missing");
  if (!msg.empty()) err << "netviz-trace: " << msg << "\n";
  if (verbose)
    for (const auto* p : inits)
      err << "netviz-trace: network namespace of " << who(*p)
          << " unreadable; it is the init of a pid namespace\n";
}

}  // namespace netviz
