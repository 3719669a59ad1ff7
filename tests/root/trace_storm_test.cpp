// A storm of 3,000 short-lived loopback connections between two processes: every one in
// the capture, both ends attributed, nothing lost.
#include "trace_test_util.h"

namespace {

TEST(TraceStorm, ThreeThousandShortConnectionsBothEndsAttributed) {
  nvt::TempDir dir;
  constexpr int kCount = 3000;
  auto s = nvt::traced_storm(dir, "127.0.0.1", kCount, "nvt_storm_cli", "nvt_storm_srv");
  EXPECT_EQ(s.doc.cap.stats.lost_events, 0u) << s.tracer_stderr;
  nvt::Ends e;
  e.server_port = s.port;
  e.client_ports = s.lports;
  e.client_pid = s.client_pid;
  e.client_comm = "nvt_storm_cli";
  e.server_pid_of = [&](int) { return s.server_pid; };
  e.server_comm = "nvt_storm_srv";
  auto r = nvt::check_tcp_ends(s.doc.cap, e);
  EXPECT_EQ(r.client_ok, static_cast<size_t>(kCount)) << nvt::join(r.problems);
  EXPECT_EQ(r.server_ok, static_cast<size_t>(kCount)) << nvt::join(r.problems);
  // Short-lived flows are closed ones: they carry their duration.
  size_t closed = 0;
  for (const auto& f : s.doc.cap.flows)
    if (f.proto == "tcp" && f.remote && f.remote->port == static_cast<uint32_t>(s.port) &&
        f.duration_ns && f.first_seen > 0 && f.last_seen >= f.first_seen)
      ++closed;
  EXPECT_EQ(closed, static_cast<size_t>(kCount)) << "client-side flows with first/last seen and "
                                                    "a duration";
}

}  // namespace

namespace {

// A fast storm reuses client ports: the server closes first, the client's socket ends
// without TIME_WAIT and the next connect may take the same 4-tuple at once. Forced here:
// every connection from one client port. Each must still be a flow of its own at each end.
TEST(TraceStorm, ReusedFourTupleEachConnectionItsOwnFlow) {
  nvt::TempDir dir;
  constexpr int kCount = 300;
  const int lport = 20000 + getpid() % 10000;  // below the ephemeral range
  auto s = nvt::traced_storm(dir, "127.0.0.1", kCount, "nvt_reuse_cli", "nvt_reuse_srv",
                             {"--local-port", std::to_string(lport), "--wait-close"});
  ASSERT_EQ(std::set<int>(s.lports.begin(), s.lports.end()), std::set<int>{lport});
  EXPECT_EQ(s.doc.cap.stats.lost_events, 0u) << s.tracer_stderr;
  nvt::Ends e;
  e.server_port = s.port;
  e.client_ports = s.lports;
  e.client_pid = s.client_pid;
  e.client_comm = "nvt_reuse_cli";
  e.server_pid_of = [&](int) { return s.server_pid; };
  e.server_comm = "nvt_reuse_srv";
  auto r = nvt::check_tcp_ends(s.doc.cap, e);
  EXPECT_EQ(r.client_ok, static_cast<size_t>(kCount)) << nvt::join(r.problems);
  EXPECT_EQ(r.server_ok, static_cast<size_t>(kCount)) << nvt::join(r.problems);
}

}  // namespace
