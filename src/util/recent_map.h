#pragma once
// A fixed-size map that remembers the most recent entries: 4-way set associative, the oldest
// entry of a set makes room for a new one. It answers "was this seen lately?" for keys that
// repeat within a short window (kernel reports of one socket within a ring buffer drain).
// No node allocation per entry and one cache line per lookup: it sits on the tracer's hot
// path (docs/benchmarks.md).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace netviz {

template <class V>
class RecentMap {
 public:
  // Capacity is sets * 4 entries; sets is rounded up to a power of two.
  explicit RecentMap(size_t min_entries) {
    size_t sets = 1;
    while (sets * kWays < min_entries) sets <<= 1;
    sets_.resize(sets);
    mask_ = sets - 1;
  }

  // Key 0 is never stored (it marks an empty way).
  std::optional<V> find(uint64_t key) const {
    const Set& s = sets_[index(key)];
    for (size_t w = 0; w < kWays; ++w)
      if (s.keys[w] == key && key) return s.values[w];
    return std::nullopt;
  }

  void put(uint64_t key, const V& value) {
    if (!key) return;
    Set& s = sets_[index(key)];
    for (size_t w = 0; w < kWays; ++w)
      if (s.keys[w] == key) {
        s.values[w] = value;
        return;
      }
    size_t w = s.next++ % kWays;  // round robin: the oldest way of the set
    s.keys[w] = key;
    s.values[w] = value;
  }

  size_t capacity() const { return sets_.size() * kWays; }

 private:
  static constexpr size_t kWays = 4;
  struct Set {
    std::array<uint64_t, kWays> keys{};
    std::array<V, kWays> values{};
    uint8_t next = 0;
  };
  size_t index(uint64_t key) const {
    // Kernel addresses share their low bits (slab alignment): mix before masking.
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    key *= 0xc4ceb9fe1a85ec53ULL;
    key ^= key >> 33;
    return static_cast<size_t>(key) & mask_;
  }
  std::vector<Set> sets_;
  size_t mask_ = 0;
};

}  // namespace netviz
