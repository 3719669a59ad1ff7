#pragma once
// Memory for large append-only chunks. A chunk of 1 MiB or more is mapped on a 2 MiB boundary
// and offered to transparent huge pages (madvise mode): a capture storing a closed flow per
// connection otherwise takes a page fault every few flows, and on a virtual machine with
// shadow page tables a fault costs more than recording a connection (docs/benchmarks.md).
// Smaller chunks come from operator new.
#include <cstddef>

namespace netviz {

inline constexpr size_t kHugeChunkBytes = size_t{2} << 20;

void* chunk_alloc(size_t bytes);
void chunk_free(void* p, size_t bytes) noexcept;

}  // namespace netviz
