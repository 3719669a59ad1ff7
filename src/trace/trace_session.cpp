#include "trace/trace_session.h"

#include <linux/capability.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

#include "format/kind_names.h"
#include "scan/bpf_iter_sock_files.h"
#include "scan/conntrack.h"
#include "scan/nat_watch.h"
#include "scan/netns.h"
#include "scan/process_info.h"
#include "scan/sock_diag.h"
#include "scan/scan.h"
#include "sinks/event_jsonl.h"
#include "sinks/event_table.h"
#include "sinks/capture_document.h"
#include "trace/flow_capture.h"
#include "sinks/tee_sink.h"
#include "fleet/publish_sink.h"
#include "trace/trace_publish.h"
#include "trace/bpf_loader.h"
#include "trace/decoder.h"
#include "trace/live_table.h"
#include "trace/metrics_endpoint.h"
#include "trace/trace_metrics.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/privileges.h"
#include "util/time.h"

namespace netviz {

// `netviz-trace | head -1` with nothing more to write would never see EPIPE; a pipe whose
// reader has gone polls POLLERR, so the loop ends as promptly as it would on a write.
static bool stdout_reader_gone() {
  pollfd p{STDOUT_FILENO, 0, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP)) != 0;
}


namespace {

// How often the loop reads conntrack's new entries: often enough that the receive buffer
// holds what a storm makes meanwhile, rarely enough to cost nothing per connection.
constexpr auto kNatPoll = std::chrono::milliseconds(10);
// A translation is needed while a flow of its tuple is held (its lines, or the capture at the
// end); one no flow holds is dropped once this old (its flow's events have long come), and
// the table never holds more than one per flow the table can hold.
constexpr auto kNatKeep = std::chrono::seconds(30);
constexpr auto kNatSweep = std::chrono::seconds(5);
constexpr size_t kNatMaxEntries = 1'000'000;
// How often the NatWatch helper re-checks the namespaces not followed yet for NAT rules.
constexpr auto kNatRecheck = std::chrono::milliseconds(1000);

volatile sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

void install_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: poll returns EINTR at once
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a closed pipe shows as a failed write instead
}

// Resident and peak resident memory (VmRSS, VmHWM in kB) and the heap in use (mallinfo2),
// at each step of the start-up: --verbose prints them, so memory can be pinned to a step.
struct MemPoint {
  std::string step;
  long rss_kb = 0, hwm_kb = 0;
  size_t heap_kb = 0;
};

MemPoint mem_point(const char* step) {
  MemPoint m;
  m.step = step;
  if (FILE* f = fopen("/proc/self/status", "re")) {
    char line[256];
    while (fgets(line, sizeof line, f)) {
      if (!strncmp(line, "VmRSS:", 6)) m.rss_kb = atol(line + 6);
      if (!strncmp(line, "VmHWM:", 6)) m.hwm_kb = atol(line + 6);
    }
    fclose(f);
  }
  m.heap_kb = mallinfo2().uordblks / 1024;
  return m;
}

bool socket_event_matches(const Filter& f, const TraceEvent& e) {
  Socket s;
  s.proto = e.proto;
  s.family = e.family;
  s.local = e.local;
  s.state = e.kind == EventKind::listen ? SockState::listen : SockState::unconn;
  s.netns = e.netns;
  s.owners.push_back({e.pid, e.comm, -1});
  Filter g = f;
  g.listening = false;
  return g.matches(s);
}

bool process_event_matches(const Filter& f, const TraceEvent& e) {
  if (!f.pids.empty() && std::find(f.pids.begin(), f.pids.end(), e.pid) == f.pids.end())
    return false;
  if (!f.comms.empty() && std::find(f.comms.begin(), f.comms.end(), e.comm) == f.comms.end())
    return false;
  if (f.netns && e.netns && *f.netns != e.netns) return false;
  return true;
}

class Session {
 public:
  Session(const TraceOptions& o, const TraceFeatures& feat, std::ostream& out, std::ostream& err,
          bool out_tty, bool err_tty)
      : opts_(o), features_(feat), out_(out), err_(err), out_tty_(out_tty), err_tty_(err_tty) {}

  int run();
  std::function<void(std::ostream&)> on_tracing_;

 private:
  // The pipeline, in order: start returns false when the stream's reader went away while
  // the scan's flows were written, loop when it went away while tracing.
  bool start();
  bool loop();
  void drain();
  size_t drain_publisher();
  void report();
  // Steps of start.
  ScanOptions set_filters();
  std::vector<nv_event> load_and_scan(const ScanOptions& so);
  void open_output();
  bool seed(std::vector<nv_event>& pending);
  void announce();
  // Steps of drain and report.
  void read_kernel_counters();
  Stats collect_stats() const;

