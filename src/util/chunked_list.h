#pragma once
// An append-only list stored in fixed-size chunks (the closed flows of a capture,
// trace/closed_flows.h): no allocation per element, and no vector doubling, which would hold
// up to twice the memory plus both copies while it grows. The default chunk fills 2 MiB,
// which chunk_alloc backs with a huge page where it can (util/chunk_memory.h). Elements never
// move once added.
#include <cstddef>
#include <new>
#include <utility>
#include <vector>

#include "util/chunk_memory.h"

namespace netviz {

template <class T>
inline constexpr size_t kChunkFor = kHugeChunkBytes / sizeof(T) ? kHugeChunkBytes / sizeof(T) : 1;

template <class T, size_t kChunk = kChunkFor<T>>
class ChunkedList {
 public:
  ChunkedList() = default;
  ChunkedList(const ChunkedList&) = delete;
  ChunkedList& operator=(const ChunkedList&) = delete;
  ~ChunkedList() { clear(); }

  void push_back(T&& v) {
    if (chunks_.empty() || last_fill_ == kChunk) {
      chunks_.reserve(chunks_.size() + 1);
      chunks_.push_back(static_cast<T*>(chunk_alloc(kBytes)));
      last_fill_ = 0;
    }
    new (chunks_.back() + last_fill_) T(std::move(v));
    ++last_fill_;
    ++size_;
  }
  T& back() { return chunks_.back()[last_fill_ - 1]; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() {
    for (size_t c = 0; c < chunks_.size(); ++c) {
      T* chunk = chunks_[c];
      size_t n = c + 1 == chunks_.size() ? last_fill_ : kChunk;
      for (size_t i = 0; i < n; ++i) chunk[i].~T();
      chunk_free(chunk, kBytes);
    }
    std::vector<T*>().swap(chunks_);
    size_ = 0;
    last_fill_ = 0;
  }
  template <class F>
  void for_each(F&& f) const {
    for (size_t c = 0; c < chunks_.size(); ++c) {
      size_t n = c + 1 == chunks_.size() ? last_fill_ : kChunk;
      for (size_t i = 0; i < n; ++i) f(std::as_const(chunks_[c][i]));
    }
  }

 private:
  static constexpr size_t kBytes = kChunk * sizeof(T);
  std::vector<T*> chunks_;
  size_t last_fill_ = 0;  // elements in the last chunk
  size_t size_ = 0;
};

}  // namespace netviz
