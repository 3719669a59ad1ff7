#pragma once
// The initial scan: every socket on the host, in every network namespace in use, with the
// processes that hold it. Used alone by --snapshot and as the tracer's starting state.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/capture.h"
#include "model/filter.h"
#include "model/scan_result.h"

namespace netviz {

class NatBook;

struct ScanOptions {
  std::string proc_root = "/proc";
  bool allow_bpf = true;             // false: /proc + sock_diag only
  std::optional<uint64_t> only_netns;
  bool with_cmdline = true;
  // Reads each entered namespace's conntrack table into it and sets the flows' nat;
  // nat_follow also subscribes to the entries made later (the tracer).
  NatBook* nat = nullptr;
  bool nat_follow = false;
};

ScanResult scan_host(const ScanOptions& opts);

// --netns: an `ip netns` name, a path to a namespace file, or an inode number.
// Throws netviz::Error naming --netns when it resolves to nothing.
uint64_t resolve_netns(const std::string& spec, const std::string& proc_root = "/proc");

}  // namespace netviz
