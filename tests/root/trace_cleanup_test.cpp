// No BPF program or link outlives netviz-trace: after a normal exit and after kill -9.
// Only the ids the tracer itself held (its fds' /proc fdinfo) are followed, so programs
// loaded by other tests running at the same time do not matter.
#include "trace_test_util.h"

namespace {

void expect_gone(const nvt::BpfHeld& h) {
  auto progs = nvt::bpf_ids_remaining("prog", h.progs, 5);
  auto links = nvt::bpf_ids_remaining("link", h.links, 5);
  EXPECT_TRUE(progs.empty()) << "BPF programs left behind: " << nvt::ids_str(progs)
                             << " (bpftool prog show id N)";
  EXPECT_TRUE(links.empty()) << "BPF links left behind: " << nvt::ids_str(links)
                             << " (bpftool link show id N)";
}

TEST(TraceCleanup, NothingLeftAfterNormalExit) {
  nvt::TempDir dir;
  nvt::Tracer tracer(dir, {"--duration", "3", "-o", dir.file("capture.json")});
  nvt::BpfHeld h = nvt::bpf_held_by(tracer.pid());
  ASSERT_FALSE(h.progs.empty()) << "no BPF program among the tracer's fds";
  EXPECT_EQ(tracer.child().wait_or_fail(20), 0) << tracer.err_text();
  expect_gone(h);
}

TEST(TraceCleanup, NothingLeftAfterKill9) {
  nvt::TempDir dir;
  nvt::Tracer tracer(dir, {"--duration", "60", "-o", dir.file("capture.json")});
  nvt::BpfHeld h = nvt::bpf_held_by(tracer.pid());
  ASSERT_FALSE(h.progs.empty()) << "no BPF program among the tracer's fds";
  EXPECT_EQ(tracer.stop(SIGKILL), 128 + SIGKILL);
  expect_gone(h);
  EXPECT_FALSE(std::filesystem::exists(dir.file("capture.json"))) << "no partial document";
}

}  // namespace
