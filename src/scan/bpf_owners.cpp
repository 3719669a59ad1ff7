// Placeholder until the BPF iterator walk lands.
#include "scan/owners.h"
namespace netviz {
std::optional<OwnerIndex> walk_owners_bpf(Stats& stats) {
  stats.notes.push_back("bpf owner walk not built yet");
  return std::nullopt;
}
}  // namespace netviz