  void handle(const nv_event& raw);
  void handle(const TraceEvent& e);
  void emit_flow(const char* event, const Flow* f, WallNs time);
  void progress(bool final, uint64_t lost);
  void reconcile_tcp();
  using Holders = std::unordered_map<uint64_t, std::vector<SocketHolder>>;
  Holders socket_holders();
  void open_connections(const Holders& holders);
  void sweep_unix(bool at_end);
  // Unix connections in the table by cookie, with what was last reported of each.
  struct UnixAnnounced {
    uint64_t bytes = 0;
    int32_t peer_pid = 0;
  };
  std::unordered_map<uint64_t, UnixAnnounced> unix_announced_;
  uint64_t unix_counts_missing_ = 0;  // connections whose byte counts the kernel map lost
  std::chrono::steady_clock::time_point last_unix_sweep_{};
  std::unique_ptr<SockFileIter> holders_iter_;
  uint64_t handoffs_at_end_ = 0;

  const TraceOptions& opts_;
  const TraceFeatures& features_;
  std::ostream& out_;
  std::ostream& err_;
  bool out_tty_, err_tty_;
  Filter filter_;
  Decoder decoder_;
  LiveTable table_;
  std::unique_ptr<Publisher> publisher_;  // --publish; fed through sink_
  std::unique_ptr<EventSink> sink_;
  std::unique_ptr<TraceMetrics> metrics_;     // --metrics; updated from this thread only
  std::unique_ptr<MetricsEndpoint> endpoint_; // declared after metrics_: goes first
  std::string reconcile_note_;
  std::string holders_note_;
  uint64_t events_ = 0;
  uint64_t undecodable_ = 0;
  uint64_t flows_traced_ = 0;
  uint64_t udp_announced_ = 0;  // NV_EV_UDP events: one per new kernel counter entry
  std::vector<MemPoint> mem_;
  bool sink_broken_ = false;
  int proc_fd_ = -1;
  std::chrono::steady_clock::time_point started_;
  KernelFilters kf_;
  std::unique_ptr<TraceLoader> loader_;
  std::function<void(const nv_event&)> on_raw_ = [this](const nv_event& r) { handle(r); };
  ScanResult scan_;
  // NAT translations: the scan's dump of each namespace, then the entries conntrack makes,
  // read every kNatPoll in the loop (off the event path) and applied to flows as written.
  NatBook nat_;
  // Namespaces whose NAT rules (or which themselves) appeared after the start; none with
  // --no-nat or without the privileges to enter namespaces.
  std::unique_ptr<NatWatch> nat_watch_;
  std::string nat_watch_note_;
  void start_nat_watch();
  void poll_nat() {
    if (nat_watch_) nat_watch_->poll(nat_);
    nat_.poll();
  }
  std::chrono::steady_clock::time_point nat_polled_{};
  std::chrono::steady_clock::time_point nat_swept_{};
  void sweep_nat(std::chrono::steady_clock::time_point now);
  size_t scan_flow_count_ = 0;
  size_t udp_flows_ = 0;
  bool capture_mode_ = false;
};

// The stream's first line of a traced connection or UDP flow.
static bool opens_flow(const char* event) {
  return !std::strcmp(event, "connect") || !std::strcmp(event, "accept") || !std::strcmp(event, "udp");
}

void Session::emit_flow(const char* event, const Flow* f, WallNs time) {
  if (!f || !sink_ || !filter_.matches(*f)) return;
  // A stream's first line of a connection reads its namespace's new conntrack entries
  // first: the entry was made when the connection's first packet passed, before this line.
  if (!capture_mode_ && f->remote && opens_flow(event)) nat_.poll(f->netns, time);
  if (auto nat = nat_.find(*f)) {
    Flow g = *f;
    g.nat = std::move(nat);
    return sink_->flow(event, g, time);
  }
  sink_->flow(event, *f, time);
}

void Session::handle(const TraceEvent& e) {
  ++events_;
  if (e.kind == EventKind::udp) ++udp_announced_;
  size_t before = table_.live_count() + table_.closed_count();
  const Flow* f = table_.apply(e);
  if (table_.live_count() + table_.closed_count() > before) {
    ++flows_traced_;
    if (metrics_ && f && filter_.matches(*f)) metrics_->flow(*f);
  }
  if (!sink_) return;
  switch (e.kind) {
    case EventKind::connect:
    case EventKind::accept:
    case EventKind::close:
    case EventKind::udp:
      emit_flow(event_name(e.kind), f, e.time);
      break;
    case EventKind::bind:
    case EventKind::listen:
      if (socket_event_matches(filter_, e)) sink_->socket(e);
      break;
    case EventKind::exec:
    case EventKind::exit:
      if (process_event_matches(filter_, e)) sink_->process(e);
      break;
    case EventKind::fork:
      break;
  }
}

