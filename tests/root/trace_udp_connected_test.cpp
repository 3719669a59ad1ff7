// Connected UDP (connect, then send/recv): one flow per socket with its datagrams and payload
// bytes counted in the kernel, whether the socket is released while tracing (the close
// carries the counts) or still open when the tracer stops (read from the kernel map then).
#include "trace_test_util.h"

namespace {

constexpr int kPerClient = 12, kBytes = 100;

TEST(TraceUdpConnected, DatagramsAndBytesCountedPerFlow) {
  nvt::TempDir dir;
  std::string cap = dir.file("capture.json");
  nvt::Tracer tracer(dir, {"--duration", "60", "-o", cap});
  nvt::Peer server(dir, "server",
                   {"udp-server", "--port", "0", "--count", std::to_string(2 * kPerClient),
                    "--comm", "nvt_ucs_srv", "--timeout", "30"});
  int port = server.wait_ready();
  std::vector<std::string> common = {"udp-client", "--connected", "--port", std::to_string(port),
                                     "--count", std::to_string(kPerClient), "--send",
                                     std::to_string(kBytes), "--print-ports", "--timeout", "20"};
  auto args = [&](const std::string& comm, std::vector<std::string> extra) {
    auto a = common;
    a.insert(a.end(), {"--comm", comm});
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  nvt::Peer closed(dir, "closed", args("nvt_ucs_cls", {}));
  auto closed_port = nvt::client_ports(closed.finish(25));
  // This one keeps its socket open past the tracer's stop.
  nvt::Peer held(dir, "held", args("nvt_ucs_opn", {"--hold-ms", "4000"}));
  held.wait_records("done", 1, 20);
  auto open_port = nvt::client_ports(held.records());
  server.finish(10);
  ASSERT_EQ(closed_port.size(), 1u);
  ASSERT_EQ(open_port.size(), 1u);
  nvt::sleep_s(0.2);
  ASSERT_EQ(tracer.stop(SIGINT), 0) << tracer.err_text();
  ASSERT_FALSE(held.child().exited()) << "the held socket closed before the tracer stopped";
  auto doc = nvt::read_capture(cap);
  EXPECT_EQ(doc.cap.stats.lost_events, 0u);

  struct Want {
    const char* what;
    int lport;
    pid_t pid;
    std::string comm;
    bool closed;
  };
  for (const Want& w : {Want{"released", closed_port[0], closed.pid(), "nvt_ucs_cls", true},
                        Want{"still open", open_port[0], held.pid(), "nvt_ucs_opn", false}}) {
    SCOPED_TRACE(std::string(w.what) + " socket, port " + std::to_string(w.lport));
    auto out = nvt::flows_between(doc.cap, Proto::udp, w.lport, port);
    ASSERT_EQ(out.size(), 1u) << "one flow for the connected socket";
    const auto& f = *out[0];
    EXPECT_EQ(f.pid, w.pid) << nvt::flow_str(f);
    EXPECT_EQ(f.comm, w.comm) << nvt::flow_str(f);
    EXPECT_EQ(f.attribution, Attribution::connect) << nvt::flow_str(f);
    EXPECT_EQ(f.direction, Direction::outbound) << nvt::flow_str(f);
    EXPECT_EQ(f.packets, static_cast<uint64_t>(2 * kPerClient)) << nvt::flow_str(f);
    EXPECT_EQ(f.bytes_sent, static_cast<uint64_t>(kPerClient * kBytes)) << nvt::flow_str(f);
    EXPECT_EQ(f.bytes_received, static_cast<uint64_t>(kPerClient * kBytes)) << nvt::flow_str(f);
    EXPECT_EQ(f.duration_ns.has_value(), w.closed) << nvt::flow_str(f);
    EXPECT_GT(f.last_seen, f.first_seen) << nvt::flow_str(f);
  }
}

// connect() on a UDP socket only picks a peer (resolvers do it to learn a source address); a
// socket released before any datagram is not a flow, only counted.
TEST(TraceUdpConnected, SocketWithoutDatagramsIsNoFlowOnlyCounted) {
  nvt::TempDir dir;
  std::string cap = dir.file("capture.json");
  nvt::Tracer tracer(dir, {"--duration", "60", "-o", cap});
  nvt::Peer silent(dir, "silent",
                   {"udp-client", "--connected", "--port", "9", "--count", "0", "--comm",
                    "nvt_ucs_sil", "--timeout", "10"});
  silent.finish(10);
  nvt::sleep_s(0.2);
  ASSERT_EQ(tracer.stop(SIGINT), 0) << tracer.err_text();
  auto doc = nvt::read_capture(cap);
  for (const auto& f : doc.cap.flows)
    EXPECT_FALSE(f.pid == silent.pid() || f.comm == "nvt_ucs_sil") << nvt::flow_str(f);
  EXPECT_GE(doc.raw["stats"].value("udp_connected_without_datagrams", 0), 1) << doc.raw["stats"];
}

}  // namespace
