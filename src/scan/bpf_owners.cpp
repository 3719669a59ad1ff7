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

OwnerIndex owner_index_from_records(const std::vector<nv_snap_sock_file>& recs) {
  // Sorting the records first makes the owner lists ordered and duplicates adjacent.
  std::vector<const nv_snap_sock_file*> order;
  order.reserve(recs.size());
  for (const auto& r : recs) order.push_back(&r);
  std::sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    return std::tie(a->sock_ino, a->tgid, a->fd) < std::tie(b->sock_ino, b->tgid, b->fd);
  });

  OwnerIndex idx;
  idx.by_inode.reserve(order.size());
  const nv_snap_sock_file* prev = nullptr;
  for (const auto* r : order) {
    auto pid = static_cast<int32_t>(r->tgid);
    if (r->task_netns) idx.netns_of_pid[pid] = r->task_netns;
    else idx.netns_of_pid.try_emplace(pid, 0);
    if (prev && prev->sock_ino == r->sock_ino && prev->tgid == r->tgid && prev->fd == r->fd)
      continue;
    prev = r;
    idx.by_inode[r->sock_ino].push_back(Owner{pid, comm_of(*r), static_cast<int32_t>(r->fd)});
  }
  return idx;
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
    auto t1 = std::chrono::steady_clock::now();
    auto recs = iter.read_all();
    stats.counters["bpf_owners_read_us"] = us_since(t1);
    auto t2 = std::chrono::steady_clock::now();
    OwnerIndex idx = owner_index_from_records(recs);
    stats.counters["bpf_owners_index_us"] = us_since(t2);
    stats.counters["bpf_owner_records"] = static_cast<int64_t>(recs.size());
    return idx;
  } catch (const BpfIterError& e) {
    stats.notes.push_back(std::string("bpf owner walk failed: ") + e.what() + "; using /proc");
    return std::nullopt;
  }
}

std::optional<OwnerIndex> walk_owners_bpf(Stats& stats) {
  return walk_owners_bpf(stats, current_bpf_features());
}

}  // namespace netviz
