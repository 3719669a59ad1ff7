#include "util/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ext/stdio_filebuf.h>
#include <vector>

#include "util/error.h"

namespace netviz {

struct AtomicFile::Impl {
  std::string tmp;
  int fd = -1;
  std::unique_ptr<__gnu_cxx::stdio_filebuf<char>> buf;
  std::unique_ptr<std::ostream> out;
  bool committed = false;
  bool in_place = false;  // a device or FIFO: written directly, never renamed over
};

AtomicFile::AtomicFile(std::string path, mode_t mode) : path_(std::move(path)), impl_(new Impl) {
  if (path_.empty()) throw Error("output path is empty");
  struct stat st{};
  if (lstat(path_.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode))
      throw Error(path_ + ": is a symbolic link; refusing to write through it");
    if (S_ISDIR(st.st_mode)) throw Error(path_ + ": is a directory");
    if (!S_ISREG(st.st_mode)) {
      int fd = open(path_.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
      if (fd < 0) throw Error(path_ + ": cannot open: " + std::strerror(errno));
      impl_->fd = fd;
      impl_->in_place = true;
      impl_->buf = std::make_unique<__gnu_cxx::stdio_filebuf<char>>(fd, std::ios::out, 1 << 16);
      impl_->out = std::make_unique<std::ostream>(impl_->buf.get());
      return;
    }
  }
  auto slash = path_.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path_.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? path_ : path_.substr(slash + 1);
  std::string tmpl = (slash == std::string::npos ? std::string() : dir) + "." + base + ".tmp.XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  int fd = mkostemp(name.data(), O_CLOEXEC);  // O_EXCL, mode 0600
  if (fd < 0) throw Error(path_ + ": cannot create: " + std::strerror(errno));
  if (mode != 0600 && fchmod(fd, mode) != 0) {
    int e = errno;
    close(fd);
    unlink(name.data());
    throw Error(path_ + ": cannot set mode: " + std::strerror(e));
  }
  impl_->tmp = name.data();
  impl_->fd = fd;
  impl_->buf = std::make_unique<__gnu_cxx::stdio_filebuf<char>>(fd, std::ios::out, 1 << 16);
  impl_->out = std::make_unique<std::ostream>(impl_->buf.get());
}

AtomicFile::~AtomicFile() {
  if (!impl_->committed && !impl_->tmp.empty()) {
    impl_->out.reset();
    impl_->buf.reset();  // closes fd
    unlink(impl_->tmp.c_str());
  }
}

std::ostream& AtomicFile::stream() { return *impl_->out; }

void AtomicFile::commit() {
  impl_->out->flush();
  bool ok = impl_->out->good();
  if (impl_->in_place) {
    int e = errno;
    impl_->out.reset();
    impl_->buf.reset();
    impl_->committed = true;
    if (!ok) throw Error(path_ + ": write failed: " + std::strerror(e ? e : EIO));
    return;
  }
  if (ok && fsync(impl_->fd) != 0) ok = false;
  int e = errno;
  impl_->out.reset();
  impl_->buf.reset();
  if (!ok) {
    unlink(impl_->tmp.c_str());
    impl_->tmp.clear();
    throw Error(path_ + ": write failed: " + std::strerror(e ? e : EIO));
  }
  if (rename(impl_->tmp.c_str(), path_.c_str()) != 0) {
    e = errno;
    unlink(impl_->tmp.c_str());
    impl_->tmp.clear();
    throw Error(path_ + ": cannot rename into place: " + std::strerror(e));
  }
  impl_->committed = true;
}

}  // namespace netviz
