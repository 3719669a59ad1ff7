// Connections reset by the client while they wait in the accept queue: the server never
// accepted them, so their server end belongs to the listening socket's owner ("listener").
// The listener is learnt either from its listen() while tracing or from the initial scan.
#include "trace_test_util.h"

namespace {

constexpr int kCount = 40;

// Client connects kCount times and resets each connection (SO_LINGER 0) at once; the server
// sleeps before its first accept(), so every reset lands on a queued, unaccepted connection.
void check_reset_before_accept(const nvt::TempDir& dir, nvt::Peer& server, int port,
                               const std::string& cap, nvt::Tracer& tracer) {
  nvt::Peer client(dir, "client",
                   {"tcp-client", "--port", std::to_string(port), "--count",
                    std::to_string(kCount), "--reset", "--print-ports", "--comm", "nvt_ls_cli",
                    "--timeout", "20"});
  auto crecs = client.finish(25);
  ASSERT_TRUE(nvt::records_of(server.records(), "accept").empty())
      << "the server accepted before the resets: the case is not exercised";
  // The server accepts the dead connections later: that must not make them the worker's.
  server.finish(30);
  auto lports = nvt::client_ports(crecs);
  ASSERT_EQ(lports.size(), static_cast<size_t>(kCount));
  ASSERT_EQ(tracer.stop(SIGINT), 0) << tracer.err_text();
  auto doc = nvt::read_capture(cap);
  EXPECT_EQ(doc.cap.stats.lost_events, 0u) << tracer.err_text();

  nvt::Ends e;
  e.server_port = port;
  e.client_ports = lports;
  e.client_pid = client.pid();
  e.client_comm = "nvt_ls_cli";
  e.server_pid_of = [&](int) { return server.pid(); };
  e.server_comm = "nvt_ls_srv";
  e.server_attribution = {Attribution::listener};
  auto r = nvt::check_tcp_ends(doc.cap, e);
  EXPECT_EQ(r.client_ok, static_cast<size_t>(kCount)) << nvt::join(r.problems);
  EXPECT_EQ(r.server_ok, static_cast<size_t>(kCount)) << nvt::join(r.problems);
}

std::vector<std::string> server_args() {
  return {"tcp-server", "--port",  "0",          "--count", std::to_string(kCount),
          "--accept-delay-ms", "2500", "--print-ports", "--comm", "nvt_ls_srv",
          "--timeout", "20"};
}

TEST(TraceListener, ResetBeforeAcceptBelongsToTracedListener) {
  nvt::TempDir dir;
  std::string cap = dir.file("capture.json");
  nvt::Tracer tracer(dir, {"--duration", "60", "-o", cap});
  nvt::Peer server(dir, "server", server_args());  // listen() seen by the tracer
  int port = server.wait_ready();
  check_reset_before_accept(dir, server, port, cap, tracer);
}

TEST(TraceListener, ResetBeforeAcceptBelongsToScannedListener) {
  nvt::TempDir dir;
  std::string cap = dir.file("capture.json");
  nvt::Peer server(dir, "server", server_args());  // listening before the tracer starts
  int port = server.wait_ready();
  nvt::Tracer tracer(dir, {"--duration", "60", "-o", cap});
  check_reset_before_accept(dir, server, port, cap, tracer);
}

}  // namespace
