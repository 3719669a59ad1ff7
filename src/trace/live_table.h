#pragma once
// The live socket→process table: flows seeded by the scan, then driven by traced events.
// Events win over scan entries for the same socket. Closed flows are kept until the caller
// prunes them (after writing them out); the table is bounded and counts what it refused.
#include <cstdint>
#include <utility>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/capture.h"
#include "model/event.h"
#include "trace/closed_flows.h"
#include "util/recent_map.h"

namespace netviz {

struct ScanResult;

// Identity of a flow: the socket tuple in its namespace; a scanned unconnected UDP socket
// adds the pid; a traced UDP flow is its socket (the kernel's cookie) and tuple, whoever
// owns it, so a datagram heard before its owner was known joins the same flow; a traced unix
// connection is its client socket (cookie).
struct FlowKey {
  uint64_t netns = 0;
  int32_t pid = 0;
  uint64_t sock = 0;
  Proto proto = Proto::none;
  Endpoint local;
  Endpoint remote;
  bool operator==(const FlowKey&) const = default;
};

struct FlowKeyHash {
  size_t operator()(const FlowKey& k) const;
};

// Datagram counters of one unconnected UDP flow, read from the kernel map.
struct UdpCount {
  FlowKey key;  // sock (cookie) set
  int32_t pid = 0;  // 0: no process seen using the socket
  uint64_t netns = 0;
  Family family = Family::none;
  std::string comm;
  Attribution attribution = Attribution::none;  // udp_send / udp_recv: how it was first seen
  WallNs first_seen = 0;
  WallNs last_seen = 0;
  uint64_t sent = 0;      // datagrams
  uint64_t received = 0;
  uint64_t bytes_sent = 0;  // payload
  uint64_t bytes_received = 0;
};

class LiveTable {
 public:
  explicit LiveTable(size_t max_flows = 1'000'000) : max_flows_(max_flows) {}

  // Scan flows become live flows ("scan"); LISTEN sockets give listener owners. The scan's
  // flows are moved into the table (scan.flows is left empty): with tens of thousands of
  // sockets a copy held next to the original would set the tracer's peak memory.
  void seed(ScanResult& scan);
  // The seeded flows still open, in scan order, as the events that came meanwhile left them:
  // a connection the scan caught while it was closing carries its traced owner, not none.
  std::vector<const Flow*> seeded_live() const;

  // Applies one event. Returns the flow it created or changed (valid until the next call),
  // nullptr for events that change no flow (bind, listen, process events, filtered).
  const Flow* apply(const TraceEvent& e);
  const Flow* apply(const UdpCount& c);
  // The key of the flow an event is about.
  static FlowKey event_key(const TraceEvent& e);
  // Kernel counters of a live flow (connected UDP still open at the end); nullptr: no such flow.
  const Flow* update_counts(const FlowKey& k, WallNs last_seen, uint64_t packets,
                            uint64_t bytes_sent, uint64_t bytes_received);
  // The process at the other end of a live unix flow, when it turns out to be another than
  // the one first known (a server that handed the connection on); nullptr: no such flow.
  const Flow* set_peer(const FlowKey& k, const Owner& peer);

  // Every flow kept: live ones and closed ones not yet pruned, in first-seen order.
  std::vector<Flow> flows() const;
  // Every flow held, live and closed, without copying.
  void for_each_flow(const std::function<void(const Flow&)>& fn) const;
  void prune_closed() { closed_.clear(); }
  // Streaming: nothing is written at the end, so a process that exited is forgotten once it
  // has no open flow, and traced listeners are not collected (a capture needs both).
  void set_streaming(bool on) { streaming_ = on; }

  // Listening sockets learnt from listen() events that the scan did not have.
  const std::vector<Socket>& traced_listeners() const { return traced_listeners_; }

  struct ProcessState {
    Process process;
    bool exited = false;
    bool had_flows = false;  // kept after exit only then: the table stays bounded under churn
    WallNs exec_at = 0;      // the last exec seen while tracing
    // Its fork, when seen while tracing (0: it is older). A pid the kernel hands on names a
    // new process from here: flows that started earlier are another process's.
    WallNs started = 0;
    std::string service;  // service_of_cgroup(process.cgroup), kept for the flows it owns
  };
  const std::map<int32_t, ProcessState>& processes() const { return processes_; }
  // Called the first time a pid shows up in a flow (the tracer reads /proc there).
  std::function<void(Process&)> on_new_process;
  // Called with each flow ended because its close never came (see closes_not_reported).
  std::function<void(const Flow&)> on_unseen_close;