void Session::handle(const nv_event& raw) {
  TraceEvent e;
  try {
    e = decoder_.decode(raw);
  } catch (const Error&) {
    ++undecodable_;
    return;
  }
  handle(e);
}


// At the end, TCP flows still open here are checked against the kernel's own list of the
// tracer's network namespace (an unprivileged sock_diag dump): one the kernel no longer
// holds open ended without its close reaching us, and is ended and counted instead of
// being written as still open. Other namespaces would need privileges given up by now.
void Session::reconcile_tcp() {
  uint64_t own = own_netns(opts_.proc_root);
  if (!own) return;
  WallNs before = wall_now_ns();
  std::vector<Socket> socks;
  for (int family : {AF_INET, AF_INET6}) {
    std::string why = sock_diag_inet(IPPROTO_TCP, family, own, socks);
    if (!why.empty()) {
      reconcile_note_ = "open TCP flows not checked against the kernel: " + why;
      return;
    }
  }
  std::set<std::string> alive;
  for (const auto& s : socks)
    if (s.remote && s.state != SockState::time_wait)
      alive.insert(LiveTable::tuple_text(s.local, *s.remote));
  // Closes from before the dump may still wait in the ring buffer.
  while (loader_->poll(0, on_raw_) > 0) {
  }
  table_.end_absent(own, alive, before);
}

// Who holds each socket now, by kernel identity (the task_file iterator): the owner of a
// connection handed on (a forked backend) that has not closed yet, which no close told us.
Session::Holders Session::socket_holders() {
  Holders out;
  if (!holders_iter_) return out;
  try {
    holders_iter_->read_each([&](const nv_snap_sock_file* r, size_t n) {
      for (const auto* end = r + n; r != end; ++r)
        if (r->sk) out[r->sk].push_back({static_cast<int32_t>(r->tgid), comm_text(r->comm, NV_COMM_LEN)});
    });
  } catch (const BpfIterError& e) {
    holders_note_ = std::string("owners of open connections not checked at the end: ") + e.what();
  }
  return out;
}

// TCP connections still open at the end, from their owner records. A capture got no connect
// or accept event for them (KernelFilters::quiet_opens): each is passed as the record that
// event would have been, with the kernel's filters applied as it would have. Either way, a
// connection whose recorded owner no longer holds it goes to the process that does
// (attribution handoff), as the snapshot would show it; a stream gets an update line.
void Session::open_connections(const Holders& holders) {
  timespec mono{};
  clock_gettime(CLOCK_MONOTONIC, &mono);
  const uint64_t now = static_cast<uint64_t>(mono.tv_sec) * 1'000'000'000 + mono.tv_nsec;
  for (const auto& [sk, si] : loader_->open_tcp_records()) {
    const nv_tuple& t = si.t;
    if ((kf_.pid && si.pid != kf_.pid) || (kf_.netns && t.netns != kf_.netns) ||
        kf_.port_filtered(t.lport, t.rport))
      continue;
    const SocketHolder* holder = nullptr;
    const int32_t owner = static_cast<int32_t>(si.pid);  // clang 14 lambdas can't capture bindings
    if (auto h = holders.find(sk); h != holders.end() && !h->second.empty() &&
                                   std::none_of(h->second.begin(), h->second.end(),
                                                [owner](const auto& o) { return o.first == owner; })) {
      holder = &h->second.front();
      ++handoffs_at_end_;
    }
    if (!kf_.quiet_opens && !holder) continue;  // streamed when it opened, and unchanged
    TraceEvent e;
    try {
      e = decoder_.open_connection(sk, si, now, holder);
    } catch (const Error&) {
      ++undecodable_;
      continue;
    }
    if (kf_.quiet_opens)
      handle(e);
    else
      emit_flow("update", table_.apply(e), e.time);
  }
}

void Session::progress(bool final, uint64_t lost) {
  if (!err_tty_ || !opts_.duration) return;
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  char buf[160];
  snprintf(buf, sizeof buf, "\rnetviz-trace: %.0fs/%.0fs, %llu flows, %llu events, %llu lost",
           elapsed, *opts_.duration, static_cast<unsigned long long>(flows_traced_),
           static_cast<unsigned long long>(events_), static_cast<unsigned long long>(lost));
  err_ << buf << "\033[K";
  if (final) err_ << '\n';
  err_.flush();
}

int Session::run() {
  if (!start()) return 0;
  if (!loop()) return 0;  // the reader went away: end quietly
  drain();
  report();
  return 0;
}

// Hooks loaded and attached, the host scanned, the table seeded with the scan and with what
// the hooks saw meanwhile, the output open and the "tracing" line written.
bool Session::start() {
  ScanOptions so = set_filters();
  install_signals();
  std::vector<nv_event> pending = load_and_scan(so);
  // Loading (kernel BTF for CO-RE) and the scan freed tens of MB; give them back before the
  // long run instead of carrying them as resident memory.
  malloc_trim(0);
  open_output();
  if (!seed(pending)) return false;
  announce();
  return true;
}

