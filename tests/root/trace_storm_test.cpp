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

namespace {

// The storm at full speed (no per-connection output from the peers): tens of thousands of
// connections a second on two CPUs, client ports reused within the run. Counted per end:
// every connection an outbound flow of the client and an inbound flow of the server.
TEST(TraceStorm, FullSpeedTwentyThousandEveryConnectionBothEnds) {
  nvt::TempDir dir;
  constexpr int kCount = 20000;
  std::string cap = dir.file("capture.json");
  nvt::Tracer tracer(dir, {"--duration", "120", "-o", cap});
  nvt::Peer server(dir, "server",
                   {"tcp-server", "--port", "0", "--count", std::to_string(kCount), "--comm",
                    "nvt_fast_srv", "--timeout", "40"});
  int port = server.wait_ready();
  nvt::Peer client(dir, "client",
                   {"tcp-client", "--port", std::to_string(port), "--count",
                    std::to_string(kCount), "--comm", "nvt_fast_cli", "--timeout", "40"});
  auto crecs = client.finish(45);
  server.finish(20);
  auto done = nvt::records_of(crecs, "done");
  ASSERT_EQ(done.size(), 1u);
  ASSERT_EQ(done[0].num("connections"), kCount);
  ASSERT_EQ(tracer.stop(SIGINT), 0) << tracer.err_text();
  auto doc = nvt::read_capture(cap);
  EXPECT_EQ(doc.cap.stats.lost_events, 0u) << tracer.err_text();
  size_t out = 0, in = 0, still_open = 0, too_long = 0;
  std::vector<std::string> wrong;
  const auto p = static_cast<uint32_t>(port);
  for (const auto& f : doc.cap.flows) {
    if (f.proto != "tcp" || !f.remote) continue;
    if (f.remote->port == p && f.local.port != p) {
      if (f.pid == client.pid() && f.direction == "outbound" && f.comm == "nvt_fast_cli" &&
          f.attribution == "connect") {
        ++out;
        // Symptoms of a missed close: still open at the end, or "lasting" until a later
        // connection on the same 4-tuple closed (every connection here lives microseconds).
        if (f.state == "ESTABLISHED") ++still_open;
        if (f.duration_ns && *f.duration_ns > 500'000'000) ++too_long;
      }
      else if (wrong.size() < 5)
        wrong.push_back(nvt::flow_str(f));
    } else if (f.local.port == p) {
      if (f.pid == server.pid() && f.direction == "inbound" && f.comm == "nvt_fast_srv" &&
          f.attribution == "accept")
        ++in;
      else if (wrong.size() < 5)
        wrong.push_back(nvt::flow_str(f));
    }
  }
  EXPECT_EQ(out, static_cast<size_t>(kCount))
      << "client ends; of those, " << still_open << " still ESTABLISHED at the end and "
      << too_long << " lasting over 500 ms" << nvt::join(wrong);
  EXPECT_EQ(in, static_cast<size_t>(kCount)) << "server ends" << nvt::join(wrong);
}

}  // namespace
