// Connections established before tracing starts come from the initial scan, both ends
// owned by their processes, attribution "scan".
#include "trace_test_util.h"

namespace {

TEST(TracePreexisting, HeldConnectionsComeFromTheScan) {
  nvt::TempDir dir;
  constexpr int kCount = 20;
  nvt::Peer server(dir, "server",
                   {"tcp-server", "--port", "0", "--count", std::to_string(kCount), "--hold",
                    "--print-ports", "--comm", "nvt_pre_srv", "--timeout", "55"});
  int port = server.wait_ready();
  nvt::Peer holder(dir, "holder",
                   {"hold", "--port", std::to_string(port), "--count", std::to_string(kCount),
                    "--print-ports", "--comm", "nvt_pre_cli", "--timeout", "55"});
  holder.wait_records("held", 1, 10);
  server.wait_records("accept", kCount, 10);
  auto lports = nvt::client_ports(holder.records());
  ASSERT_EQ(lports.size(), static_cast<size_t>(kCount));

  std::string cap = dir.file("capture.json");
  nvt::Tracer tracer(dir, {"--duration", "60", "-o", cap});
  nvt::sleep_s(0.5);
  ASSERT_EQ(tracer.stop(SIGINT), 0) << tracer.err_text();
  ASSERT_FALSE(holder.child().exited()) << "the connections were held throughout";
  auto doc = nvt::read_capture(cap);
  EXPECT_EQ(doc.cap.stats.lost_events, 0u);

  nvt::Ends e;
  e.server_port = port;
  e.client_ports = lports;
  e.client_pid = holder.pid();
  e.client_comm = "nvt_pre_cli";
  e.server_pid_of = [&](int) { return server.pid(); };
  e.server_comm = "nvt_pre_srv";
  e.client_attribution = {Attribution::scan};
  e.server_attribution = {Attribution::scan};
  auto r = nvt::check_tcp_ends(doc.cap, e);
  EXPECT_EQ(r.client_ok, static_cast<size_t>(kCount)) << nvt::join(r.problems);
  EXPECT_EQ(r.server_ok, static_cast<size_t>(kCount)) << nvt::join(r.problems);
}

}  // namespace