// The options as the session's filter, the scan's options and the kernel's filters.
ScanOptions Session::set_filters() {
  filter_ = opts_.filter;
  ScanOptions so;
  so.proc_root = opts_.proc_root;
  so.allow_bpf = !opts_.no_bpf;
  so.with_cmdline = !opts_.no_cmdline;
  if (!opts_.no_nat) {
    so.nat = &nat_;
    so.nat_follow = true;
  }
  if (!opts_.netns.empty()) {
    uint64_t ino = resolve_netns(opts_.netns, opts_.proc_root);
    filter_.netns = ino;
    so.only_netns = ino;
    kf_.netns = static_cast<uint32_t>(ino);
  }
  if (filter_.pids.size() == 1) kf_.pid = static_cast<uint32_t>(filter_.pids[0]);
  kf_.set_ports(filter_.ports);
  kf_.tcp = filter_.wants(Proto::tcp);
  kf_.udp = filter_.wants(Proto::udp);
  kf_.unix_stream = filter_.wants(Proto::unix);
  publisher_ = make_trace_publisher(opts_, filter_.netns.value_or(0), err_);
  if (!opts_.metrics.empty()) {
    // The port is taken now, before any hook loads: a port in use ends the run at once.
    if (opts_.metrics_max_series == 0) throw Error("--metrics-max-series: expected a number > 0");
    metrics_ = std::make_unique<TraceMetrics>(opts_.metrics_max_series);
    endpoint_ = std::make_unique<MetricsEndpoint>(
        opts_.metrics, [m = metrics_.get()] { return m->text(); });
  }
  // A capture written at the end needs no open events; a published stream does.
  kf_.quiet_opens = !opts_.output.empty() && !publisher_;
  return so;
}

// Hooks first, then the scan. The ring buffer is consumed while the scan runs, so nothing
// overflows and nothing opened in between is lost; records wait raw until the scan seeds the
// table.
std::vector<nv_event> Session::load_and_scan(const ScanOptions& so) {
  // Peak memory with tens of thousands of sockets is set by the scan's big vectors. A fixed
  // mmap threshold (glibc otherwise raises it after the first large free) gives each of them
  // back to the kernel when freed instead of leaving holes in the heap; two arenas keep the
  // scan's owner thread and the ring buffer consumer from holding memory of their own.
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  mallopt(M_ARENA_MAX, 2);
  mem_.push_back(mem_point("start"));
  loader_ = std::make_unique<TraceLoader>(features_, kf_);
  mem_.push_back(mem_point("loaded"));
  // Loaded now, while the privileges to load it are still held; walked at the end.
  if ((kf_.tcp || loader_->traces_unix()) && !opts_.no_bpf) {
    try {
      holders_iter_ = std::make_unique<SockFileIter>(true);
    } catch (const BpfIterError& e) {
      holders_note_ = std::string("owners of open connections not checked at the end: ") + e.what();
    }
  }

  std::vector<nv_event> pending;
  std::mutex pending_mu;
  std::atomic<bool> scanning{true};
  TraceLoader& loader = *loader_;
  std::thread consumer([&] {
    std::function<void(const nv_event&)> keep = [&](const nv_event& r) {
      std::lock_guard<std::mutex> lock(pending_mu);
      pending.push_back(r);
    };
    while (scanning.load()) loader.poll(50, keep);
    loader.poll(0, keep);
  });
  try {
    scan_ = scan_host(so);
  } catch (const std::exception& ex) {
    scanning = false;
    consumer.join();
    throw;
  }
  scanning = false;
  consumer.join();
  mem_.push_back(mem_point("scanned"));
  return pending;
}

