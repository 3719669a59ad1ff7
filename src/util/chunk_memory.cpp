#include "util/chunk_memory.h"

#include <sys/mman.h>

#include <cstdint>
#include <new>

namespace netviz {

namespace {
size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

// A chunk sized to fill a huge page with whole elements falls a little short of one.
bool huge(size_t bytes) { return bytes >= kHugeChunkBytes / 2; }
}  // namespace

void* chunk_alloc(size_t bytes) {
  if (!huge(bytes)) return ::operator new(bytes);
  const size_t len = round_up(bytes, kHugeChunkBytes);
  // One huge page of slack, trimmed, so the chunk starts on a boundary THP can use.
  void* raw = mmap(nullptr, len + kHugeChunkBytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  auto lo = reinterpret_cast<uintptr_t>(raw);
  uintptr_t start = round_up(lo, kHugeChunkBytes);
  if (start > lo) munmap(raw, start - lo);
  uintptr_t end = start + len, hi = lo + len + kHugeChunkBytes;
  if (hi > end) munmap(reinterpret_cast<void*>(end), hi - end);
  // Without THP (or with it set to never) this fails and the chunk uses small pages.
  madvise(reinterpret_cast<void*>(start), len, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(start);
}

void chunk_free(void* p, size_t bytes) noexcept {
  if (!p) return;
  if (!huge(bytes)) {
    ::operator delete(p);
    return;
  }
  munmap(p, round_up(bytes, kHugeChunkBytes));
}

}  // namespace netviz
