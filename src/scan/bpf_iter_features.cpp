#include "scan/bpf_iter_features.h"

#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

namespace netviz {
namespace {

constexpr int kCapSysAdmin = 21;
constexpr int kCapPerfmon = 38;
constexpr int kCapBpf = 39;

const BpfFeatures* g_override = nullptr;

// CapEff from /proc/self/status; false when it cannot be read.
bool effective_caps(const std::string& path, uint64_t& caps) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("CapEff:", 0) == 0) {
      try {
        caps = std::stoull(line.substr(7), nullptr, 16);
        return true;
      } catch (const std::exception&) {
        return false;
      }
    }
  }
  return false;
}

bool has(uint64_t caps, int cap) { return (caps >> cap) & 1; }

}  // namespace

HostBpfFeatures::HostBpfFeatures(std::string proc_self_status, std::string vmlinux_btf)
    : status_path_(std::move(proc_self_status)), btf_path_(std::move(vmlinux_btf)) {}

std::string HostBpfFeatures::iter_unavailable_reason() const {
  uint64_t caps = 0;
  if (!effective_caps(status_path_, caps))
    return "cannot read capabilities from " + status_path_;
  bool ok = has(caps, kCapSysAdmin) || (has(caps, kCapBpf) && has(caps, kCapPerfmon));
  if (!ok) return "not permitted: BPF iterators need CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN";
  if (access(btf_path_.c_str(), R_OK) != 0)
    return "no kernel BTF at " + btf_path_ + " (CO-RE programs cannot be relocated)";
  return "";
}

const BpfFeatures& current_bpf_features() {
  static const HostBpfFeatures host;
  return g_override ? *g_override : host;
}

ScopedBpfFeatures::ScopedBpfFeatures(const BpfFeatures& f) : previous_(g_override) {
  g_override = &f;
}
ScopedBpfFeatures::~ScopedBpfFeatures() { g_override = previous_; }

}  // namespace netviz