// A capture (-o FILE) is written at the end and reads each new process's details as it
// appears; a stream goes to a sink as it happens.
void Session::open_output() {
  if (filter_.netns) scan_.host.scope_netns = *filter_.netns;
  capture_mode_ = !opts_.output.empty();
  if (capture_mode_) {
    proc_fd_ = open((opts_.proc_root).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bool with_cmdline = !opts_.no_cmdline;
    if (publisher_) {
      sink_ = std::make_unique<PublishSink>(*publisher_);
      table_.on_unseen_close = [this](const Flow& f) { emit_flow("close", &f, wall_now_ns()); };
    }
    table_.on_new_process = [this, with_cmdline](Process& p) {
      if (proc_fd_ < 0) return;
      Process d = read_process(proc_fd_, p.pid, with_cmdline);
      if (d.comm.empty()) return;  // gone already: keep what the event said
      std::string comm = p.comm;
      int32_t ppid = p.ppid;
      p = std::move(d);
      if (!comm.empty()) p.comm = comm;
      if (!p.ppid) p.ppid = ppid;
    };
    return;
  }
  bool json = opts_.format == "json" || (opts_.format == "auto" && !out_tty_);
  if (json)
    sink_ = std::make_unique<EventJsonSink>(out_);
  else
    sink_ = std::make_unique<EventTableSink>(out_);
  if (publisher_)
    sink_ = std::make_unique<TeeSink>(std::move(sink_), std::make_unique<PublishSink>(*publisher_));
  table_.on_unseen_close = [this](const Flow& f) { emit_flow("close", &f, wall_now_ns()); };
  table_.set_streaming(true);
  // A stream reads only each new process's cgroup, for the service on its flow lines.
  proc_fd_ = open((opts_.proc_root).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  table_.on_new_process = [this](Process& p) {
    std::string buf;
    std::string path = std::to_string(p.pid) + "/cgroup";
    if (proc_fd_ >= 0 && read_small_file(proc_fd_, path.c_str(), buf)) p.cgroup = pick_cgroup(buf);
  };
}

// The scan's flows go out first, then move into the table (no second copy); then the
// records the hooks gave meanwhile. False: the stream's reader has gone.
bool Session::seed(std::vector<nv_event>& pending) {
  WallNs now = wall_now_ns();
  if (sink_) sink_->host(scan_.host, now);
  scan_flow_count_ = scan_.flows.size();
  table_.seed(scan_);
  mem_.push_back(mem_point("seeded"));
  for (const auto& r : pending) handle(r);
  std::vector<nv_event>().swap(pending);
  // The scanned flows are written once the events seen during the scan are applied: a
  // socket found while it was closing would otherwise be a second flow with no owner.
  if (sink_)
    for (const Flow* f : table_.seeded_live()) emit_flow("flow", f, now);
  malloc_trim(0);
  mem_.push_back(mem_point("reconciled"));
  if (sink_ && !sink_->flush()) return false;
  if (sink_ && !capture_mode_) table_.prune_closed();
  return true;
}

void Session::announce() {
  if (opts_.verbose) {
    for (const auto& m : mem_)
      err_ << "netviz-trace: memory " << m.step << ": rss " << m.rss_kb << " kB, peak "
           << m.hwm_kb << " kB, heap in use " << m.heap_kb << " kB\n";
    for (const auto& h : loader_->hooks())
      err_ << "netviz-trace: hook " << h.kind << " " << h.target << " (" << h.program << ")\n";
    for (const auto& n : loader_->notes()) err_ << "netviz-trace: " << n << "\n";
    err_ << "netviz-trace: scan: " << (scan_.stats.scan_path.empty() ? "none" : scan_.stats.scan_path)
         << ", " << scan_.sockets.size() << " sockets, " << scan_flow_count_ << " flows\n";
  }
  start_nat_watch();  // forked while the process still has one thread and its privileges
  // Privileges go before the line that says tracing has begun: whoever waits for it (a
  // user, a test reading /proc/PID/status) must find them already dropped.
  if (on_tracing_) on_tracing_(err_);
  if (publisher_) publisher_->start();  // its threads start after the capabilities went
  if (endpoint_) {
    metrics_->update(collect_stats());
    endpoint_->start();  // as the publisher's: after the capabilities went
    err_ << "netviz-trace: metrics at " << endpoint_->url() << "\n";
  }
  err_ << "netviz-trace: tracing (" << loader_->summary() << "); Ctrl-C to stop\n";
  err_.flush();
}

// Events until the duration ends or a signal comes. False: the stream's reader has gone.
bool Session::loop() {
  started_ = std::chrono::steady_clock::now();
  auto deadline = opts_.duration
                      ? started_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                       std::chrono::duration<double>(*opts_.duration))
                      : std::chrono::steady_clock::time_point::max();
  auto last_progress = started_;
  while (!g_stop) {
    auto t = std::chrono::steady_clock::now();
    if (t >= deadline) break;
    int wait_ms = 100;
    if (opts_.duration) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - t).count();
      wait_ms = static_cast<int>(std::max<long long>(1, std::min<long long>(wait_ms, left)));
    }
    if (t - nat_polled_ >= kNatPoll) {
      poll_nat();
      nat_polled_ = t;
    }
    if (t - nat_swept_ >= kNatSweep) {
      sweep_nat(t);
      nat_swept_ = t;
    }
    int n = loader_->poll(wait_ms, on_raw_);
    if (n < 0 && n != -EINTR) throw Error("ring buffer poll failed: " + std::string(strerror(-n)));
    if (metrics_) {
      if (n > 0) metrics_->ring_batch(static_cast<uint64_t>(n));
      auto ring = loader_->ring_use();
      metrics_->ring_use(ring.size, ring.used, ring.peak);
    }
    if (sink_) {
      if (!sink_->flush() || (!capture_mode_ && &out_ == &std::cout && stdout_reader_gone())) {
        sink_broken_ = true;
        return false;
      }
      if (!capture_mode_) table_.prune_closed();
    }
    if (t - last_unix_sweep_ >= std::chrono::seconds(1)) {
      sweep_unix(false);
      last_unix_sweep_ = t;
    }
    if (t - last_progress >= std::chrono::milliseconds(500)) {
      if (err_tty_ && opts_.duration)
        progress(false, loader_->kernel_drops() + undecodable_ + table_.refused());
      if (metrics_) {
        metrics_->update(collect_stats());
        metrics_->live_flows(table_.live_count());
      }
      last_progress = t;
    }
  }
  return true;
}

