#include "trace/ring_fill.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "util/error.h"

namespace netviz {

RingFill::RingFill(int map_fd, uint64_t size)
    : size_(size), page_(static_cast<size_t>(sysconf(_SC_PAGESIZE))) {
  // Page 0 holds the consumer position, page 1 the producer's; the kernel lets any
  // process holding the fd map both read-only.
  consumer_ = mmap(nullptr, page_, PROT_READ, MAP_SHARED, map_fd, 0);
  if (consumer_ == MAP_FAILED) {
    consumer_ = nullptr;
    throw Error(std::string("cannot map the ring buffer's positions: ") + strerror(errno));
  }
  producer_ = mmap(nullptr, page_, PROT_READ, MAP_SHARED, map_fd, static_cast<off_t>(page_));
  if (producer_ == MAP_FAILED) {
    producer_ = nullptr;
    int e = errno;
    munmap(consumer_, page_);
    throw Error(std::string("cannot map the ring buffer's positions: ") + strerror(e));
  }
}

RingFill::~RingFill() {
  if (consumer_) munmap(consumer_, page_);
  if (producer_) munmap(producer_, page_);
}

uint64_t RingFill::used() const {
  // Consumer first: it only grows towards the producer, so the difference is never negative.
  uint64_t cons = __atomic_load_n(static_cast<const uint64_t*>(consumer_), __ATOMIC_ACQUIRE);
  uint64_t prod = __atomic_load_n(static_cast<const uint64_t*>(producer_), __ATOMIC_ACQUIRE);
  return prod > cons ? prod - cons : 0;
}

}  // namespace netviz
