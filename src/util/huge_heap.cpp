#include "util/huge_heap.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

namespace netviz {

void use_huge_heap(size_t bytes) {
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  // One arena: a thread's own arena would be small mapped heaps outside the advised range.
  mallopt(M_ARENA_MAX, 1);
  // Blocks up to glibc's largest threshold come from the heap instead of their own mmap.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  // Keep what is freed, so it is reused rather than returned and faulted in again.
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(bytes < (1u << 30) ? bytes * 2 : 1u << 30));
  mallopt(M_TOP_PAD, static_cast<int>(bytes < (1u << 30) ? bytes : 1u << 30));
  auto before = reinterpret_cast<uintptr_t>(sbrk(0));
  // More than the heap has free, so it grows (by the top pad too); volatile, or the compiler
  // drops the malloc and free pair as unused.
  void* volatile grow = malloc(1 << 20);
  auto after = reinterpret_cast<uintptr_t>(sbrk(0));
  free(grow);
  mallopt(M_TOP_PAD, 128 << 10);  // glibc's default again for growth beyond it
  uintptr_t start = (before + kHuge - 1) & ~(kHuge - 1), end = after & ~(kHuge - 1);
  if (before == uintptr_t(-1) || end <= start) return;
  madvise(reinterpret_cast<void*>(start), end - start, MADV_HUGEPAGE);
}

}  // namespace netviz
