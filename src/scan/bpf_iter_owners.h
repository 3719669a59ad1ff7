#pragma once
// The BPF owner walk's pieces beyond owners.h: the records → OwnerIndex step (pure, unit
// tested) and the walk with an explicit feature probe.
#include <optional>
#include <vector>

#include "netviz/events.h"
#include "scan/bpf_iter_features.h"
#include "scan/owners.h"

namespace netviz {

// Owners per inode sorted by (pid, fd); a (pid, fd) seen twice (threads of a process whose
// leader has exited each carry the table) counts once.
OwnerIndex owner_index_from_records(const std::vector<nv_snap_sock_file>& recs);

// The same, a batch of records at a time as the walk reads them.
class OwnerIndexBuilder {
 public:
  void add(const nv_snap_sock_file* recs, size_t n);
  size_t records() const { return records_; }
  OwnerIndex take() { return std::move(idx_); }

 private:
  OwnerIndex idx_;
  size_t records_ = 0;
  uint32_t prev_tgid_ = 0, prev_netns_ = 0;  // the last record's; tgid 0: none yet (no record has it)
};

// walk_owners_bpf(stats) is this with current_bpf_features().
// Counters: bpf_owners_load_us, bpf_owners_read_us (the walk and its index), bpf_owner_records.
std::optional<OwnerIndex> walk_owners_bpf(Stats& stats, const BpfFeatures& features);

}  // namespace netviz