// Only a tracer that could enter namespaces and read conntrack in them at the start (root)
// can do so later: the helper keeps those two privileges after the tracer drops them.
void Session::start_nat_watch() {
  if (opts_.no_nat || opts_.proc_root != "/proc") return;
  CapSets caps = current_caps();
  for (int c : {CAP_SYS_ADMIN, CAP_NET_ADMIN})
    if (!(caps.effective & (uint64_t{1} << c))) return;
  std::vector<uint64_t> seen;
  for (const auto& ns : scan_.host.netns) seen.push_back(ns.inode);
  std::optional<uint64_t> only;
  if (filter_.netns) only = *filter_.netns;
  std::string why;
  nat_watch_ = NatWatch::start(nat_.followed_netns(), seen, only, kNatRecheck, &why);
  if (!nat_watch_)
    nat_watch_note_ = "NAT rules added after the start are not followed: " + why;
}

// Translations no flow holds any more go once kNatKeep old; the flows are walked only when
// some translation is that old.
void Session::sweep_nat(std::chrono::steady_clock::time_point now) {
  if (!nat_.has_older_than(now - kNatKeep)) return;
  table_.for_each_flow([this](const Flow& f) { nat_.keep(f); });
  nat_.sweep(now, kNatKeep, kNatMaxEntries);
}

// What is left in the ring buffer, the connections still open, then the counters only the
// kernel kept.
void Session::drain() {
  poll_nat();
  while (loader_->poll(0, on_raw_) > 0) {
  }
  open_connections(socket_holders());
  sweep_unix(true);
  reconcile_tcp();
  read_kernel_counters();
  progress(true, loader_->kernel_drops() + undecodable_ + table_.refused());
}

// Unix connections the kernel paired since the last sweep go into the table; one whose
// client socket no process holds any more (by inode) has ended (the kernel has no release hook for unix
// sockets: the end is known to within the sweep, once a second). At the end, those still
// held stay open.
void Session::sweep_unix(bool at_end) {
  if (!loader_->traces_unix()) return;
  auto records = loader_->unix_records();
  if (records.empty()) return;
  // Who holds each end of these connections (client and accepted socket, by inode), in the
  // walk's order (by pid); only these inodes are kept from the host-wide walk.
  std::unordered_map<uint64_t, std::vector<SocketHolder>> holders;
  for (const auto& [cookie, c] : records) {
    holders.try_emplace(c.ino);
    if (c.peer_ino) holders.try_emplace(c.peer_ino);
  }
  bool walked = false;
  if (holders_iter_) {
    try {
      holders_iter_->read_each([&](const nv_snap_sock_file* r, size_t n) {
        for (const auto* end = r + n; r != end; ++r)
          if (auto it = holders.find(r->sock_ino); it != holders.end())
            it->second.push_back({static_cast<int32_t>(r->tgid), comm_text(r->comm, NV_COMM_LEN)});
      });
      walked = true;
    } catch (const BpfIterError& e) {
      holders_note_ = std::string("unix connections not checked for their end: ") + e.what();
    }
  }
  timespec mono{};
  clock_gettime(CLOCK_MONOTONIC, &mono);
  const uint64_t now = static_cast<uint64_t>(mono.tv_sec) * 1'000'000'000 + mono.tv_nsec;
  const bool counting = loader_->counts_unix_bytes();
  for (const auto& [cookie, c] : records) {
    TraceEvent e = decoder_.unix_connection(cookie, c, EventKind::connect, now);
    const auto counts = counting ? loader_->unix_counts(cookie) : std::nullopt;
    if (counts) {
      e.bytes_sent = counts->bytes_sent;
      e.bytes_received = counts->bytes_received;
      // The process that writes on the server end serves it, whoever accepted it.
      if (auto server = decoder_.unix_server(*counts)) e.peer = std::move(server);
    }
    // While open, the server end's holders say it too (a server that has not written yet):
    // the peer is one of them, as the snapshot and ss -xp show it.
    if (auto it = holders.find(c.peer_ino); c.peer_ino && it != holders.end() && !it->second.empty()) {
      const auto& server = it->second;
      bool holds = e.peer && std::any_of(server.begin(), server.end(), [&](const SocketHolder& h) {
                     return h.first == e.peer->pid;
                   });
      if (!holds) e.peer = Owner{server.front().first, server.front().second, -1};
    }
    auto [seen, first] = unix_announced_.try_emplace(cookie);
    const Flow* changed = nullptr;
    if (first) {
      handle(e);
      if (counting && !counts) ++unix_counts_missing_;
    } else if (e.peer && e.peer->pid != seen->second.peer_pid) {
      changed = table_.set_peer(LiveTable::event_key(e), *e.peer);
    }
    if (e.peer) seen->second.peer_pid = e.peer->pid;
    const uint64_t bytes = e.bytes_sent + e.bytes_received;
    // Without the walk nothing is known to have ended before the end.
    if (walked ? !holders[c.ino].empty() : !at_end) {
      if (bytes != seen->second.bytes) {
        changed = table_.update_counts(LiveTable::event_key(e), e.time, 0, e.bytes_sent,
                                       e.bytes_received);
        seen->second.bytes = bytes;
      }
      if (changed && sink_) emit_flow("update", changed, e.time);
      continue;
    }
    e.kind = EventKind::close;
    handle(e);
    loader_->forget_unix(cookie);
    unix_announced_.erase(seen);
  }
}

