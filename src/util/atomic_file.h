#pragma once
// Output files written by a root process: a temporary file beside the target (created
// O_EXCL, never following links), renamed over the target only when complete. A planted
// symlink at the path is replaced, never followed; an abandoned write leaves nothing behind.
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
