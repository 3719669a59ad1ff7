// The same short-connection storm over IPv6 loopback: family ipv6, "::1" on both ends.
#include "trace_test_util.h"

namespace {

TEST(TraceIpv6, ShortConnectionsOverLoopbackBothEndsAttributed) {
  nvt::TempDir dir;
  constexpr int kCount = 300;
  auto s = nvt::traced_storm(dir, "::1", kCount, "nvt_v6_cli", "nvt_v6_srv");
  EXPECT_EQ(s.doc.cap.stats.lost_events, 0u) << s.tracer_stderr;
  nvt::Ends e;
  e.family = Family::ipv6;
  e.server_port = s.port;
  e.client_ports = s.lports;
  e.client_pid = s.client_pid;
  e.client_comm = "nvt_v6_cli";
  e.server_pid_of = [&](int) { return s.server_pid; };
  e.server_comm = "nvt_v6_srv";
  auto r = nvt::check_tcp_ends(s.doc.cap, e);
  EXPECT_EQ(r.client_ok, static_cast<size_t>(kCount)) << nvt::join(r.problems);
  EXPECT_EQ(r.server_ok, static_cast<size_t>(kCount)) << nvt::join(r.problems);
  for (const auto& f : s.doc.cap.flows) {
    if (f.proto != Proto::tcp || !f.remote) continue;
    if (f.local.port != static_cast<uint32_t>(s.port) &&
        f.remote->port != static_cast<uint32_t>(s.port))
      continue;
    EXPECT_EQ(f.local.addr, "::1") << nvt::flow_str(f);
    EXPECT_EQ(f.remote->addr, "::1") << nvt::flow_str(f);
  }
}

}  // namespace