void Session::read_kernel_counters() {
  auto udp = loader_->udp_counts();
  udp_flows_ = udp.size();
  for (const auto& [k, v] : udp) {
    UdpCount c = decoder_.udp_count(k, v);
    const Flow* f = table_.apply(c);
    if (sink_) emit_flow("update", f, c.last_seen);
  }
  for (const auto& [cookie, u] : loader_->udp_conn_counts()) {
    UdpConnCount c = decoder_.udp_conn_count(cookie, u);
    const Flow* f = table_.update_counts(c.key, c.last_seen, c.packets, c.bytes_sent,
                                         c.bytes_received);
    if (sink_) emit_flow("update", f, c.last_seen);
  }
}

Stats Session::collect_stats() const {
  const TraceLoader& loader = *loader_;
  Stats st;
  st.scan_path = scan_.stats.scan_path;
  uint64_t missed = loader.missed_runs();
  uint64_t kernel_lost = loader.kernel_drops() + missed;
  st.counters["missed_hook_runs"] = static_cast<int64_t>(missed);
  st.counters["tcp_state_nested"] = static_cast<int64_t>(loader.nested_runs());
  // Connects that reached ESTABLISHED without the record their SYN_SENT made (begun before
  // tracing, or lost), and owner records the kernel could not store: flows without an owner.
  st.counters["tcp_connect_without_record"] =
      static_cast<int64_t>(loader.kernel_stat(NV_STAT_NO_RECORD));
  st.counters["owner_records_not_stored"] =
      static_cast<int64_t>(loader.kernel_stat(NV_STAT_MAP_FULL));
  st.counters["tcp_connects_failed_locally"] =
      static_cast<int64_t>(loader.kernel_stat(NV_STAT_LOCAL_FAIL));
  st.counters["udp_connected_without_datagrams"] =
      static_cast<int64_t>(loader.kernel_stat(NV_STAT_UDP_SILENT));
  st.counters["duplicate_reports"] = static_cast<int64_t>(table_.duplicates());
  st.counters["pids_reused"] = static_cast<int64_t>(table_.pids_reused());
  st.counters["tcp_handoffs_found_at_end"] = static_cast<int64_t>(handoffs_at_end_);
  if (unix_counts_missing_)
    st.counters["unix_bytes_not_counted"] = static_cast<int64_t>(unix_counts_missing_);
  // Closes the kernel never reported (no sock:inet_sock_set_state CLOSE reached any program)
  // are not events we dropped: counted apart, said on stderr, and the flows say so.
  st.counters["tcp_closes_not_reported"] = static_cast<int64_t>(table_.closes_not_reported());
  if (nat_watch_)
    st.counters["nat_netns_followed_later"] = static_cast<int64_t>(nat_watch_->followed_later());
  if (!nat_watch_note_.empty()) st.notes.push_back(nat_watch_note_);
  if (nat_.evicted()) st.counters["nat_evicted"] = static_cast<int64_t>(nat_.evicted());
  uint64_t user_lost = undecodable_ + table_.refused();
  st.lost_events = kernel_lost + user_lost;
  if (publisher_) {
    // Lines the spool had no room for while NATS was away (--spool-max).
    st.counters["lost_transport"] = static_cast<int64_t>(publisher_->lost());
    st.lost_events += publisher_->lost();
  }
  st.counters["events"] = static_cast<int64_t>(events_);
  st.counters["flows_traced"] = static_cast<int64_t>(flows_traced_);
  st.counters["flows_scan"] = static_cast<int64_t>(scan_flow_count_);
  st.counters["udp_flows"] = static_cast<int64_t>(udp_flows_);
  st.counters["hooks"] = static_cast<int64_t>(loader.hooks().size());
  st.counters["lost_kernel"] = static_cast<int64_t>(kernel_lost);
  st.counters["lost_user"] = static_cast<int64_t>(user_lost);
  st.counters["peak_rss_kb"] = mem_point("end").hwm_kb;
  // How near the kernel came to dropping records: a peak close to the size warns before
  // lost_kernel counts anything.
  if (auto ring = loader.ring_use(); ring.size) {
    st.counters["ring_buffer_bytes"] = static_cast<int64_t>(ring.size);
    st.counters["ring_buffer_peak_used_bytes"] = static_cast<int64_t>(ring.peak);
  }
  // Counters folded into a connected flow (a server that connect()s) left the map too.
  uint64_t absorbed = loader.kernel_stat(NV_STAT_UDP_ABSORBED);
  st.counters["udp_counters_merged_into_connected"] = static_cast<int64_t>(absorbed);
  if (udp_announced_ > udp_flows_ + absorbed) {
    // LRU eviction under pressure: those flows are in the output, their counts are partial.
    uint64_t evicted = udp_announced_ - udp_flows_ - absorbed;
    st.counters["udp_counters_evicted"] = static_cast<int64_t>(evicted);
    st.notes.push_back(std::to_string(evicted) +
                       " UDP flow counters were evicted from the kernel map; their packet "
                       "counts are lower bounds");
  }
  for (const auto& [k, v] : scan_.stats.counters) st.counters.emplace("scan_" + k, v);
  for (const auto& n : scan_.stats.notes) st.notes.push_back(n);
  for (const auto& n : loader.notes()) st.notes.push_back(n);
  if (!reconcile_note_.empty()) st.notes.push_back(reconcile_note_);
  if (!holders_note_.empty()) st.notes.push_back(holders_note_);
  if (table_.closes_not_reported())
    st.notes.push_back(std::to_string(table_.closes_not_reported()) +
                       " TCP connections ended without the kernel reporting their close (a "
                       "later connection on the same 4-tuple, or gone from the kernel at the "
                       "end): written as CLOSED without a duration");
  std::string state_hook = "none";
  for (const auto& h : loader.hooks())
    if (h.target.find("inet_sock_set_state") != std::string::npos) {
      state_hook = h.kind;
      break;
    }
  st.notes.push_back("tcp state hook: " + state_hook);
  return st;
}

