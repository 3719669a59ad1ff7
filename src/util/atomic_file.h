#pragma once
// Output files written by a root process: a temporary file beside the target (created
// O_EXCL), renamed over the target only when complete, so an abandoned write leaves nothing
// behind. A symlink at the path is refused, never followed nor replaced (it may be planted,
// or be /dev/stdout). An existing non-regular target (/dev/null, a FIFO) is opened and
// written in place: renaming over it would destroy a device node.
#include <sys/types.h>

#include <memory>
#include <ostream>
#include <string>

namespace netviz {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path, mode_t mode = 0600);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ostream& stream();
  // Flushes, syncs and renames over the target. Throws netviz::Error on any failure.
  void commit();
  const std::string& path() const { return path_; }

 private:
  struct Impl;
  std::string path_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netviz
