#pragma once
// Dropping privileges once the tracer no longer needs them. After the BPF programs are
// loaded and attached and the initial scan is done, the tracer only reads the ring buffer
// (mmap + epoll), reads its BPF maps through fds it already holds, reads world-readable
// /proc files of new processes, and writes its output. None of that needs a capability on
// kernels since 5.19, except writing -o FILE into a directory root may only write through
// CAP_DAC_OVERRIDE (see tracer_kept_caps).
#include <cstdint>
#include <string>
#include <vector>

namespace netviz {

struct CapSets {
  uint64_t effective = 0;
  uint64_t permitted = 0;
  uint64_t inheritable = 0;
  uint64_t bounding = 0;  // PR_CAPBSET_READ of every capability the kernel knows
  uint64_t ambient = 0;
  bool no_new_privs = false;
};

// The calling thread's capability sets (capget and prctl).
CapSets current_caps();

// The highest capability number the running kernel knows (/proc/sys/kernel/cap_last_cap).
int last_cap();

struct DropReport {
  uint64_t kept = 0;          // mask of the capabilities left in effective and permitted
  bool bounding_cleared = false;  // false when CAP_SETPCAP was not held (nothing to clear)
};

// Sets PR_SET_NO_NEW_PRIVS, clears the ambient set, drops every capability but `keep` from
// the bounding set (when CAP_SETPCAP is held), and sets effective = permitted = keep (those
// of them currently permitted), inheritable = none. Capabilities are per thread: this must
// run while the process has a single thread, and throws netviz::Error otherwise, or when
// the kernel refuses any step.
DropReport drop_capabilities(const std::vector<int>& keep);

// What the tracer keeps once tracing has started, each with the reason (for --verbose):
// - -o FILE: CAP_DAC_OVERRIDE, to create the temporary file and rename it into a directory
//   whose mode bits do not let uid 0 write (a user's 0755 home); plus CAP_FOWNER when the
//   directory is sticky (/tmp), to rename over an entry another user planted there.
// - kernels before 5.19 with kernel.unprivileged_bpf_disabled set refuse every bpf()
//   command without CAP_BPF (CAP_SYS_ADMIN before 5.8), even on fds already open: the map
//   reads at the end (UDP counters, drop counters) would fail, so those are kept there.
// `kernel_release` and `unpriv_bpf_disabled` are parameters so tests can cover each case;
// tracer_kept_caps_here() reads them from uname and /proc/sys.
std::vector<int> tracer_kept_caps(const std::string& output_path, const std::string& kernel_release,
                                  int unpriv_bpf_disabled, std::vector<std::string>* why = nullptr);
std::vector<int> tracer_kept_caps_here(const std::string& output_path,
                                       std::vector<std::string>* why = nullptr);

// "cap_dac_override" etc., for messages.
std::string cap_name(int cap);

}  // namespace netviz
