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
  int r = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr);
  if (r == -EPERM || r == -EACCES) {
    f.privilege_error = std::string("bpf(): ") + strerror(-r);
    return f;
  }
  f.privileged = true;
  if (r < 0) {
    // Could be missing privileges all the same: probe a plain array map.
    int a = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_ARRAY, nullptr);
    if (a == -EPERM || a == -EACCES) {
      f.privileged = false;
      f.privilege_error = std::string("bpf(): ") + strerror(-a);
      return f;
    }
  }
  f.ringbuf = r > 0;
  // libbpf cannot probe tp_btf alone; the loader tries it and falls back when it fails.
  f.tp_btf = f.btf;
  return f;
}

}  // namespace netviz
