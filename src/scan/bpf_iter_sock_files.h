#pragma once
// The iter/task_file program (bpf/snapshot_iter.bpf.c) loaded, attached and read: every open
// socket file of every process on the host, in one pass through the kernel's task list.
#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "netviz/events.h"

namespace netviz {

// Loading or reading the iterator failed; what() is one line naming the step and the cause.
class BpfIterError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class SockFileIter {
 public:
  // Opens, loads (verifier) and attaches the program. with_sock_netns fills sock_netns and
  // sk, which slows the walk by about a third (two more cold cache lines per socket).
  // Throws BpfIterError.
  explicit SockFileIter(bool with_sock_netns = false);
  ~SockFileIter();
  SockFileIter(const SockFileIter&) = delete;
  SockFileIter& operator=(const SockFileIter&) = delete;

  // One full walk, handed over a read at a time, never every record at once: each page the
  // process touches anew costs more than the work on it. Each call starts a fresh iteration.
  // Throws BpfIterError.
  void read_each(const std::function<void(const nv_snap_sock_file*, size_t)>& on_batch) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netviz
