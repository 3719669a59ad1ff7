#pragma once
// An append-only list stored in fixed-size chunks. std::deque allocates one node per element
// once the element is larger than 512 bytes (a Flow is), which made every closed flow of a
// capture a separate malloc; a vector's doubling would hold up to twice the memory, plus both
// copies while it grows.
#include <cstddef>
#include <memory>
#include <vector>

namespace netviz {

template <class T, size_t kChunk = 256>
class ChunkedList {
 public:
  void push_back(T&& v) {
    if (chunks_.empty() || chunks_.back().size() == kChunk) {
      chunks_.emplace_back();
      chunks_.back().reserve(kChunk);
    }
    chunks_.back().push_back(std::move(v));
    ++size_;
  }
  T& back() { return chunks_.back().back(); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() {
    chunks_.clear();
    chunks_.shrink_to_fit();
    size_ = 0;
  }
  template <class F>
  void for_each(F&& f) const {
    for (const auto& c : chunks_)
      for (const auto& v : c) f(v);
  }

 private:
  std::vector<std::vector<T>> chunks_;
  size_t size_ = 0;
};

}  // namespace netviz
