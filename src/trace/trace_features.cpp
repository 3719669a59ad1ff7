#include "trace/trace_features.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace netviz {

std::string TraceFeatures::missing() const {
  if (!privileged)
    return "tracing needs root (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and CAP_SYS_ADMIN)" +
           (privilege_error.empty() ? std::string() : ": " + privilege_error);
  if (!btf) return "tracing needs kernel BTF (/sys/kernel/btf/vmlinux is missing)";
  if (!ringbuf) return "tracing needs BPF ring buffers (kernel 5.8 or later)";
  if (cgroup2.empty()) return "tracing needs a cgroup2 mount (none in /proc/self/mounts)";
  return "";
}

std::string find_cgroup2_mount(std::istream& in) {
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string dev, dir, type;
    if (ls >> dev >> dir >> type && type == "cgroup2") {
      // /proc/self/mounts escapes spaces and friends as octal.
      std::string out;
      for (size_t i = 0; i < dir.size(); ++i) {
        if (dir[i] == '\\' && i + 3 < dir.size()) {
          out += static_cast<char>(std::stoi(dir.substr(i + 1, 3), nullptr, 8));
          i += 3;
        } else {
          out += dir[i];
        }
      }
      return out;
    }
  }
  return "";
}

TraceFeatures probe_trace_features() {
  TraceFeatures f;
  f.btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
  std::ifstream mounts("/proc/self/mounts");
  f.cgroup2 = find_cgroup2_mount(mounts);
  // libbpf's probes say "unsupported" for any failure, so ask bpf() directly first: EPERM
  // means missing privileges, not a missing feature.
  int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, nullptr, 4, 4, 1, nullptr);
  if (fd < 0) {
    int e = errno;
    if (e == EPERM || e == EACCES) {
      f.privilege_error = std::string("bpf(): ") + strerror(e);
      return f;
    }
  } else {
    close(fd);
  }
  f.privileged = true;
  f.ringbuf = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) > 0;
  // libbpf cannot probe tp_btf; the loader does (probe_tp_btf) before it loads.
  f.tp_btf = f.btf;
  return f;
}

}  // namespace netviz
