// scan_host: sockets of every network namespace, their owners, the owners' details, the
// host's identity and the flows the sockets imply.
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <chrono>
#include <exception>
#include <map>
#include <thread>

#include "model/service.h"
#include "scan/host_info.h"
#include "scan/netns.h"
#include "scan/owners.h"
#include "scan/proc_net_parser.h"
#include "scan/process_info.h"
#include "scan/scan.h"
#include "scan/conntrack.h"
#include "scan/scan_flows.h"
#include "scan/sock_diag.h"
#include "util/error.h"
#include "util/time.h"

namespace netviz {

namespace {

using Clock = std::chrono::steady_clock;

int64_t us_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count();
}

constexpr ProcNetTable kInetTables[] = {ProcNetTable::tcp, ProcNetTable::tcp6, ProcNetTable::udp,
                                        ProcNetTable::udp6};
constexpr ProcNetTable kOtherTables[] = {ProcNetTable::raw,      ProcNetTable::raw6,
                                         ProcNetTable::packet,   ProcNetTable::unix_,
                                         ProcNetTable::sctp_eps, ProcNetTable::sctp_assocs};

std::string ns_label(const NetnsRef& ns) {
  return "netns " + std::to_string(ns.inode) + (ns.name.empty() ? "" : " (" + ns.name + ")");
}

// Reads one /proc/net table from dir (a /proc/<pid>/net or /proc/thread-self/net path).
// Missing files are normal (sctp without its module); other failures become notes.
void read_table(const std::string& dir, ProcNetTable t, const NetnsRef& ns,
                std::vector<Socket>& out, const IfName& ifname, Stats& stats) {
  std::string text;
  std::string path = dir + "/" + proc_net_file(t);
  if (!read_small_file(AT_FDCWD, path.c_str(), text)) {
    if (errno != ENOENT)
      stats.notes.push_back(ns_label(ns) + ": cannot read " + path + ": " + strerror(errno));
    return;
  }
  size_t bad = parse_proc_net(t, text, ns.inode, out, ifname);
  if (bad) stats.counters["unparsed_proc_net_rows"] += static_cast<int64_t>(bad);
}

std::string live_ifname(int ifindex) {
  char buf[IF_NAMESIZE];
  return if_indextoname(static_cast<unsigned>(ifindex), buf) ? buf : "";
}

// Room for the namespace's TCP and UDP sockets, from the kernel's counts in sockstat: a
// vector grown by doubling moves every socket about twice on the way to 40,000.
void reserve_for_namespace(const std::string& dir, std::vector<Socket>& sockets) {
  std::string text, six;
  if (!read_small_file(AT_FDCWD, (dir + "/sockstat").c_str(), text)) return;
  if (read_small_file(AT_FDCWD, (dir + "/sockstat6").c_str(), six)) text += six;
  size_t n = 0;
  for (const char* key : {"TCP: inuse ", " tw ", "UDP: inuse ", "TCP6: inuse ", "UDP6: inuse "}) {
    size_t at = text.find(key);
    if (at != std::string::npos) n += std::strtoul(text.c_str() + at + strlen(key), nullptr, 10);
  }
  sockets.reserve(sockets.size() + n + n / 16 + 64);  // slack for sockets opened meanwhile
}

// The sockets and addresses of one namespace. entered: this thread is inside it.
void scan_namespace(const NetnsRef& ns, bool entered, bool live, const std::string& proc_root,
                    std::vector<Socket>& sockets, NetnsInfo& info, Stats& stats) {
  if (entered && live) {
    const std::string dir = "/proc/thread-self/net";
    static const struct {
      int proto, family;
      ProcNetTable table;
    } kDiag[] = {{IPPROTO_TCP, AF_INET, ProcNetTable::tcp},
                 {IPPROTO_TCP, AF_INET6, ProcNetTable::tcp6},
                 {IPPROTO_UDP, AF_INET, ProcNetTable::udp},
                 {IPPROTO_UDP, AF_INET6, ProcNetTable::udp6}};
    reserve_for_namespace(dir, sockets);
    std::string both = sock_diag_tcp(ns.inode, sockets);
    for (const auto& d : kDiag) {
      if (d.proto == IPPROTO_TCP && both.empty()) continue;
      std::string err = sock_diag_inet(d.proto, d.family, ns.inode, sockets);
      if (!err.empty()) {
        stats.notes.push_back(ns_label(ns) + ": sock_diag " + proc_net_file(d.table) + ": " + err +
                              "; read /proc instead");
        read_table(dir, d.table, ns, sockets, {}, stats);
      }
    }
    // sock_diag also gives each unix socket's peer, which pairs the two ends of a connection.
    std::string unix_err = sock_diag_unix(ns.inode, sockets);
    if (!unix_err.empty())
      stats.notes.push_back(ns_label(ns) + ": sock_diag unix: " + unix_err + "; read /proc instead");
    for (auto t : kOtherTables)
      if (t != ProcNetTable::unix_ || !unix_err.empty())
        read_table(dir, t, ns, sockets, live_ifname, stats);
    std::string err = namespace_addresses(info.addresses);
    if (!err.empty()) stats.notes.push_back(ns_label(ns) + ": addresses: " + err);
    return;
  }
  if (ns.pid) {
    // Not entered (no privilege, or a fake proc root): a process inside it shows its tables.
    const std::string dir = proc_root + "/" + std::to_string(ns.pid) + "/net";
    for (auto t : kInetTables) read_table(dir, t, ns, sockets, {}, stats);
    for (auto t : kOtherTables) read_table(dir, t, ns, sockets, {}, stats);
    if (live) {
      ++stats.counters["netns_not_entered"];
      stats.notes.push_back(ns_label(ns) + ": not entered; sockets read through /proc/" +
                            std::to_string(ns.pid) + "/net, addresses unknown");
    }
    return;
  }
  ++stats.counters["netns_unreadable"];
  stats.notes.push_back(ns_label(ns) + ": cannot enter it; its sockets are missing");
}

}  // namespace

