#pragma once
// What a scan of the host found (src/scan/scan.h makes it): the snapshot's output, the
// tracer's starting state, and what the warnings sink reports as unreadable.
#include <cstdint>
#include <string>
#include <vector>

#include "model/capture.h"

namespace netviz {

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

}  // namespace netviz
