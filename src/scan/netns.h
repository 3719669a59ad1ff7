#pragma once
// Network namespaces in use on the host: those of running processes (/proc/*/ns/net) and
// those pinned by `ip netns` bind mounts (/run/netns/*), and a way to work inside each.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/capture.h"
#include "scan/scan.h"

namespace netviz {

struct NetnsRef {
  uint64_t inode = 0;
  std::string name;  // ip netns name, "" when none
  int32_t pid = 0;   // a process inside it, 0 when only a bind mount holds it
  std::string path;  // a file to setns() with: /proc/<pid>/ns/net or /run/netns/<name>
};

// Every namespace once, ours first. netns_dir is /run/netns (tests may point elsewhere).
// Namespaces of processes whose ns link is unreadable are counted in
// stats.counters["unreadable_netns_links"] and, when unreadable is given, listed there.
std::vector<NetnsRef> list_netns(const std::string& proc_root, Stats& stats,
                                 const std::string& netns_dir = "/run/netns",
                                 std::vector<UnreadableProcess>* unreadable = nullptr);

// Inode of the caller's own network namespace (from proc_root/self/ns/net).
uint64_t own_netns(const std::string& proc_root);

// Runs fn(ns, entered) for each namespace on one helper thread that setns()es into it;
// entered is false when it could not (no privilege, namespace gone), and the work must
// fall back to files. The calling thread never changes namespace. Exceptions from fn
// are rethrown here.
void for_each_netns(const std::vector<NetnsRef>& all, uint64_t own,
                    const std::function<void(const NetnsRef&, bool entered)>& fn);

}  // namespace netviz
