#pragma once
// A heap on transparent huge pages for a short run that builds a large model at once (the
// snapshot). On this kind of virtual machine a page fault is dear (about 10 us, see
// chunk_memory.h) and a 40,000-socket snapshot touched about 17,000 small pages: half its
// CPU time. Call before any other thread starts; the memory is virtual until touched.
#include <cstddef>

namespace netviz {

// Grows the main heap by `bytes` (kept, never trimmed) and offers it to THP; makes every
// thread allocate from it. A no-op where THP is off or the heap cannot grow.
void use_huge_heap(size_t bytes);

}  // namespace netviz
