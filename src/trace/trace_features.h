#pragma once
// What the running kernel offers the tracer, found by runtime probes (never by version).
// The loader takes this object; tests inject their own.
#include <istream>
#include <string>
#include <vector>

namespace netviz {

struct TraceFeatures {
  bool privileged = false;  // bpf() is allowed to us
  bool btf = false;         // kernel BTF for CO-RE
  bool ringbuf = false;     // BPF_MAP_TYPE_RINGBUF
  bool tp_btf = false;      // use the tp_btf flavour if the loader's probe loads
  // The tp_btf hand-over keeps one record per CPU for all contexts instead of one per stack
  // (bpf/tcp_state.bpf.c context_level): what other architectures get; tests force it here.
  bool one_context = false;
  // Programs left unloaded on request (--bench-skip-hooks): only for measuring what
  // each hook costs; the capture is then incomplete and its notes say so.
  std::vector<std::string> skip_hooks;
  std::string cgroup2;      // cgroup2 mount point; "" when none
  std::string privilege_error;

  // "" when tracing can run, else one line naming what is missing.
  std::string missing() const;
};

TraceFeatures probe_trace_features();

// The first cgroup2 mount point in a /proc/self/mounts text; "" when there is none.
std::string find_cgroup2_mount(std::istream& mounts);

}  // namespace netviz
