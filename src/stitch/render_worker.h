#pragma once
// A process that draws pictures for a multi-threaded one. Forking a child per picture from a
// process whose other threads allocate is not safe under every allocator (the sanitizers'
// is not fork-safe: a child can hang on a lock another thread held). The worker is forked
// once, before any thread starts; it is single-threaded, so it can fork a child per render
// (render_in_child) safely. It leaves when its owner does: end of file on its socket, or
// PR_SET_PDEATHSIG when the owner dies.
#include <sys/types.h>

#include <stdexcept>
#include <string>

#include "stitch/graphviz_child.h"

namespace netviz {

// The worker is gone (killed, crashed) or stopped answering: no picture can be drawn until
// the process restarts, as forking a new worker from a threaded process is what it avoids.
struct RenderWorkerLost : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class RenderWorker {
 public:
  // Forks the worker; call while the process has one thread. While it lives, render_graph
  // sends every render to it.
  RenderWorker();
  ~RenderWorker();
  RenderWorker(const RenderWorker&) = delete;
  RenderWorker& operator=(const RenderWorker&) = delete;

  // One render in the worker's child. One caller at a time (render_graph holds its lock).
  // Throws RenderWorkerLost, then and for every later call, once the worker is gone.
  ChildRender render(const std::string& dot, const std::string& layout,
                     const std::string& format, double timeout_s);

  pid_t pid() const { return pid_; }
  // The worker of this process, or nullptr.
  static RenderWorker* current();

 private:
  [[noreturn]] void lost(const std::string& why);

  pid_t pid_ = -1;
  int fd_ = -1;
  std::string lost_;  // why the worker is gone; empty while it works
};

}  // namespace netviz
