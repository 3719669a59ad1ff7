// UDP request and response on unconnected sockets (sendto/recvfrom): one flow per local,
// remote and process, with the datagrams and bytes counted in the kernel.
#include "trace_test_util.h"

namespace {

TEST(TraceUdp, UnconnectedRequestResponseOneFlowPerPairWithCounts) {
  nvt::TempDir dir;
  constexpr int kClients = 3, kPerClient = 10, kBytes = 100;
  std::string cap = dir.file("capture.json");
  nvt::Tracer tracer(dir, {"--duration", "60", "-o", cap});
  nvt::Peer server(dir, "server",
                   {"udp-server", "--port", "0", "--count", std::to_string(kClients * kPerClient),
                    "--comm", "nvt_udp_srv", "--timeout", "30"});
  int port = server.wait_ready();
  struct Cli {
    pid_t pid;
    int lport;
  };
  std::vector<Cli> clients;
  for (int i = 0; i < kClients; ++i) {
    nvt::Peer c(dir, "client" + std::to_string(i),
                {"udp-client", "--port", std::to_string(port), "--count",
                 std::to_string(kPerClient), "--send", std::to_string(kBytes), "--print-ports",
                 "--comm", "nvt_udp_cli", "--timeout", "20"});
    auto recs = c.finish(25);
    auto lp = nvt::client_ports(recs);
    ASSERT_EQ(lp.size(), 1u);
    clients.push_back({c.pid(), lp[0]});
  }
  server.finish(10);
  ASSERT_EQ(tracer.stop(SIGINT), 0) << tracer.err_text();
  auto doc = nvt::read_capture(cap);
  EXPECT_EQ(doc.cap.stats.lost_events, 0u);

  const uint64_t want_bytes = uint64_t{kPerClient} * kBytes;
  for (const auto& c : clients) {
    SCOPED_TRACE("client pid " + std::to_string(c.pid) + " port " + std::to_string(c.lport));
    auto out = nvt::flows_between(doc.cap, "udp", c.lport, port);
    ASSERT_EQ(out.size(), 1u) << "one client-side flow";
    const auto& f = *out[0];
    EXPECT_EQ(f.pid, c.pid) << nvt::flow_str(f);
    EXPECT_EQ(f.comm, "nvt_udp_cli") << nvt::flow_str(f);
    EXPECT_EQ(f.direction, "outbound") << nvt::flow_str(f);
    EXPECT_EQ(f.bytes_sent, want_bytes) << nvt::flow_str(f);
    EXPECT_EQ(f.bytes_received, want_bytes) << nvt::flow_str(f);
    EXPECT_EQ(f.packets, uint64_t{2 * kPerClient}) << "datagrams both ways: " << nvt::flow_str(f);

    auto in = nvt::flows_between(doc.cap, "udp", port, c.lport);
    ASSERT_EQ(in.size(), 1u) << "one server-side flow for this client";
    const auto& g = *in[0];
    EXPECT_EQ(g.pid, server.pid()) << nvt::flow_str(g);
    EXPECT_EQ(g.comm, "nvt_udp_srv") << nvt::flow_str(g);
    EXPECT_EQ(g.direction, "inbound") << nvt::flow_str(g);
    EXPECT_EQ(g.bytes_sent, want_bytes) << nvt::flow_str(g);
    EXPECT_EQ(g.bytes_received, want_bytes) << nvt::flow_str(g);
    EXPECT_EQ(g.packets, uint64_t{2 * kPerClient}) << "datagrams both ways: " << nvt::flow_str(g);
  }
  // Nothing else on the server's port: no per-datagram flows.
  auto all = nvt::flows_where(doc.cap, [&](const netviz::Flow& f) {
    return f.proto == "udp" && (f.local.port == static_cast<uint32_t>(port) ||
                                (f.remote && f.remote->port == static_cast<uint32_t>(port)));
  });
  EXPECT_EQ(all.size(), static_cast<size_t>(2 * kClients));
}

}  // namespace
