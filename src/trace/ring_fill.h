#pragma once
// How full the BPF ring buffer is: the kernel's producer position minus the reader's
// consumer position, read from read-only mappings of the map's two position pages. libbpf
// 1.1 (Debian 12) has no accessor for it; the layout is the kernel's uapi for BPF_MAP_TYPE_RINGBUF.
#include <cstddef>
#include <cstdint>

namespace netviz {

class RingFill {
 public:
  // map_fd: a BPF_MAP_TYPE_RINGBUF map of `size` bytes. Throws Error when it cannot be mapped.
  RingFill(int map_fd, uint64_t size);
  ~RingFill();
  RingFill(const RingFill&) = delete;
  RingFill& operator=(const RingFill&) = delete;

  uint64_t size() const { return size_; }
  // Bytes written by the kernel and not yet consumed (record headers included).
  uint64_t used() const;

 private:
  uint64_t size_;
  size_t page_;
  void* consumer_ = nullptr;
  void* producer_ = nullptr;
};

}  // namespace netviz
