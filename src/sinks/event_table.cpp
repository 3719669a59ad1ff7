#include "sinks/event_table.h"

#include <cstdio>

#include "format/kind_names.h"
#include "util/time.h"

namespace netviz {

std::string endpoint_text(const Endpoint& e, Family family) {
  if (family == Family::ipv6) return "[" + e.addr + "]:" + std::to_string(e.port);
  return e.addr + ":" + std::to_string(e.port);
}

static std::string clock_text(WallNs t) {
  // HH:MM:SS.mmm of the RFC 3339 UTC time.
  std::string s = format_time(t);
  return s.size() >= 23 ? s.substr(11, 12) : s;
}

void EventTableSink::line(std::string_view event, WallNs time, int32_t pid,
                          const std::string& comm, const std::string& service,
                          const std::string& proto, const std::string& local,
                          const std::string& remote, const std::string& extra) {
  char buf[560];
  snprintf(buf, sizeof buf, "%-12s %-7.*s %7d %-15.15s %-22.22s %-4s %-28s %-28s %s",
           clock_text(time).c_str(), static_cast<int>(event.size()), event.data(), pid,
           comm.c_str(), service.empty() ? "-" : service.c_str(), proto.c_str(), local.c_str(),
           remote.c_str(), extra.c_str());
  out_ << buf << '\n';
}

void EventTableSink::host(const HostInfo& h, WallNs) {
  out_ << "# " << h.name << " (" << h.kernel << ")";
  if (h.scope_netns) out_ << ", network namespace " << *h.scope_netns;
  out_ << '\n';
  char buf[256];
  snprintf(buf, sizeof buf, "%-12s %-7s %7s %-15s %-22s %-4s %-28s %-28s %s", "TIME(UTC)",
           "EVENT", "PID", "COMM", "SERVICE", "PROTO", "LOCAL", "REMOTE", "DETAILS");
  out_ << buf << '\n';
}

void EventTableSink::flow(std::string_view event, const Flow& f, WallNs time) {
  std::string extra = f.direction == Direction::inbound ? "in" : "out";
  extra += std::string(" ") + to_text(f.attribution);
  char buf[160];
  if (f.duration_ns) {
    snprintf(buf, sizeof buf, " %.3fms tx=%llu rx=%llu", *f.duration_ns / 1e6,
             static_cast<unsigned long long>(f.bytes_sent),
             static_cast<unsigned long long>(f.bytes_received));
    extra += buf;
  }
  if (f.connect_latency_ns) {
    snprintf(buf, sizeof buf, " lat=%.1fus", *f.connect_latency_ns / 1e3);
    extra += buf;
  }
  if (f.proto == Proto::udp && f.packets) extra += " pkts=" + std::to_string(f.packets);
  if (f.state == SockState::failed) extra += " FAILED";
  std::string proto = std::string(to_text(f.proto)) + (f.family == Family::ipv6 ? "6" : "");
  line(event, time, f.pid, f.comm, f.service, proto, endpoint_text(f.local, f.family),
       f.remote ? endpoint_text(*f.remote, f.family) : "-", extra);
}

void EventTableSink::socket(const TraceEvent& e) {
  std::string proto = std::string(to_text(e.proto)) + (e.family == Family::ipv6 ? "6" : "");
  line(event_name(e.kind), e.time, e.pid, e.comm, "", proto, endpoint_text(e.local, e.family), "-",
       "netns " + std::to_string(e.netns));
}

void EventTableSink::process(const TraceEvent& e) {
  std::string extra = "ppid " + std::to_string(e.ppid);
  if (e.kind == EventKind::exit) extra += " status " + std::to_string((e.exit_code >> 8) & 0xff);
  line(event_name(e.kind), e.time, e.pid, e.comm, "", "", "", "", extra);
}

void EventTableSink::stats(const Stats& s, WallNs) {
  auto get = [&](const char* k) {
    auto it = s.counters.find(k);
    return it == s.counters.end() ? 0 : it->second;
  };
  out_ << "# flows " << get("flows_traced") << ", events " << get("events") << ", lost "
       << s.lost_events << '\n';
}

bool EventTableSink::flush() {
  out_.flush();
  return static_cast<bool>(out_);
}

}  // namespace netviz
