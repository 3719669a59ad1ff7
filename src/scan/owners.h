#pragma once
// Who holds each socket: socket inode → every (pid, comm, fd) holding it. Two walks fill it:
// the BPF iter/task_file walk (in the kernel, fast) and the /proc/*/fd walk (fallback).
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/capture.h"

namespace netviz {

struct OwnerIndex {
  std::unordered_map<uint64_t, std::vector<Owner>> by_inode;
  // Network namespace of each pid seen holding a socket (0 when unknown).
  std::unordered_map<int32_t, uint64_t> netns_of_pid;
};

// /proc/<pid>/fd walk. Unreadable pids are counted in stats.counters["unreadable_pids"].
OwnerIndex walk_owners_proc(const std::string& proc_root, Stats& stats);

// BPF iter/task_file walk (src/scan/bpf_owners.cpp). nullopt when BPF is unavailable or not
// permitted; the reason goes to stats.notes.
std::optional<OwnerIndex> walk_owners_bpf(Stats& stats);

}  // namespace netviz
