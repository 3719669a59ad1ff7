// The render worker: the live page's pictures are drawn by a process forked before any
// thread, so the server's threads never fork. Renders through it draw, time out and recover;
// many threads may ask at once while others allocate; a lost worker is an error, not a hang;
// and the worker leaves with its owner.
#include <gtest/gtest.h>
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>
#include <vector>

#include "stitch/render_graph.h"
#include "stitch/render_worker.h"
#include "stitch_test_util.h"

using namespace netviz;
using stitch_test::stitch;

namespace {

// Processes whose parent is `pid` (read from /proc/*/stat: /proc/PID/task/*/children is not
// in every kernel).
std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  DIR* d = opendir("/proc");
  while (dirent* e = d ? readdir(d) : nullptr) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream f(std::string("/proc/") + e->d_name + "/stat");
    std::string stat;
    std::getline(f, stat);
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    int ppid = 0;
    if (sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid) == 2 && ppid == pid)
      out.push_back(atoi(e->d_name));
  }
  if (d) closedir(d);
  return out;
}

// Gone, or a zombie nobody reaped yet (a container's init may not).
bool gone(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(f, stat)) return true;
  size_t close = stat.rfind(')');
  return close != std::string::npos && stat.size() > close + 2 && stat[close + 2] == 'Z';
}

Graph slow_graph() { return stitch_test::ten_host_graph("render-worker"); }

bool is_svg(const std::string& s) { return s.find("<svg") != std::string::npos; }

}  // namespace

TEST(RenderWorker, DrawsTimesOutAndDrawsAgain) {
  Graph small = stitch({"web1.json", "db1.json"});
  Graph slow = slow_graph();
  RenderWorker w;
  ASSERT_EQ(RenderWorker::current(), &w);
  EXPECT_TRUE(is_svg(render_graph(small, StitchView::process, RenderLayout::dot, "svg", 10)));
  EXPECT_THROW(render_graph(slow, StitchView::process, RenderLayout::dot, "svg", 0.001),
               RenderTimeout);
  // The layout that ran out of time was killed and reaped by the worker, which goes on.
  EXPECT_TRUE(children_of(w.pid()).empty());
  EXPECT_TRUE(is_svg(render_graph(small, StitchView::host, RenderLayout::dot, "svg", 10)));
  EXPECT_EQ(render_graph(small, StitchView::process, RenderLayout::dot, "png", 10).substr(1, 3), "PNG");
}

TEST(RenderWorker, ConcurrentRendersWhileOtherThreadsAllocate) {
  // A child forked from a threaded process while another thread holds an allocator lock can
  // hang (the sanitizers' allocator is not fork-safe); the worker is what keeps the server's
  // threads from forking at all.
  Graph small = stitch({"web1.json", "db1.json"});
  RenderWorker w;
  std::atomic<bool> stop{false};
  std::vector<std::thread> churn;
  for (int t = 0; t < 2; ++t)
    churn.emplace_back([&] {
      while (!stop.load()) {
        std::vector<std::string> v;
        for (int i = 0; i < 200; ++i) v.emplace_back(100 + i, 'x');
      }
    });
  std::atomic<int> drawn{0}, failed{0};
  std::vector<std::thread> renders;
  for (int t = 0; t < 4; ++t)
    renders.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        try {
          StitchView v = (i + t) % 2 ? StitchView::host : StitchView::process;
          if (is_svg(render_graph(small, v, RenderLayout::dot, "svg", 10))) ++drawn;
        } catch (const std::exception&) {
          ++failed;
        }
      }
    });
  for (auto& t : renders) t.join();
  stop = true;
  for (auto& t : churn) t.join();
  EXPECT_EQ(drawn.load(), 20);
  EXPECT_EQ(failed.load(), 0);
}

TEST(RenderWorker, ALostWorkerIsAnErrorNotAHang) {
  Graph small = stitch({"web1.json", "db1.json"});
  RenderWorker w;
  pid_t pid = w.pid();
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  auto t0 = std::chrono::steady_clock::now();
  try {
    render_graph(small, StitchView::process, RenderLayout::dot, "svg", 10);
    FAIL() << "drawn without a worker";
  } catch (const RenderWorkerLost& e) {
    EXPECT_NE(std::string(e.what()).find("killed by signal 9"), std::string::npos) << e.what();
  }
  EXPECT_THROW(render_graph(small, StitchView::process, RenderLayout::dot, "svg", 10),
               RenderWorkerLost);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_TRUE(gone(pid));
}

TEST(RenderWorker, LeavesWithItsOwner) {
  // The owner is a child that starts a worker and dies without closing anything.
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  pid_t owner = fork();
  ASSERT_GE(owner, 0);
  if (owner == 0) {
    close(p[0]);
    auto* w = new RenderWorker;  // never destroyed: the owner just dies
    pid_t wp = w->pid();
    if (write(p[1], &wp, sizeof wp) != sizeof wp) _exit(1);
    pause();
    _exit(0);
  }
  close(p[1]);
  pid_t worker = 0;
  ASSERT_EQ(read(p[0], &worker, sizeof worker), static_cast<ssize_t>(sizeof worker));
  close(p[0]);
  EXPECT_FALSE(gone(worker));
  kill(owner, SIGKILL);
  waitpid(owner, nullptr, 0);
  bool left = false;
  for (int i = 0; i < 200 && !(left = gone(worker)); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(left) << "worker " << worker << " outlived its owner";
}

TEST(RenderWorker, StartsOnlyBeforeThreads) {
  std::atomic<bool> stop{false};
  std::thread t([&] {
    while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  EXPECT_THROW(RenderWorker w, std::logic_error);
  stop = true;
  t.join();
  EXPECT_EQ(RenderWorker::current(), nullptr);
}