// Losses on stderr, then the capture document or the stream's closing stats.
void Session::report() {
  Stats st = collect_stats();
  for (auto& n : nat_.notes()) st.notes.push_back(std::move(n));
  if (metrics_) metrics_->update(st);
  uint64_t missed = loader_->missed_runs();
  uint64_t kernel_lost = loader_->kernel_drops() + missed;
  uint64_t user_lost = undecodable_ + table_.refused();
  if (st.lost_events)
    err_ << "netviz-trace: lost " << st.lost_events << " events (" << kernel_lost - missed
         << " ring buffer full, " << missed << " hook runs skipped by the kernel, " << user_lost
         << " in user space"
         << (publisher_ ? ", " + std::to_string(publisher_->lost()) + " on the way to NATS" : "")
         << ")\n";
  if (table_.closes_not_reported())
    err_ << "netviz-trace: " << table_.closes_not_reported()
         << " TCP connections ended without the kernel reporting their close; written as "
            "CLOSED without a duration\n";

  if (proc_fd_ >= 0) close(proc_fd_);
  if (capture_mode_) {
    // The published stream ends first, so that the file's stats can count what NATS never
    // stored: the file is the complete record of the run.
    if (sink_) sink_->stats(st, wall_now_ns());
    if (size_t left = drain_publisher()) {
      st.counters["lost_transport"] += static_cast<int64_t>(left);
      st.lost_events += left;
    }
    Capture c = assemble_trace_capture(scan_, table_, filter_, st);
    for (auto& f : c.flows) nat_.apply(f);
    AtomicFile file(opts_.output);
    write_capture_streamed(file.stream(), c, !opts_.no_cmdline);
    file.commit();
  } else {
    sink_->stats(st, wall_now_ns());
    sink_->flush();
    drain_publisher();
  }
}

// Whatever NATS has not stored yet gets a moment; what is left is said on stderr and returned.
size_t Session::drain_publisher() { return publisher_ ? publisher_->drain(10000) : 0; }

}  // namespace

int run_trace_session(const TraceOptions& opts, const TraceFeatures& features, std::ostream& out,
                      std::ostream& err, bool out_is_tty, bool err_is_tty,
                      const std::function<void(std::ostream& err)>& on_tracing) {
  g_stop = 0;
  Session s(opts, features, out, err, out_is_tty, err_is_tty);
  s.on_tracing_ = on_tracing;
  return s.run();
}

}  // namespace netviz
