// UDP request and response on unconnected sockets (sendto/recvfrom): one flow per local,
// remote and process, its datagrams counted in the kernel.
#include "trace_test_util.h"

namespace {

constexpr int kClients = 3, kPerClient = 10, kBytes = 100;

struct UdpRun {
  struct Cli {
    pid_t pid;
    int lport;
  };
  std::vector<Cli> clients;
  pid_t server_pid = 0;
  int port = 0;
  nvt::Doc doc;
};

// Three clients, one after the other, each sending kPerClient requests to one server that
// answers every one; all of it traced.
UdpRun traced_udp(const nvt::TempDir& dir) {
  UdpRun run;
  std::string cap = dir.file("capture.json");
  nvt::Tracer tracer(dir, {"--duration", "60", "-o", cap});
  nvt::Peer server(dir, "server",
                   {"udp-server", "--port", "0", "--count", std::to_string(kClients * kPerClient),
                    "--comm", "nvt_udp_srv", "--timeout", "30"});
  run.port = server.wait_ready();
  run.server_pid = server.pid();
  for (int i = 0; i < kClients; ++i) {
    nvt::Peer c(dir, "client" + std::to_string(i),
                {"udp-client", "--port", std::to_string(run.port), "--count",
                 std::to_string(kPerClient), "--send", std::to_string(kBytes), "--print-ports",
                 "--comm", "nvt_udp_cli", "--timeout", "20"});
    auto lp = nvt::client_ports(c.finish(25));
    if (lp.size() != 1u) nvt::fail("udp-client printed no port");
    run.clients.push_back({c.pid(), lp[0]});
  }
  server.finish(10);
  int rc = tracer.stop(SIGINT);
  if (rc != 0) nvt::fail("netviz-trace exited " + std::to_string(rc) + ": " + tracer.err_text());
  run.doc = nvt::read_capture(cap);
  return run;
}

TEST(TraceUdp, UnconnectedRequestResponseOneFlowPerPairWithDatagramCounts) {
  nvt::TempDir dir;
  auto run = traced_udp(dir);
  const auto& cap = run.doc.cap;
  EXPECT_EQ(cap.stats.lost_events, 0u);
  for (const auto& c : run.clients) {
    SCOPED_TRACE("client pid " + std::to_string(c.pid) + " port " + std::to_string(c.lport));
    auto out = nvt::flows_between(cap, Proto::udp, c.lport, run.port);
    ASSERT_EQ(out.size(), 1u) << "one client-side flow";
    const auto& f = *out[0];
    EXPECT_EQ(f.pid, c.pid) << nvt::flow_str(f);
    EXPECT_EQ(f.comm, "nvt_udp_cli") << nvt::flow_str(f);
    EXPECT_EQ(f.direction, Direction::outbound) << nvt::flow_str(f);
    // The datagrams left from 127.0.0.1 (the server saw them come from there), not from the
    // wildcard the socket is bound to: the two ends must name the same address pair.
    EXPECT_EQ(f.local.addr, "127.0.0.1") << nvt::flow_str(f);
    EXPECT_EQ(f.packets, uint64_t{2 * kPerClient})
        << kPerClient << " requests sent and as many responses received: " << nvt::flow_str(f);

    auto in = nvt::flows_between(cap, Proto::udp, run.port, c.lport);
    ASSERT_EQ(in.size(), 1u) << "one server-side flow for this client";
    const auto& g = *in[0];
    EXPECT_EQ(g.pid, run.server_pid) << nvt::flow_str(g);
    EXPECT_EQ(g.comm, "nvt_udp_srv") << nvt::flow_str(g);
    EXPECT_EQ(g.direction, Direction::inbound) << nvt::flow_str(g);
    EXPECT_EQ(g.packets, uint64_t{2 * kPerClient})
        << kPerClient << " requests received and as many responses sent: " << nvt::flow_str(g);
  }
  // Nothing else on the server's port: no per-datagram flows.
  auto all = nvt::flows_where(cap, [&](const netviz::Flow& f) {
    return f.proto == Proto::udp && (f.local.port == static_cast<uint32_t>(run.port) ||
                                (f.remote && f.remote->port == static_cast<uint32_t>(run.port)));
  });
  EXPECT_EQ(all.size(), static_cast<size_t>(2 * kClients));
}

// Issue 3: "Per flow: ... bytes sent and received" -- UDP flows included.
TEST(TraceUdp, UnconnectedFlowsCountBytesBothWays) {
  nvt::TempDir dir;
  auto run = traced_udp(dir);
  const uint64_t want = uint64_t{kPerClient} * kBytes;
  for (const auto& c : run.clients) {
    auto out = nvt::flows_between(run.doc.cap, Proto::udp, c.lport, run.port);
    auto in = nvt::flows_between(run.doc.cap, Proto::udp, run.port, c.lport);
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(in.size(), 1u);
    for (const auto* f : {out[0], in[0]}) {
      EXPECT_EQ(f->bytes_sent, want) << nvt::flow_str(*f);
      EXPECT_EQ(f->bytes_received, want) << nvt::flow_str(*f);
    }
  }
}

}  // namespace