ScanResult scan_host(const ScanOptions& opts) {
  auto t_start = Clock::now();
  ScanResult r;
  Stats& stats = r.stats;
  const bool live = opts.proc_root == "/proc";
  const WallNs scan_time = wall_now_ns();
  r.host = read_host_identity(opts.proc_root);

  // Owners (the BPF walk when allowed, else /proc/*/fd) on one thread while another
  // lists the sockets of each namespace: the two take similar time on a big host.
  Stats owner_stats;
  std::optional<OwnerIndex> idx;
  std::exception_ptr owner_failure;
  std::thread owner_thread([&] {
    try {
      auto t0 = Clock::now();
      if (opts.allow_bpf && live) idx = walk_owners_bpf(owner_stats);
      if (idx) {
        owner_stats.scan_path = "bpf_iter";
      } else {
        idx = walk_owners_proc(opts.proc_root, owner_stats);
        owner_stats.scan_path = "proc";
      }
      owner_stats.counters["owners_us"] = us_since(t0);
    } catch (...) {
      owner_failure = std::current_exception();
    }
  });
  struct Join {
    std::thread& t;
    ~Join() {
      if (t.joinable()) t.join();
    }
  } join{owner_thread};

  auto t = Clock::now();
  std::vector<NetnsRef> all = list_netns(opts.proc_root, stats, live ? "/run/netns" : "",
                                         &r.unreadable_netns);
  if (opts.only_netns) {
    std::erase_if(all, [&](const NetnsRef& n) { return n.inode != *opts.only_netns; });
    if (all.empty())
      throw Error("--netns: network namespace " + std::to_string(*opts.only_netns) +
                  " is not in use");
    r.host.scope_netns = opts.only_netns;
  }
  uint64_t own = own_netns(opts.proc_root);
  r.host.netns.reserve(all.size());
  for (const auto& ns : all) r.host.netns.push_back(NetnsInfo{ns.inode, ns.name, {}});
  size_t i = 0;
  auto each = [&](const NetnsRef& ns, bool entered) {
    scan_namespace(ns, entered, live, opts.proc_root, r.sockets, r.host.netns[i++], stats);
    if (entered && live && opts.nat) opts.nat->read_netns(ns.inode, ns_label(ns), opts.nat_follow);
  };
  if (live)
    for_each_netns(all, own, each);
  else
    for (const auto& ns : all) each(ns, false);
  stats.counters["sockets_us"] = us_since(t);

  owner_thread.join();
  if (owner_failure) std::rethrow_exception(owner_failure);
  stats.scan_path = owner_stats.scan_path;
  for (const auto& [k, v] : owner_stats.counters) stats.counters[k] += v;
  stats.notes.insert(stats.notes.end(), owner_stats.notes.begin(), owner_stats.notes.end());
  t = Clock::now();
  std::map<int32_t, std::string> owner_pids;  // pid → comm as the walk saw it
  for (auto& s : r.sockets) {
    if (!s.inode) continue;
    auto it = idx->by_inode.find(s.inode);
    if (it == idx->by_inode.end()) continue;
    s.owners = std::move(it->second);
    idx->by_inode.erase(it);
    std::sort(s.owners.begin(), s.owners.end(), [](const Owner& a, const Owner& b) {
      return a.pid != b.pid ? a.pid < b.pid : a.fd < b.fd;
    });
    for (const auto& o : s.owners) owner_pids.try_emplace(o.pid, o.comm);  // no node when known
  }
  stats.counters["attach_owners_us"] = us_since(t);

  // Details of owner processes only.
  t = Clock::now();
  int proc_fd = open(opts.proc_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc_fd >= 0) {
    r.processes.reserve(owner_pids.size());
    for (const auto& [pid, comm] : owner_pids) {
      Process p = read_process(proc_fd, pid, opts.with_cmdline);
      if (p.comm.empty()) p.comm = comm;  // exited since the walk, or unreadable
      if (!p.netns) {
        auto it = idx->netns_of_pid.find(pid);
        if (it != idx->netns_of_pid.end()) p.netns = it->second;
      }
      r.processes.push_back(std::move(p));
    }
    close(proc_fd);
  }
  stats.counters["processes_us"] = us_since(t);

  r.flows = flows_from_sockets(r.sockets, scan_time);
  fill_flow_services(r.flows, r.processes);
  if (opts.nat)
    for (auto& f : r.flows) opts.nat->apply(f);
  stats.counters["netns"] = static_cast<int64_t>(all.size());
  stats.counters["sockets"] = static_cast<int64_t>(r.sockets.size());
  stats.counters["processes"] = static_cast<int64_t>(r.processes.size());
  stats.counters["flows"] = static_cast<int64_t>(r.flows.size());
  stats.counters["total_us"] = us_since(t_start);
  return r;
}

}  // namespace netviz
