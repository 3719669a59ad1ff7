#include "trace/live_table.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

#include "model/service.h"
#include "scan/scan.h"

namespace netviz {

size_t FlowKeyHash::operator()(const FlowKey& k) const {
  std::hash<std::string> hs;
  size_t h = std::hash<uint64_t>()(k.netns);
  auto mix = [&h](size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
  mix(static_cast<size_t>(k.pid));
  mix(k.sock);
  mix(static_cast<size_t>(k.proto));
  mix(hs(k.local.addr));
  mix(k.local.port);
  mix(hs(k.remote.addr));
  mix(k.remote.port);
  return h;
}

FlowKey flow_key(const Flow& f, bool with_pid) {
  FlowKey k;
  k.netns = f.netns;
  k.pid = with_pid ? f.pid : 0;
  k.proto = f.proto;
  k.local = f.local;
  if (f.remote) k.remote = *f.remote;
  return k;
}

void LiveTable::seed(ScanResult& scan) {
  for (const auto& s : scan.sockets) {
    if (s.owners.empty()) continue;
    if (s.proto == Proto::udp && s.cookie) udp_scan_owner_.emplace(s.cookie, std::make_pair(s.owners.front(), s.netns));
    if (s.state != SockState::listen) continue;
    listeners_.emplace(std::make_pair(s.netns, s.local.port), s.owners.front());
  }
  for (const auto& p : scan.processes) {
    ProcessState& st = processes_[p.pid];
    st.process = p;
    st.had_flows = true;  // the scan lists only socket owners
    st.service = service_of_cgroup(p.cgroup);
  }
  // Taken from the back in chunks, each chunk's pages handed back to the kernel once its
  // flows moved into the table, so the vector and the table never both hold every flow.
  std::vector<Flow>& flows = scan.flows;
  live_.reserve(live_.size() + flows.size());
  const uint64_t base = seq_;
  seq_ += flows.size();
  seeded_from_ = base;
  seeded_to_ = seq_;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  constexpr size_t kChunk = 1024;
  while (!flows.empty()) {
    size_t stop = flows.size() > kChunk ? flows.size() - kChunk : 0;
    for (size_t i = flows.size(); i-- > stop;) {
      Flow& f = flows[i];
      // Unconnected UDP from the scan has no remote: it is keyed like the traced ones.
      FlowKey k = flow_key(f, f.proto == Proto::udp && !f.remote);
      if (live_.count(k)) continue;
      if (live_.size() + closed_.size() >= max_flows_) {
        ++refused_;
        continue;
      }
      Record r{std::move(f), base + i + 1, false};
      if (r.flow.attribution == Attribution::none) r.flow.attribution = Attribution::scan;
      if (r.flow.pid) ++live_by_pid_[r.flow.pid];
      live_.emplace(std::move(k), std::move(r));
    }
    flows.resize(stop);
    // Whole pages past the last remaining element hold no object any more (the vector
    // only shrinks from here): drop them now rather than when the vector goes.
    auto lo = reinterpret_cast<uintptr_t>(flows.data() + flows.size());
    auto hi = reinterpret_cast<uintptr_t>(flows.data() + flows.capacity());
    lo = (lo + page - 1) & ~(page - 1);
    hi &= ~(page - 1);
    if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
  }
  std::vector<Flow>().swap(flows);
}

bool LiveTable::is_listening(uint64_t netns, uint32_t port) const {
  return listeners_.count({netns, port}) > 0;
}

void LiveTable::fill_owner_from_listener(Flow& f, const FlowKey& k) {
  auto it = listeners_.find({k.netns, k.local.port});
  if (it == listeners_.end()) return;
  f.pid = it->second.pid;
  f.comm = it->second.comm;
  f.attribution = Attribution::listener;
}

bool LiveTable::fill_owner_from_scan(Flow& f, uint64_t cookie) {
  auto it = udp_scan_owner_.find(cookie);
  if (!cookie || it == udp_scan_owner_.end()) return false;
  f.pid = it->second.first.pid;
  f.comm = it->second.first.comm;
  f.netns = it->second.second;
  f.attribution = Attribution::scan;
  return true;
}

void LiveTable::note_process(int32_t pid, int32_t ppid, const std::string& comm,
                             bool from_exec, WallNs when) {
  if (pid <= 0) return;
  auto [it, fresh] = processes_.try_emplace(pid);
  Process& p = it->second.process;
  if (from_exec) it->second.exec_at = when;
  if (fresh) {
    p.pid = pid;
    p.ppid = ppid;
    p.comm = comm;
    if (on_new_process) on_new_process(p);
    if (p.comm.empty()) p.comm = comm;
    // Gone before /proc could be read (a short-lived forked child): a child starts in its
    // parent's cgroup.
    if (p.cgroup.empty() && p.ppid)
      if (auto parent = processes_.find(p.ppid); parent != processes_.end())
        p.cgroup = parent->second.process.cgroup;
    it->second.service = service_of_cgroup(p.cgroup);
    return;
  }
  if (from_exec) {
    p.comm = comm;
    it->second.exited = false;
    if (on_new_process) on_new_process(p);  // new exe and cmdline
    p.comm = comm;
    it->second.service = service_of_cgroup(p.cgroup);
  }
  if (ppid && !p.ppid) p.ppid = ppid;
}

LiveTable::Record LiveTable::new_record(const TraceEvent& e) {
  Record r;
  r.seq = ++seq_;
  Flow& f = r.flow;
  f.proto = e.proto;
  f.family = e.family;
  f.local = e.local;
  f.remote = e.remote;
  f.netns = e.netns;
  f.first_seen = e.start ? *e.start : e.time;
  // A record's start can be a later kernel time than the event's own (one seen under a
  // storm wrote last_seen before first_seen): a flow never ends before it starts.
  f.last_seen = std::max(e.time, f.first_seen);
  r.start_known = e.start.has_value();
  return r;
}

LiveTable::Record* LiveTable::find_or_create(const FlowKey& k, const TraceEvent& e,
                                             bool& created) {
  created = false;
  auto it = live_.find(k);
  if (it != live_.end()) return &it->second;
  if (live_.size() + closed_.size() >= max_flows_) {
    ++refused_;
    return nullptr;
  }
  created = true;
  return &live_.emplace(k, new_record(e)).first->second;
}

static Direction direction_of(Attribution how) {
  if (how == Attribution::connect || how == Attribution::udp_send) return Direction::outbound;
  return Direction::inbound;
}

// UDP: the side that sent the first datagram is the client, whoever turned out to own the
// socket; a socket that connect()ed to a peer that spoke first is the server.
static Direction udp_direction(const TraceEvent& e) {
  if (e.inbound || e.attribution == Attribution::udp_recv) return Direction::inbound;
  return Direction::outbound;
}

const Flow* LiveTable::apply(const TraceEvent& e) {
  if (!is_socket_event(e.kind) || e.kind == EventKind::bind || e.kind == EventKind::listen) {
    apply_non_flow(e);
    return nullptr;
  }
  if (seen_closed(e)) return nullptr;

  FlowKey k = event_key(e);
  end_unseen(k, e);
  bool created = false;
  // A capture learns most connections from their close alone: such a flow goes straight to
  // the closed list, without a turn through the live map (an insert and an erase).
  auto live_it = live_.end();
  Record* r = nullptr;
  if (e.kind == EventKind::close) {
    live_it = live_.find(k);
    if (live_it != live_.end()) {
      r = &live_it->second;
    } else if (live_.size() + closed_.size() >= max_flows_) {
      ++refused_;
      return nullptr;
    } else {
      closing_ = new_record(e);
      r = &closing_;
      created = true;
    }
  } else {
    r = find_or_create(k, e, created);
    if (!r) return nullptr;
  }
  Flow& f = r->flow;
  f.last_seen = std::max(f.last_seen, e.time);
  int32_t old_pid = created ? 0 : f.pid;
  set_owner(*r, k, e, created);
  apply_open(f, e, created);
  if (f.pid != old_pid) move_owner(f, old_pid, e.ppid);
  // connect and accept read comm in the process at that moment: a name set since the exec
  // (prctl PR_SET_NAME, pthread_setname_np on the main thread) shows here first.
  if ((e.kind == EventKind::connect || e.kind == EventKind::accept) && e.pid == f.pid &&
      !e.comm.empty())
    if (auto it = processes_.find(f.pid); it != processes_.end()) it->second.process.comm = e.comm;

  if (e.kind != EventKind::close) return &f;
  return close_record(*r, e, live_it);
}

// Process events and listen: they change the processes and listeners, never a flow.
void LiveTable::apply_non_flow(const TraceEvent& e) {
  switch (e.kind) {
    case EventKind::exec: {
      note_process(e.pid, e.ppid, e.comm, true, e.time);
      // Only this process's flows: one still open from an earlier holder of the pid keeps
      // its name.
      auto p = processes_.find(e.pid);
      WallNs born = p != processes_.end() ? p->second.started : 0;
      if (live_by_pid_.count(e.pid))
        for (auto& [k, r] : live_)
          if (r.flow.pid == e.pid && r.flow.first_seen >= born) r.flow.comm = e.comm;
      return;
    }
    case EventKind::fork:
      // A fork always makes a new process: an exited one held under this pid is another
      // process, whose details must not become the new one's (nor its flows the new one's).
      if (auto it = processes_.find(e.pid); it != processes_.end() && it->second.exited) {
        processes_.erase(it);
        ++pids_reused_;
      }
      note_process(e.pid, e.ppid, e.comm, false);
      if (auto it = processes_.find(e.pid); it != processes_.end()) it->second.started = e.time;
      return;
    case EventKind::exit:
      if (auto it = processes_.find(e.pid); it != processes_.end()) {
        if (it->second.had_flows)
          it->second.exited = true;
        else
          processes_.erase(it);
      }
      forget_if_done(e.pid);
      return;
    case EventKind::listen: {
      Owner o{e.pid, e.comm, -1};
      listeners_[{e.netns, e.local.port}] = o;
      note_process(e.pid, e.ppid, e.comm, false);
      Socket s;
      s.proto = e.proto;
      s.family = e.family;
      s.local = e.local;
      s.state = SockState::listen;
      s.netns = e.netns;
      s.owners.push_back(o);
      if (!streaming_) traced_listeners_.push_back(std::move(s));
      return;
    }
    default:
      return;
  }
}

FlowKey LiveTable::event_key(const TraceEvent& e) {
  FlowKey k;
  if ((e.proto == Proto::udp || e.proto == Proto::unix) && e.sk) {
    k.sock = e.sk;
  } else {
    k.netns = e.netns;
    k.pid = e.kind == EventKind::udp ? e.pid : 0;
  }
  k.proto = e.proto;
  k.local = e.local;
  k.remote = e.remote;
  return k;
}

// Owner, direction and start. Events win over the scan and over earlier guesses; a close
// keeps what connect/accept already said (and a comm updated by exec).
void LiveTable::set_owner(Record& r, const FlowKey& k, const TraceEvent& e, bool created) {
  Flow& f = r.flow;
  bool owner_from_event = e.pid != 0 && (created || e.kind != EventKind::close ||
                                         f.attribution == Attribution::scan || f.pid == 0 ||
                                         e.attribution == Attribution::handoff);
  if (owner_from_event) {
    f.pid = e.pid;
    f.comm = e.comm;
    f.attribution = e.attribution;
    if (e.attribution == Attribution::handoff && e.prev_pid)
      f.handed_from = Owner{e.prev_pid, e.prev_comm, -1};
    if (e.peer) f.peer = e.peer;
    if (e.netns) f.netns = e.netns;
  }
  if (owner_from_event && created && e.kind == EventKind::close) {
    // A capture's first word of a connection can be its close: if the owner exec'd while the
    // connection was open, the flow takes the new name, as a live flow does at the exec.
    auto p = processes_.find(e.pid);
    if (p != processes_.end() && p->second.exec_at > f.first_seen &&
        p->second.started <= f.first_seen)
      f.comm = p->second.process.comm;
  }
  if (created && e.pid == 0) {
    f.attribution = Attribution::none;
    if (!fill_owner_from_scan(f, k.sock)) fill_owner_from_listener(f, k);
    if (f.attribution == Attribution::none) f.attribution = Attribution::unknown;
  }
  if (f.direction == Direction::none || owner_from_event) {
    Attribution how = f.attribution == Attribution::handoff ? e.prev_attribution : f.attribution;
    if (e.proto == Proto::udp)
      f.direction = udp_direction(e);
    else if (how == Attribution::connect || how == Attribution::accept)
      f.direction = direction_of(how);
    else
      f.direction = is_listening(f.netns, k.local.port) ? Direction::inbound : Direction::outbound;
  }
  if (r.start_known == false && e.start && f.attribution != Attribution::scan) {
    f.first_seen = *e.start;
    f.last_seen = std::max(f.last_seen, f.first_seen);
    r.start_known = true;
  }
}

// What connect, accept and a new UDP flow's first datagram say.
void LiveTable::apply_open(Flow& f, const TraceEvent& e, bool created) {
  switch (e.kind) {
    case EventKind::connect:
      if (e.connect_latency_ns) f.connect_latency_ns = e.connect_latency_ns;
      f.state = e.proto == Proto::tcp ? SockState::established : SockState::none;
      break;
    case EventKind::accept:
      f.state = SockState::established;
      break;
    case EventKind::udp:
      if (created) {
        f.packets = 1;
        f.bytes_sent = e.bytes_sent;
        f.bytes_received = e.bytes_received;
      }
      break;
    default:
      break;
  }
}

// The flow changed owner (or got its first): the live count per pid and the process list.
void LiveTable::move_owner(Flow& f, int32_t old_pid, int32_t ppid) {
  if (old_pid) {
    auto it = live_by_pid_.find(old_pid);
    if (it != live_by_pid_.end() && --it->second == 0) live_by_pid_.erase(it);
  }
  if (f.pid) ++live_by_pid_[f.pid];
  note_process(f.pid, ppid, f.comm, false);
  f.service.clear();
  if (auto it = processes_.find(f.pid); it != processes_.end()) {
    it->second.had_flows = true;
    f.service = it->second.service;
  }
}

// A close: final counters and state, then the flow moves to the closed list.
const Flow* LiveTable::close_record(
    Record& r, const TraceEvent& e,
    std::unordered_map<FlowKey, Record, FlowKeyHash>::iterator live_it) {
  Flow& f = r.flow;
  f.bytes_sent = std::max(f.bytes_sent, e.bytes_sent);
  f.bytes_received = std::max(f.bytes_received, e.bytes_received);
  if (e.proto == Proto::udp) f.packets = std::max(f.packets, e.packets);
  if (e.connect_latency_ns && !f.connect_latency_ns) f.connect_latency_ns = e.connect_latency_ns;
  f.state = e.failed ? SockState::failed : SockState::closed;
  if (r.start_known) f.duration_ns = f.last_seen - f.first_seen;
  int32_t pid = f.pid;
  if (pid) {
    auto it = live_by_pid_.find(pid);
    if (it != live_by_pid_.end() && --it->second == 0) live_by_pid_.erase(it);
  }
  closed_.push_back(f);
  const Flow* out = &f;  // closing_.flow stays until the next call
  if (live_it != live_.end()) {
    last_closed_ = std::move(f);
    live_.erase(live_it);  // nothing was inserted since the find
    out = &last_closed_;
  }
  forget_if_done(pid);
  return out;
}

void LiveTable::forget_if_done(int32_t pid) {
  if (!streaming_ || !pid || live_by_pid_.count(pid)) return;
  if (auto it = processes_.find(pid); it != processes_.end() && it->second.exited)
    processes_.erase(it);
}

void LiveTable::end_unseen(const FlowKey& k, const TraceEvent& e) {
  // A close counts too: in a capture it is often the first word of its connection.
  if ((e.kind != EventKind::connect && e.kind != EventKind::accept &&
       e.kind != EventKind::close) ||
      e.proto != Proto::tcp || !e.start)
    return;
  auto it = live_.find(k);
  if (it == live_.end()) return;
  Record& r = it->second;
  // Only a traced connection has a kernel start to compare; the same start is the same
  // connection reported again.
  if (!r.start_known || r.flow.attribution == Attribution::scan || r.flow.first_seen == *e.start) return;
  end_record(it);
}

void LiveTable::end_record(std::unordered_map<FlowKey, Record, FlowKeyHash>::iterator it) {
  Flow& f = it->second.flow;
  f.state = SockState::closed;  // when is unknown: no duration
  if (f.pid) {
    auto p = live_by_pid_.find(f.pid);
    if (p != live_by_pid_.end() && --p->second == 0) live_by_pid_.erase(p);
  }
  ++closes_not_reported_;
  if (on_unseen_close) on_unseen_close(f);
  int32_t pid = f.pid;
  closed_.push_back(f);
  live_.erase(it);
  forget_if_done(pid);
}

std::string LiveTable::tuple_text(const Endpoint& local, const Endpoint& remote) {
  return local.addr + "|" + std::to_string(local.port) + "|" + remote.addr + "|" +
         std::to_string(remote.port);
}

void LiveTable::end_absent(uint64_t netns, const std::set<std::string>& alive, WallNs before) {
  for (auto it = live_.begin(); it != live_.end();) {
    const Flow& f = it->second.flow;
    auto next = std::next(it);
    if (f.proto == Proto::tcp && f.netns == netns && f.remote && f.first_seen < before &&
        f.last_seen < before && !alive.count(tuple_text(f.local, *f.remote))) {
      end_record(it);
    }
    it = next;
  }
}

bool LiveTable::seen_closed(const TraceEvent& e) {
  if (e.proto != Proto::tcp || !e.sk) return false;
  if (e.kind != EventKind::connect && e.kind != EventKind::accept && e.kind != EventKind::close)
    return false;
  WallNs start = e.start.value_or(0);
  // A repeat carries the same start; a repeated close whose first copy took the kernel's
  // record of the socket carries none. A new connection on a reused sk has a new start.
  auto seen = closed_start_by_sk_.find(e.sk);
  if (seen && (*seen == start || !e.start)) {
    ++duplicates_;
    return true;
  }
  if (e.kind == EventKind::close) closed_start_by_sk_.put(e.sk, start);
  return false;
}

const Flow* LiveTable::apply(const UdpCount& c) {
  TraceEvent e;
  e.kind = EventKind::udp;
  e.time = c.last_seen;
  e.start = c.first_seen;
  e.proto = Proto::udp;
  e.family = c.family;
  e.local = c.key.local;
  e.remote = c.key.remote;
  e.netns = c.netns;
  e.sk = c.key.sock;
  e.pid = c.pid;
  e.comm = c.comm;
  e.attribution = c.attribution;
  bool created = false;
  Record* r = find_or_create(c.key, e, created);
  if (!r) return nullptr;
  Flow& f = r->flow;
  if (created) f.direction = udp_direction(e);
  // The owner, once known: a flow first heard before its socket's owner used it in process
  // context (pid 0) takes it now; one the scan attributed keeps the scan's.
  if (created || (f.pid == 0 && c.pid)) {
    int32_t old_pid = f.pid;
    f.pid = c.pid;
    f.comm = c.comm;
    f.netns = c.netns;
    f.attribution = c.attribution;
    if (!f.pid && !fill_owner_from_scan(f, c.key.sock)) f.attribution = Attribution::unknown;
    if (f.pid && f.pid != old_pid) {
      ++live_by_pid_[f.pid];
      note_process(f.pid, 0, f.comm, false);
      if (auto it = processes_.find(f.pid); it != processes_.end()) {
        it->second.had_flows = true;
        f.service = it->second.service;
      }
    }
  }
  f.first_seen = std::min(f.first_seen, c.first_seen);
  f.last_seen = std::max(f.last_seen, c.last_seen);
  f.packets = std::max<uint64_t>(f.packets, c.sent + c.received);
  f.bytes_sent = std::max(f.bytes_sent, c.bytes_sent);
  f.bytes_received = std::max(f.bytes_received, c.bytes_received);
  return &f;
}

const Flow* LiveTable::update_counts(const FlowKey& k, WallNs last_seen, uint64_t packets,
                                     uint64_t bytes_sent, uint64_t bytes_received) {
  auto it = live_.find(k);
  if (it == live_.end()) return nullptr;
  Flow& f = it->second.flow;
  f.last_seen = std::max(f.last_seen, last_seen);
  f.packets = std::max(f.packets, packets);
  f.bytes_sent = std::max(f.bytes_sent, bytes_sent);
  f.bytes_received = std::max(f.bytes_received, bytes_received);
  return &f;
}

const Flow* LiveTable::set_peer(const FlowKey& k, const Owner& peer) {
  auto it = live_.find(k);
  if (it == live_.end()) return nullptr;
  it->second.flow.peer = peer;
  return &it->second.flow;
}

std::vector<const Flow*> LiveTable::seeded_live() const {
  std::vector<std::pair<uint64_t, const Flow*>> seeded;
  for (const auto& [k, r] : live_)
    if (r.seq > seeded_from_ && r.seq <= seeded_to_) seeded.emplace_back(r.seq, &r.flow);
  std::sort(seeded.begin(), seeded.end());
  std::vector<const Flow*> out;
  out.reserve(seeded.size());
  for (const auto& [seq, f] : seeded) out.push_back(f);
  return out;
}

void LiveTable::for_each_flow(const std::function<void(const Flow&)>& fn) const {
  for (const auto& [k, r] : live_) fn(r.flow);
  closed_.for_each(fn);
}

std::vector<Flow> LiveTable::flows() const {
  std::vector<std::pair<uint64_t, const Flow*>> live;
  live.reserve(live_.size());
  for (const auto& [k, r] : live_) live.emplace_back(r.seq, &r.flow);
  std::vector<Flow> out;
  out.reserve(closed_.size() + live.size());
  closed_.for_each([&out](const Flow& f) { out.push_back(f); });
  for (const auto& [seq, f] : live) out.push_back(*f);
  std::stable_sort(out.begin(), out.end(),
                   [](const Flow& a, const Flow& b) { return a.first_seen < b.first_seen; });
  return out;
}

}  // namespace netviz
