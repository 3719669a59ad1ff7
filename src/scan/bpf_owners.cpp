// The owner walk through iter/task_file; see scan/owners.h for the contract.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <tuple>
#include <utility>

#include "scan/bpf_iter_owners.h"
#include "scan/bpf_iter_sock_files.h"
#include "scan/owners.h"

namespace netviz {
namespace {

int64_t us_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               t0)
      .count();
}

std::string comm_of(const nv_snap_sock_file& r) {
  return std::string(r.comm, strnlen(r.comm, sizeof r.comm));
}

}  // namespace

void OwnerIndexBuilder::add(const nv_snap_sock_file* recs, size_t n) {
  records_ += n;
  for (const auto* r = recs; r != recs + n; ++r) {
    auto pid = static_cast<int32_t>(r->tgid);
    auto fd = static_cast<int32_t>(r->fd);
    // The kernel walks pids and then fds in ascending order, so records arrive grouped by
    // process: look the process's netns up once per group.
    if (prev_tgid_ != r->tgid || prev_netns_ != r->task_netns) {
      auto [it, fresh] = idx_.netns_of_pid.try_emplace(pid, r->task_netns);
      if (!fresh && r->task_netns) it->second = r->task_netns;
    }
    prev_tgid_ = r->tgid;
    prev_netns_ = r->task_netns;
    auto& owners = idx_.by_inode[r->sock_ino];
    // In-order records append; anything else (threads of an exited leader repeating the
    // table) is placed by search, and a repeated (pid, fd) is dropped.
    if (owners.empty() || std::tie(owners.back().pid, owners.back().fd) < std::tie(pid, fd)) {
      owners.push_back(Owner{pid, comm_of(*r), fd});
      continue;
    }
    auto at = std::lower_bound(owners.begin(), owners.end(), std::pair{pid, fd},
                               [](const Owner& o, const std::pair<int32_t, int32_t>& k) {
                                 return std::tie(o.pid, o.fd) < std::tie(k.first, k.second);
                               });
    if (at != owners.end() && at->pid == pid && at->fd == fd) continue;
    owners.insert(at, Owner{pid, comm_of(*r), fd});
  }
}

OwnerIndex owner_index_from_records(const std::vector<nv_snap_sock_file>& recs) {
  OwnerIndexBuilder b;
  b.add(recs.data(), recs.size());
  return b.take();
}

std::optional<OwnerIndex> walk_owners_bpf(Stats& stats, const BpfFeatures& features) {
  if (std::string why = features.iter_unavailable_reason(); !why.empty()) {
    stats.notes.push_back("bpf owner walk unavailable: " + why + "; using /proc");
    return std::nullopt;
  }
  try {
    auto t0 = std::chrono::steady_clock::now();
    SockFileIter iter;
    stats.counters["bpf_owners_load_us"] = us_since(t0);
    // Indexed as read: the walk and the index are one step now, timed as the read.
    auto t1 = std::chrono::steady_clock::now();
    OwnerIndexBuilder builder;
    iter.read_each([&](const nv_snap_sock_file* r, size_t n) { builder.add(r, n); });
    stats.counters["bpf_owners_read_us"] = us_since(t1);
    stats.counters["bpf_owner_records"] = static_cast<int64_t>(builder.records());
    return builder.take();
  } catch (const BpfIterError& e) {
    stats.notes.push_back(std::string("bpf owner walk failed: ") + e.what() + "; using /proc");
    return std::nullopt;
  }
}

std::optional<OwnerIndex> walk_owners_bpf(Stats& stats) {
  return walk_owners_bpf(stats, current_bpf_features());
}

}  // namespace netviz
