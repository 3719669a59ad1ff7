#pragma once
// Whether the BPF owner walk may be tried on this host. An object, so tests can swap in a
// probe that says no and watch the scan fall back to /proc.
#include <string>

namespace netviz {

class BpfFeatures {
 public:
  virtual ~BpfFeatures() = default;
  // "" when iter/task_file may be tried; otherwise one line saying why not.
  virtual std::string iter_unavailable_reason() const = 0;
};

// The running host: privileges (CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN) and kernel BTF.
// Anything it cannot see cheaply (verifier, iterator support) shows up when loading.
class HostBpfFeatures : public BpfFeatures {
 public:
  explicit HostBpfFeatures(std::string proc_self_status = "/proc/self/status",
                           std::string vmlinux_btf = "/sys/kernel/btf/vmlinux");
  std::string iter_unavailable_reason() const override;

 private:
  std::string status_path_;
  std::string btf_path_;
};

// The probe walk_owners_bpf(Stats&) consults: the host's unless a ScopedBpfFeatures is alive.
const BpfFeatures& current_bpf_features();

// Replaces the probe for its lifetime (tests). Not thread-safe; do not nest across threads.
class ScopedBpfFeatures {
 public:
  explicit ScopedBpfFeatures(const BpfFeatures& f);
  ~ScopedBpfFeatures();
  ScopedBpfFeatures(const ScopedBpfFeatures&) = delete;
  ScopedBpfFeatures& operator=(const ScopedBpfFeatures&) = delete;

 private:
  const BpfFeatures* previous_;
};

}  // namespace netviz