  size_t live_count() const { return live_.size(); }
  size_t closed_count() const { return closed_.size(); }
  uint64_t refused() const { return refused_; }  // flows not kept: table full

 private:
  struct Record {
    Flow flow;
    uint64_t seq = 0;
    bool start_known = false;  // first_seen is the real start, not when we first saw it
  };
  Record new_record(const TraceEvent& e);
  Record closing_;  // a flow whose first event is its close, on its way to closed_
  Record* find_or_create(const FlowKey& k, const TraceEvent& e, bool& created);
  // The steps of apply(TraceEvent).
  void apply_non_flow(const TraceEvent& e);
  void set_owner(Record& r, const FlowKey& k, const TraceEvent& e, bool created);
  static void apply_open(Flow& f, const TraceEvent& e, bool created);
  void move_owner(Flow& f, int32_t old_pid, int32_t ppid);
  const Flow* close_record(Record& r, const TraceEvent& e,
                           std::unordered_map<FlowKey, Record, FlowKeyHash>::iterator live_it);
  void note_process(int32_t pid, int32_t ppid, const std::string& comm, bool from_exec,
                    WallNs when = 0);
  void fill_owner_from_listener(Flow& f, const FlowKey& k);
  // A UDP socket older than the trace: its owner from the scan, by cookie.
  bool fill_owner_from_scan(Flow& f, uint64_t cookie);
  std::unordered_map<uint64_t, std::pair<Owner, uint64_t>> udp_scan_owner_;  // cookie → owner, netns
  bool is_listening(uint64_t netns, uint32_t port) const;

  void forget_if_done(int32_t pid);

  size_t max_flows_;
  bool streaming_ = false;
  uint64_t seq_ = 0;
  uint64_t seeded_from_ = 0, seeded_to_ = 0;  // the scan's records: seq in (from, to]
  uint64_t refused_ = 0;
  std::unordered_map<FlowKey, Record, FlowKeyHash> live_;
  // A capture keeps every closed flow until the end.
  ClosedFlows closed_;
  Flow last_closed_;  // what apply returns for a flow it just closed out of live_
  std::map<std::pair<uint64_t, uint32_t>, Owner> listeners_;  // (netns, port)
  std::vector<Socket> traced_listeners_;
  std::map<int32_t, ProcessState> processes_;
  std::unordered_map<int32_t, uint32_t> live_by_pid_;
  // TCP connections already closed, by kernel identity (sk, start): the hand-over between
  // the two state programs (bpf/tcp_state.bpf.c) can, rarely, report a transition twice, and a
  // connect repeated after its close would reopen the flow.
  bool seen_closed(const TraceEvent& e);
  // A repeat comes within the same softirq batch (dozens of closes), so a small map that
  // stays in the L2 cache is enough (docs/benchmarks.md, "Sizes chosen by measurement").
  // Value 0: start unknown.
  RecentMap<WallNs> closed_start_by_sk_{4096};
  uint64_t duplicates_ = 0;
  uint64_t pids_reused_ = 0;

  // A TCP connection whose close the kernel never reported, ended here instead: at a new
  // connection on its 4-tuple (another kernel start), or by end_absent.
  void end_unseen(const FlowKey& k, const TraceEvent& e);
  void end_record(std::unordered_map<FlowKey, Record, FlowKeyHash>::iterator it);
  uint64_t closes_not_reported_ = 0;

 public:
  uint64_t duplicates() const { return duplicates_; }  // repeated kernel reports dropped
  // Forks that took the pid of an exited process the table still held.
  uint64_t pids_reused() const { return pids_reused_; }
  uint64_t closes_not_reported() const { return closes_not_reported_; }

  // TCP flows of namespace netns still open here, seen before `before`, whose 4-tuple the
  // kernel no longer holds open (alive: tuple_text keys of its non-TIME_WAIT sockets) are
  // ended (no duration) and counted in closes_not_reported.
  void end_absent(uint64_t netns, const std::set<std::string>& alive, WallNs before);
  static std::string tuple_text(const Endpoint& local, const Endpoint& remote);
};

FlowKey flow_key(const Flow& f, bool with_pid = false);

}  // namespace netviz
