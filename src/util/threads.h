#pragma once
// How many threads this process runs: a fork() that goes on running C++ in the child must
// come before any other thread exists.
#include <cstddef>

namespace netviz {

size_t thread_count();  // 1 when /proc cannot be read

}  // namespace netviz
