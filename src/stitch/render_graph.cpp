#include "stitch/render_graph.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <sstream>

#include "stitch/render_dot.h"
#include "util/error.h"

namespace netviz {

RenderLayout parse_layout(const std::string& s) {
  if (s == "dot") return RenderLayout::dot;
  if (s == "fdp") return RenderLayout::fdp;
  if (s == "sfdp") return RenderLayout::sfdp;
  if (s == "neato") return RenderLayout::neato;
  throw Error("--layout: expected dot, fdp, sfdp or neato, got \"" + s + "\"");
}

const char* layout_name(RenderLayout l) {
  switch (l) {
    case RenderLayout::dot: return "dot";
    case RenderLayout::fdp: return "fdp";
    case RenderLayout::sfdp: return "sfdp";
    case RenderLayout::neato: return "neato";
  }
  return "dot";
}

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

std::string render_graph(const Graph& g, StitchView view, RenderLayout layout,
                         const std::string& format, double timeout_s) {
  if (format != "svg" && format != "png" && format != "pdf")
    throw Error("picture format: expected svg, png or pdf, got \"" + format + "\"");
  std::ostringstream dot;
  write_picture_dot(dot, g, view);
  std::string text = dot.str();

  // One layout at a time: each takes a core, and the machine has few.
  static std::mutex mu;
  std::lock_guard lock(mu);
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + strerror(errno));
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    throw std::runtime_error(std::string("fork: ") + strerror(errno));
  }
  if (pid == 0) {
    close(p[0]);
    render_child(p[1], text, layout_name(layout), format.c_str());
  }
  close(p[1]);
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  std::string out;
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
    int r = poll(&pfd, 1, wait_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) continue;  // the deadline is checked above
    ssize_t n = read(p[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(p[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    throw RenderTimeout(std::string("graphviz: ") + layout_name(layout) + " layout of " +
                        std::to_string(g.nodes.size()) + " nodes took longer than " +
                        std::to_string(static_cast<int>(timeout_s)) + " s");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error(std::string("graphviz: cannot lay out or render the graph (") +
                             layout_name(layout) + ", " + format + ")");
  return out;
}

}  // namespace netviz
