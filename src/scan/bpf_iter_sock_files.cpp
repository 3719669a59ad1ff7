#include "scan/bpf_iter_sock_files.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <vector>

#include "snapshot_iter.skel.h"

namespace netviz {
namespace {

// libbpf reports through a global print hook. While loading, keep its last warning so the
// failure is one line in stats.notes instead of a verifier dump on the user's stderr.
std::mutex g_log_mu;

struct LoadLog {
  std::string first;     // libbpf's first warning: usually the cause
  std::string verifier;  // the verifier's verdict, when it refused the program
};
LoadLog* g_log = nullptr;

// The verifier's log ends with its verdict, then "processed N insns ..." lines.
std::string verifier_verdict(const std::string& log) {
  std::string verdict;
  size_t pos = 0;
  while (pos < log.size()) {
    size_t end = log.find('\n', pos);
    if (end == std::string::npos) end = log.size();
    std::string line = log.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind("processed ", 0) == 0 || line.find("END PROG LOAD LOG") != std::string::npos)
      break;
    if (!line.empty() && line.find("BEGIN PROG LOAD LOG") == std::string::npos) verdict = line;
  }
  return verdict;
}

int capture_print(enum libbpf_print_level level, const char* fmt, va_list ap) {
  if (level == LIBBPF_DEBUG || !g_log) return 0;
  std::vector<char> buf(1 << 16);
  int n = vsnprintf(buf.data(), buf.size(), fmt, ap);
  if (n <= 0) return 0;
  std::string msg(buf.data());
  if (auto at = msg.find("BEGIN PROG LOAD LOG"); at != std::string::npos) {
    if (g_log->verifier.empty()) g_log->verifier = verifier_verdict(msg.substr(at));
    return 0;
  }
  if (msg.rfind("libbpf: ", 0) == 0) msg.erase(0, 8);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (g_log->first.empty() && !msg.empty()) g_log->first = msg;
  return 0;
}

class LibbpfLogCapture {
 public:
  LibbpfLogCapture() : lock_(g_log_mu) {
    g_log = &last_;
    previous_ = libbpf_set_print(capture_print);
  }
  ~LibbpfLogCapture() {
    libbpf_set_print(previous_);
    g_log = nullptr;
  }
  std::string fail(const std::string& step, int err) const {
    std::string msg = step + ": " + std::strerror(err < 0 ? -err : err);
    if (!last_.verifier.empty())
      msg += " (verifier: " + last_.verifier + ")";
    else if (!last_.first.empty())
      msg += " (libbpf: " + last_.first + ")";
    return msg;
  }

 private:
  std::lock_guard<std::mutex> lock_;
  LoadLog last_;
  libbpf_print_fn_t previous_ = nullptr;
};

struct SkelDeleter {
  void operator()(snapshot_iter_bpf* s) const { snapshot_iter_bpf__destroy(s); }
};
struct LinkDeleter {
  void operator()(bpf_link* l) const { bpf_link__destroy(l); }
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

struct SockFileIter::Impl {
  std::unique_ptr<snapshot_iter_bpf, SkelDeleter> skel;
  std::unique_ptr<bpf_link, LinkDeleter> link;
};

SockFileIter::SockFileIter(bool with_sock_netns) : impl_(std::make_unique<Impl>()) {
  LibbpfLogCapture log;
  impl_->skel.reset(snapshot_iter_bpf__open());
  if (!impl_->skel) throw BpfIterError(log.fail("opening the iter/task_file program", errno));
  impl_->skel->rodata->with_sock_netns = with_sock_netns ? 1 : 0;
  if (int err = snapshot_iter_bpf__load(impl_->skel.get()))
    throw BpfIterError(log.fail("loading the iter/task_file program", err));
  bpf_link* link = bpf_program__attach_iter(impl_->skel->progs.snapshot_sock_files, nullptr);
  if (!link) throw BpfIterError(log.fail("attaching the iter/task_file program", errno));
  impl_->link.reset(link);
}

SockFileIter::~SockFileIter() = default;

void SockFileIter::read_each(
    const std::function<void(const nv_snap_sock_file*, size_t)>& on_batch) const {
  Fd fd(bpf_iter_create(bpf_link__fd(impl_->link.get())));
  if (fd.get() < 0)
    throw BpfIterError(std::string("creating the task_file iterator: ") + std::strerror(errno));

  constexpr size_t kRec = sizeof(nv_snap_sock_file);
  // A read returns at most the kernel's seq_file buffer (8 pages), so room for more is never
  // used. Typed storage, so that whole records are handed over in place.
  std::vector<nv_snap_sock_file> recs(1024);
  char* buf = reinterpret_cast<char*>(recs.data());
  const size_t size = recs.size() * kRec;
  size_t have = 0;  // bytes of a partial record carried over from the previous read
  for (;;) {
    ssize_t n = read(fd.get(), buf + have, size - have);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw BpfIterError(std::string("reading the task_file iterator: ") + std::strerror(errno));
    }
    if (n == 0) break;
    have += static_cast<size_t>(n);
    size_t whole = have / kRec;
    if (whole) on_batch(recs.data(), whole);
    size_t rest = have - whole * kRec;
    if (rest) std::memmove(buf, buf + whole * kRec, rest);
    have = rest;
  }
  if (have)
    throw BpfIterError("reading the task_file iterator: stream ended inside a record (" +
                       std::to_string(have) + " stray bytes)");
}

}  // namespace netviz
