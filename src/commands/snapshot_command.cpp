// netviz-trace --snapshot: one scan, filtered, written as a capture document (-o), a table
// (terminal) or JSON lines (piped).
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <optional>
#include <set>
#include <type_traits>
#include <utility>
#include <vector>

#include "commands/snapshot_command.h"
#include "cli/filter_options.h"
#include "fleet/publish_sink.h"
#include "scan/conntrack.h"
#include "scan/scan.h"
#include "trace/trace_publish.h"
#include "sinks/capture_document.h"
#include "sinks/scan_warnings.h"
#include "sinks/socket_jsonl.h"
#include "sinks/socket_table.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/huge_heap.h"
#include "util/time.h"

namespace netviz {

namespace {

// Keeps the processes that own a remaining socket or flow.
void prune_processes(ScanResult& r) {
  std::set<int32_t> keep;
  for (const auto& s : r.sockets)
    for (const auto& o : s.owners) keep.insert(o.pid);
  for (const auto& f : r.flows) keep.insert(f.pid);
  std::erase_if(r.processes, [&](const Process& p) { return !keep.count(p.pid); });
}

// The process exits right after the output: freeing every socket, flow and owner one by one
// would cost more than the kernel's teardown of the whole heap. Each result stays reachable
// from a static list (a test may snapshot many times), so leak checkers do not count it.
template <typename T>
void keep_until_exit(T&& value) {
  static auto* kept = new std::vector<const void*>;
  kept->push_back(new std::decay_t<T>(std::forward<T>(value)));
}

}  // namespace

int run_snapshot(const TraceOptions& opts) {
  // Before the scan starts its owner thread. 40,000 sockets peak near 70 MB.
  use_huge_heap(size_t{128} << 20);
  Filter filter = opts.filter;
  ScanOptions so;
  so.proc_root = opts.proc_root;
  so.allow_bpf = !opts.no_bpf;
  so.with_cmdline = !opts.no_cmdline;
  if (!opts.netns.empty()) {
    filter.netns = resolve_netns(opts.netns, opts.proc_root);
    so.only_netns = filter.netns;
  }
  // Resolved before the scan, so that a bad name costs no scan.
  std::optional<std::set<SockState>> states;
  if (!opts.states.empty()) states = socket_states(opts.states);
  std::unique_ptr<Publisher> publisher = make_trace_publisher(opts, filter.netns.value_or(0), std::cerr);
  NatBook nat;
  if (!opts.no_nat) so.nat = &nat;
  ScanResult r = scan_host(so);
  for (auto& n : nat.notes()) r.stats.notes.push_back(std::move(n));
  if (states) {
    std::erase_if(r.sockets, [&](const Socket& s) { return !states->count(s.state); });
    // A flow without a TCP state comes from a connected datagram socket: ESTABLISHED.
    std::erase_if(r.flows, [&](const Flow& f) {
      return !states->count(f.state == SockState::none ? SockState::established : f.state);
    });
  }
  if (!filter.empty() || states) {
    std::erase_if(r.sockets, [&](const Socket& s) { return !filter.matches(s); });
    // --listening keeps no flows: a flow is a connected socket.
    if (filter.listening)
      r.flows.clear();
    else
      std::erase_if(r.flows, [&](const Flow& f) { return !filter.matches(f); });
    prune_processes(r);
  }
  write_scan_warnings(std::cerr, r, opts.verbose, geteuid() == 0);
  if (opts.verbose) {
    std::cerr << "netviz-trace: scan path " << r.stats.scan_path << ", " << r.sockets.size()
              << " sockets, " << r.processes.size() << " processes, " << r.host.netns.size()
              << " network namespaces\n";
    for (const auto& n : r.stats.notes) std::cerr << "netviz-trace: " << n << "\n";
  }

  if (publisher) {
    // One snapshot as a stream: host line, its flows, stats; the stitcher reads it as any
    // other host's stream.
    if (filter.netns) r.host.scope_netns = *filter.netns;
    PublishSink sink(*publisher);
    WallNs now = wall_now_ns();
    sink.host(r.host, now);
    for (const auto& f : r.flows) sink.flow("flow", f, now);
    sink.stats(r.stats, now);
    publisher->start();
    if (publisher->drain(10000)) throw std::runtime_error("the snapshot did not reach NATS in 10 s");
  }
  if (!opts.output.empty()) {
    Capture c;
    c.host = std::move(r.host);
    c.processes = std::move(r.processes);
    c.sockets = std::move(r.sockets);
    c.flows = std::move(r.flows);
    c.stats = std::move(r.stats);
    auto t0 = std::chrono::steady_clock::now();
    AtomicFile file(opts.output);  // 0600: command lines and users are not for everyone
    write_capture_streamed(file.stream(), c, !opts.no_cmdline);
    auto t1 = std::chrono::steady_clock::now();
    file.commit();
    if (opts.verbose) {
      auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
      std::cerr << "netviz-trace: scan " << c.stats.counters["total_us"] / 1000.0 << " ms, write "
                << ms(t1 - t0) << " ms, commit " << ms(std::chrono::steady_clock::now() - t1)
                << " ms\n";
    }
    keep_until_exit(std::move(c));
    return 0;
  }
  bool table = opts.format == "table" || (opts.format == "auto" && isatty(STDOUT_FILENO));
  if (table) {
    // TIME_WAIT sockets are closed connections waiting out their timer, not in use by
    // anyone: the table leaves them out unless --state asks, and says how many it left out.
    uint64_t hidden = 0;
    if (opts.states.empty())
      hidden = std::erase_if(r.sockets, [](const Socket& s) { return s.state == SockState::time_wait; });
    write_socket_table(std::cout, r.sockets, r.host.netns, hidden);
  } else {
    write_socket_lines(std::cout, r.sockets);
  }
  std::cout.flush();
  if (!std::cout) throw Error("stdout: write failed");
  keep_until_exit(std::move(r));
  return 0;
}

}  // namespace netviz
