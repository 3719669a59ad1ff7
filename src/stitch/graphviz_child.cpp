#include "stitch/graphviz_child.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace netviz {

namespace {

// In the child: lay out, render, write everything to `fd`, exit without freeing.
[[noreturn]] void render_child(int fd, const std::string& dot, const char* layout,
                               const char* format) {
  agseterr(AGMAX);  // warnings and errors: the exit status says enough
  GVC_t* gvc = gvContext();
  Agraph_t* g = gvc ? agmemread(dot.c_str()) : nullptr;
  if (!g || gvLayout(gvc, g, layout) != 0) _exit(3);
  char* data = nullptr;
  unsigned int len = 0;
  if (gvRenderData(gvc, g, format, &data, &len) != 0 || !data) _exit(4);
  for (unsigned int off = 0; off < len;) {
    ssize_t n = write(fd, data + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(5);
    off += static_cast<unsigned int>(n);
  }
  _exit(0);
}

}  // namespace

ChildRender render_in_child(const std::string& dot, const std::string& layout,
                            const std::string& format, double timeout_s) {
  ChildRender r;
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) {
    r.out = std::string("pipe: ") + strerror(errno);
    return r;
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    r.out = std::string("fork: ") + strerror(errno);
    close(p[0]);
    close(p[1]);
    return r;
  }
  if (pid == 0) {
    // A layout outliving whoever waits for it would only burn a core.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(6);
    close(p[0]);
    render_child(p[1], dot, layout.c_str(), format.c_str());
  }
  close(p[1]);
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  char buf[1 << 16];
  bool timed_out = false;
  for (;;) {
    int wait_ms = -1;
    if (timeout_s > 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        timed_out = true;
        break;
      }
      wait_ms = static_cast<int>(left.count());
    }
    pollfd pfd{p[0], POLLIN, 0};
    int n = poll(&pfd, 1, wait_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) continue;  // the deadline is checked above
    ssize_t got = read(p[0], buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    r.out.append(buf, static_cast<size_t>(got));
  }
  close(p[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    r.status = ChildRender::Status::timed_out;
    r.out.clear();
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    r.status = ChildRender::Status::ok;
  } else {
    r.out = "graphviz: cannot lay out or render the graph (" + layout + ", " + format + ")";
  }
  return r;
}

}  // namespace netviz
