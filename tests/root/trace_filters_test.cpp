// The snapshot filters applied to tracing: --pid, --port, --proto, --netns. Each run makes
// traffic the filter must keep and traffic it must drop.
#include "trace_test_util.h"

namespace {

// tcp-server + tcp-client making `count` connections; returns the server's port.
struct Pair {
  int port = 0;
  pid_t server_pid = 0, client_pid = 0;
};

Pair tcp_pair(const nvt::TempDir& dir, const std::string& name, int count,
              const std::vector<std::string>& prefix = {}) {
  nvt::Peer server(dir, name + "-srv",
                   {"tcp-server", "--port", "0", "--count", std::to_string(count), "--timeout",
                    "30"},
                   prefix);
  Pair p;
  p.port = server.wait_ready();
  nvt::Peer client(dir, name + "-cli",
                   {"tcp-client", "--port", std::to_string(p.port), "--count",
                    std::to_string(count), "--timeout", "20"},
                   prefix);
  client.finish(25);
  server.finish(10);
  p.server_pid = server.pid();
  p.client_pid = client.pid();
  return p;
}

// Five datagrams from a UDP client to a UDP server; returns the server's port.
int udp_exchange(const nvt::TempDir& dir) {
  nvt::Peer userver(dir, "usrv", {"udp-server", "--port", "0", "--count", "5", "--timeout", "30"});
  int uport = userver.wait_ready();
  nvt::Peer uclient(dir, "ucli", {"udp-client", "--port", std::to_string(uport), "--count", "5"});
  uclient.finish(20);
  userver.finish(10);
  return uport;
}

bool touches(const netviz::Flow& f, int port) {
  return f.local.port == static_cast<uint32_t>(port) ||
         (f.remote && f.remote->port == static_cast<uint32_t>(port));
}

TEST(TraceFilters, PidKeepsOnlyThatProcess) {
  nvt::TempDir dir;
  nvt::Peer server(dir, "srv", {"tcp-server", "--port", "0", "--count", "20", "--timeout", "30"});
  int port = server.wait_ready();
  std::string cap = dir.file("capture.json");
  nvt::Tracer tracer(dir, {"--pid", std::to_string(server.pid()), "-o", cap});
  nvt::Peer client(dir, "cli",
                   {"tcp-client", "--port", std::to_string(port), "--count", "20"});
  client.finish(20);
  server.finish(10);
  Pair other = tcp_pair(dir, "other", 10);
  ASSERT_EQ(tracer.stop(), 0) << tracer.err_text();
  auto doc = nvt::read_capture(cap);
  size_t mine = 0;
  for (const auto& f : doc.cap.flows) {
    EXPECT_EQ(f.pid, server.pid()) << nvt::flow_str(f);
    if (touches(f, port) && f.direction == Direction::inbound) ++mine;
    EXPECT_FALSE(touches(f, other.port)) << nvt::flow_str(f);
  }
  EXPECT_EQ(mine, 20u) << "the server's 20 accepted connections";
}

TEST(TraceFilters, PortKeepsBothEndsOfThatPortOnly) {
  nvt::TempDir dir;
  nvt::Peer server(dir, "srv", {"tcp-server", "--port", "0", "--count", "15", "--timeout", "30"});
  int port = server.wait_ready();
  std::string cap = dir.file("capture.json");
  nvt::Tracer tracer(dir, {"--port", std::to_string(port), "-o", cap});
  nvt::Peer client(dir, "cli",
                   {"tcp-client", "--port", std::to_string(port), "--count", "15"});
  client.finish(20);
  server.finish(10);
  Pair other = tcp_pair(dir, "other", 10);
  ASSERT_EQ(tracer.stop(), 0) << tracer.err_text();
  auto doc = nvt::read_capture(cap);
  size_t in = 0, out = 0;
  for (const auto& f : doc.cap.flows) {
    EXPECT_TRUE(touches(f, port)) << nvt::flow_str(f);
    EXPECT_FALSE(touches(f, other.port)) << nvt::flow_str(f);
    if (touches(f, port) && f.direction == Direction::inbound && f.pid == server.pid()) ++in;
    if (touches(f, port) && f.direction == Direction::outbound && f.pid == client.pid()) ++out;
  }
  EXPECT_EQ(in, 15u);
  EXPECT_EQ(out, 15u);
}

TEST(TraceFilters, ProtoUdpDropsTcp) {
  nvt::TempDir dir;
  std::string cap = dir.file("capture.json");
  nvt::Tracer tracer(dir, {"--proto", "udp", "--verbose", "-o", cap});
  // The filter works in the kernel too: the TCP programs are not even loaded.
  EXPECT_EQ(tracer.err_text().find("inet_sock_set_state"), std::string::npos) << tracer.err_text();
  EXPECT_EQ(tracer.err_text().find("sys_exit_accept"), std::string::npos) << tracer.err_text();
  EXPECT_NE(tracer.err_text().find("cgroup_skb/egress"), std::string::npos) << tracer.err_text();
  Pair tcp = tcp_pair(dir, "tcp", 10);
  int uport = udp_exchange(dir);
  ASSERT_EQ(tracer.stop(), 0) << tracer.err_text();
  auto doc = nvt::read_capture(cap);
  size_t udp = 0;
  for (const auto& f : doc.cap.flows) {
    EXPECT_EQ(f.proto, Proto::udp) << nvt::flow_str(f);
    // By pid, not port: a UDP socket may get the same port number as the TCP listener.
    EXPECT_FALSE(f.pid == tcp.server_pid || f.pid == tcp.client_pid) << nvt::flow_str(f);
    if (touches(f, uport)) ++udp;
  }
  EXPECT_EQ(udp, 2u) << "the client's and the server's UDP flow";
}

TEST(TraceFilters, ProtoTcpLeavesTheUdpHooksOut) {
  nvt::TempDir dir;
  std::string cap = dir.file("capture.json");
  nvt::Tracer tracer(dir, {"--proto", "tcp", "--verbose", "-o", cap});
  const std::string err = tracer.err_text();
  EXPECT_EQ(err.find("cgroup_skb/"), std::string::npos) << err;
  EXPECT_EQ(err.find("sendmsg4"), std::string::npos) << err;
  EXPECT_NE(err.find("inet_sock_set_state"), std::string::npos) << err;
  Pair tcp = tcp_pair(dir, "tcp", 10);
  udp_exchange(dir);  // traffic the filter must leave out
  ASSERT_EQ(tracer.stop(), 0) << tracer.err_text();
  auto doc = nvt::read_capture(cap);
  size_t tcp_flows = 0;
  for (const auto& f : doc.cap.flows) {
    EXPECT_EQ(f.proto, Proto::tcp) << nvt::flow_str(f);
    if (touches(f, tcp.port)) ++tcp_flows;
  }
  EXPECT_EQ(tcp_flows, 20u) << "both ends of the 10 connections";
}

TEST(TraceFilters, NetnsKeepsThatNamespaceAndDescribesItAsTheHost) {
  nvt::TempDir dir;
  nvt::Netns ns("filt");
  uint64_t ino = ns.inode();
  ASSERT_NE(ino, 0u);
  std::string cap = dir.file("capture.json");
  nvt::Tracer tracer(dir, {"--netns", ns.name(), "-o", cap});
  Pair inside = tcp_pair(dir, "inside", 12, ns.exec_prefix());
  Pair outside = tcp_pair(dir, "outside", 12);
  ASSERT_EQ(tracer.stop(), 0) << tracer.err_text();
  auto doc = nvt::read_capture(cap);
  ASSERT_TRUE(doc.cap.host.scope_netns.has_value()) << "host.scope_netns set";
  EXPECT_EQ(*doc.cap.host.scope_netns, ino);
  size_t in = 0, out = 0;
  for (const auto& f : doc.cap.flows) {
    EXPECT_EQ(f.netns, ino) << nvt::flow_str(f);
    if (f.netns != ino) continue;
    if (f.local.port == static_cast<uint32_t>(inside.port) && f.pid == inside.server_pid) ++in;
    if (f.remote && f.remote->port == static_cast<uint32_t>(inside.port) &&
        f.pid == inside.client_pid)
      ++out;
  }
  EXPECT_EQ(in, 12u) << "server ends inside the namespace";
  EXPECT_EQ(out, 12u) << "client ends inside the namespace";
  (void)outside;
}

}  // namespace
