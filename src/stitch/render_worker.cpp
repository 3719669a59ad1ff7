#include "stitch/render_worker.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "util/threads.h"

namespace netviz {

namespace {

std::atomic<RenderWorker*> g_current{nullptr};

// The messages between the two ends of the socket: a head, then its strings. Both ends are
// the same binary, so the heads go as they lie in memory (no padding in either).
struct RequestHead {
  uint64_t dot_len;
  double timeout_s;
  uint32_t layout_len;
  uint32_t format_len;
};
struct ReplyHead {
  uint64_t len;
  uint32_t status;  // ChildRender::Status
  uint32_t unused;
};

bool write_full(int fd, const void* p, size_t len) {
  const char* c = static_cast<const char*>(p);
  while (len > 0) {
    ssize_t n = send(fd, c, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    c += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

// Reads exactly `len` bytes; false at end of file, on an error or at `deadline` (if set).
bool read_full(int fd, void* p, size_t len, std::chrono::steady_clock::time_point deadline = {}) {
  char* c = static_cast<char*>(p);
  while (len > 0) {
    if (deadline != std::chrono::steady_clock::time_point{}) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd pfd{fd, POLLIN, 0};
      int r = poll(&pfd, 1, static_cast<int>(left.count()));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
    }
    ssize_t n = read(fd, c, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    c += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

// The worker: one request at a time until its owner closes the socket.
[[noreturn]] void worker_loop(int fd) {
  for (;;) {
    RequestHead h;
    if (!read_full(fd, &h, sizeof h)) _exit(0);
    if (h.layout_len > 64 || h.format_len > 64 || h.dot_len > (uint64_t{1} << 32)) _exit(1);
    std::string layout(h.layout_len, '\0'), format(h.format_len, '\0'), dot(h.dot_len, '\0');
    if (!read_full(fd, layout.data(), layout.size()) ||
        !read_full(fd, format.data(), format.size()) || !read_full(fd, dot.data(), dot.size()))
      _exit(0);
    ChildRender r = render_in_child(dot, layout, format, h.timeout_s);
    ReplyHead rh{r.out.size(), static_cast<uint32_t>(r.status), 0};
    if (!write_full(fd, &rh, sizeof rh) || !write_full(fd, r.out.data(), r.out.size())) _exit(0);
  }
}

std::string exit_text(int status) {
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

RenderWorker::RenderWorker() {
  if (size_t n = thread_count(); n > 1)
    throw std::logic_error("render worker: must start before any thread (" + std::to_string(n) +
                           " running)");
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    throw std::runtime_error(std::string("render worker: socketpair: ") + strerror(errno));
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(sv[0]);
    close(sv[1]);
    throw std::runtime_error(std::string("render worker: fork: ") + strerror(e));
  }
  if (pid == 0) {
    close(sv[0]);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(0);
    prctl(PR_SET_NAME, "netviz-render");
    // The owner's stop signals reach the worker too (a terminal's ^C goes to the group); it
    // leaves when the owner does, so a render in flight at shutdown still gets its answer.
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0) dup2(null, STDIN_FILENO);
    worker_loop(sv[1]);
  }
  close(sv[1]);
  pid_ = pid;
  fd_ = sv[0];
  g_current.store(this);
}

RenderWorker::~RenderWorker() {
  RenderWorker* self = this;
  g_current.compare_exchange_strong(self, nullptr);
  if (fd_ >= 0) close(fd_);
  if (pid_ <= 0) return;
  // End of file ends an idle worker at once; one still drawing is not waited for.
  int status = 0;
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

RenderWorker* RenderWorker::current() { return g_current.load(); }

void RenderWorker::lost(const std::string& why) {
  // Reaped here, so the message can say how the worker ended.
  std::string how = why;
  int status = 0;
  pid_t r = 0;
  for (int i = 0; i < 50 && (r = waitpid(pid_, &status, WNOHANG)) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (r == 0) {
    kill(pid_, SIGKILL);
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  } else if (r == pid_) {
    how = exit_text(status);
  }
  close(fd_);
  fd_ = -1;
  lost_ = "render worker (pid " + std::to_string(pid_) + ") " + how +
          "; no pictures until the process restarts";
  pid_ = -1;
  throw RenderWorkerLost(lost_);
}

ChildRender RenderWorker::render(const std::string& dot, const std::string& layout,
                                 const std::string& format, double timeout_s) {
  if (!lost_.empty()) throw RenderWorkerLost(lost_);
  RequestHead h{dot.size(), timeout_s, static_cast<uint32_t>(layout.size()),
                static_cast<uint32_t>(format.size())};
  if (!write_full(fd_, &h, sizeof h) || !write_full(fd_, layout.data(), layout.size()) ||
      !write_full(fd_, format.data(), format.size()) || !write_full(fd_, dot.data(), dot.size()))
    lost(std::string("closed its end (") + strerror(errno) + ")");
  // The worker enforces the timeout; this one only finds a worker that stopped answering.
  std::chrono::steady_clock::time_point deadline{};
  if (timeout_s > 0)
    deadline = std::chrono::steady_clock::now() +
               std::chrono::milliseconds(static_cast<int64_t>((timeout_s + 10) * 1000));
  ReplyHead rh;
  if (!read_full(fd_, &rh, sizeof rh, deadline)) lost("did not answer");
  ChildRender r;
  r.status = static_cast<ChildRender::Status>(rh.status);
  r.out.resize(rh.len);
  if (!read_full(fd_, r.out.data(), r.out.size(), deadline)) lost("did not answer");
  return r;
}

}  // namespace netviz
