#pragma once
// The initial scan: every socket on the host, in every network namespace in use, with the
// processes that hold it. Used alone by --snapshot and as the tracer's starting state.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/capture.h"
#include "model/filter.h"

namespace netviz {

struct ScanOptions {
  std::string proc_root = "/proc";
  bool allow_bpf = true;             // false: /proc + sock_diag only
  std::optional<uint64_t> only_netns;
  bool with_cmdline = true;
};

// A process whose /proc/PID/ns/net could not be read: the warning names it.
struct UnreadableProcess {
  int32_t pid = 0;
  std::string comm;         // "" when that was unreadable too
  bool pidns_init = false;  // pid 1 of its pid namespace (a container's init)
};

struct ScanResult {
  HostInfo host;
  std::vector<Process> processes;  // owners of at least one socket
  std::vector<Socket> sockets;
  std::vector<Flow> flows;         // one per connected TCP / connected UDP socket, "scan"
  Stats stats;                     // scan_path, counters, notes on what could not be read
  std::vector<UnreadableProcess> unreadable_netns;  // as counted in "unreadable_netns_links"
};

ScanResult scan_host(const ScanOptions& opts);

// --netns: an `ip netns` name, a path to a namespace file, or an inode number.
// Throws netviz::Error naming --netns when it resolves to nothing.
uint64_t resolve_netns(const std::string& spec, const std::string& proc_root = "/proc");

}  // namespace netviz
