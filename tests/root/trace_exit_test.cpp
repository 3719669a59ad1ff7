// Clients that exit right after connecting: the kernel closes their sockets at exit and
// finishes the TCP close later, in no process's context. The client end keeps the pid and
// comm of the process that connected.
#include "trace_test_util.h"

namespace {

TEST(TraceExit, ClientThatExitsRightAfterConnectingKeepsPidAndComm) {
  nvt::TempDir dir;
  constexpr int kCount = 50;
  std::string cap = dir.file("capture.json");
  nvt::Tracer tracer(dir, {"--duration", "60", "-o", cap});
  // The server accepts only after the client is gone: the connections wait in the backlog,
  // the accept and close come after the client's exit.
  nvt::Peer server(dir, "server",
                   {"tcp-server", "--port", "0", "--count", std::to_string(kCount),
                    "--accept-delay-ms", "2000", "--print-ports", "--comm", "nvt_ex_srv",
                    "--timeout", "30"});
  int port = server.wait_ready();
  nvt::Peer client(dir, "client",
                   {"tcp-client", "--port", std::to_string(port), "--count",
                    std::to_string(kCount), "--exit-after-connect", "--print-ports", "--comm",
                    "nvt_ex_cli", "--timeout", "20"});
  auto crecs = client.finish(25);
  ASSERT_TRUE(nvt::records_of(server.records(), "accept").empty())
      << "the server accepted before the client exited: the case is not exercised";
  auto srecs = server.finish(30);
  auto lports = nvt::client_ports(crecs);
  ASSERT_EQ(lports.size(), static_cast<size_t>(kCount));
  nvt::sleep_s(0.5);  // the orphaned client sockets see the server's FIN
  ASSERT_EQ(tracer.stop(SIGINT), 0) << tracer.err_text();
  auto doc = nvt::read_capture(cap);
  EXPECT_EQ(doc.cap.stats.lost_events, 0u);

  nvt::Ends e;
  e.server_port = port;
  e.client_ports = lports;
  e.client_pid = client.pid();
  e.client_comm = "nvt_ex_cli";
  e.server_pid_of = [&](int) { return server.pid(); };
  e.server_comm = "nvt_ex_srv";
  auto r = nvt::check_tcp_ends(doc.cap, e);
  EXPECT_EQ(r.client_ok, static_cast<size_t>(kCount)) << nvt::join(r.problems);
  EXPECT_EQ(r.server_ok, static_cast<size_t>(kCount)) << nvt::join(r.problems);
}

// Both ends exit holding their connections: the server first (its sockets wait in
// FIN_WAIT2), then the client; the kernel finishes both closes after both processes are gone.
// Each end keeps its pid and comm, and the capture still describes both processes.
TEST(TraceExit, BothEndsExitWhileTheirSocketsLiveOn) {
  nvt::TempDir dir;
  constexpr int kCount = 30;
  std::string cap = dir.file("capture.json");
  nvt::Tracer tracer(dir, {"--duration", "60", "-o", cap});
  nvt::Peer server(dir, "server",
                   {"tcp-server", "--port", "0", "--count", std::to_string(kCount), "--hold",
                    "--print-ports", "--comm", "nvt_eh_srv", "--timeout", "3"});
  int port = server.wait_ready();
  nvt::Peer client(dir, "client",
                   {"hold", "--port", std::to_string(port), "--count", std::to_string(kCount),
                    "--print-ports", "--comm", "nvt_eh_cli", "--timeout", "5"});
  client.wait_records("held", 1, 10);
  auto srecs = server.finish(10);
  ASSERT_EQ(nvt::records_of(srecs, "accept").size(), static_cast<size_t>(kCount));
  auto crecs = client.finish(10);
  auto lports = nvt::client_ports(crecs);
  ASSERT_EQ(lports.size(), static_cast<size_t>(kCount));
  nvt::sleep_s(0.5);  // the last ACKs of the orphaned sockets
  ASSERT_EQ(tracer.stop(SIGINT), 0) << tracer.err_text();
  auto doc = nvt::read_capture(cap);
  EXPECT_EQ(doc.cap.stats.lost_events, 0u);

  nvt::Ends e;
  e.server_port = port;
  e.client_ports = lports;
  e.client_pid = client.pid();
  e.client_comm = "nvt_eh_cli";
  e.server_pid_of = [&](int) { return server.pid(); };
  e.server_comm = "nvt_eh_srv";
  auto r = nvt::check_tcp_ends(doc.cap, e);
  EXPECT_EQ(r.client_ok, static_cast<size_t>(kCount)) << nvt::join(r.problems);
  EXPECT_EQ(r.server_ok, static_cast<size_t>(kCount)) << nvt::join(r.problems);
  // Closed: each flow has its end (the closes came after the exits).
  for (const auto* f : nvt::flows_where(doc.cap, [&](const netviz::Flow& f) {
         return f.proto == Proto::tcp && f.remote &&
                (f.local.port == static_cast<uint32_t>(port) ||
                 f.remote->port == static_cast<uint32_t>(port));
       }))
    EXPECT_TRUE(f->duration_ns.has_value()) << "not closed: " << nvt::flow_str(*f);
  for (pid_t pid : {client.pid(), server.pid()}) {
    std::string comm = pid == client.pid() ? "nvt_eh_cli" : "nvt_eh_srv";
    size_t listed = 0;
    std::string seen;
    for (const auto& p : doc.cap.processes) {
      if (p.pid == pid && p.comm == comm) ++listed;
      seen += " " + std::to_string(p.pid) + ":" + p.comm;
    }
    EXPECT_EQ(listed, 1u) << "process " << pid << " " << comm
                          << " not once in the capture's processes:" << seen;
  }
}

}  // namespace
