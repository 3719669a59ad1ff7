// Flow derivation from sockets: which sockets make flows and which direction they get.
#include <gtest/gtest.h>

#include "scan/scan_flows.h"

using namespace netviz;

namespace {
Socket sock(std::string proto, std::string family, Endpoint local, std::optional<Endpoint> remote,
            std::string state, uint64_t netns = 1) {
  Socket s;
  s.proto = std::move(proto);
  s.family = std::move(family);
  s.local = std::move(local);
  s.remote = std::move(remote);
  s.state = std::move(state);
  s.netns = netns;
  return s;
}
}  // namespace

TEST(ScanFlows, DirectionByListeningPortPerNamespace) {
  std::vector<Socket> v = {
      sock("tcp", "ipv4", {"10.0.0.1", 443}, std::nullopt, "LISTEN"),
      sock("tcp", "ipv4", {"10.0.0.1", 443}, Endpoint{"10.0.0.9", 5000}, "ESTABLISHED"),
      // Same port in another namespace, no listener there: outbound.
      sock("tcp", "ipv4", {"10.0.0.2", 443}, Endpoint{"10.0.0.9", 5001}, "ESTABLISHED", 2),
      // Listener bound to another address on the same port: not ours.
      sock("tcp", "ipv4", {"10.0.0.3", 443}, Endpoint{"10.0.0.9", 5002}, "ESTABLISHED"),
      sock("tcp", "ipv4", {"10.0.0.1", 5003}, Endpoint{"10.0.0.9", 443}, "ESTABLISHED"),
      sock("tcp", "ipv4", {"10.0.0.1", 5004}, Endpoint{"10.0.0.9", 443}, "TIME_WAIT"),
      sock("udp", "ipv4", {"0.0.0.0", 53}, std::nullopt, "UNCONN"),
      sock("udp", "ipv4", {"10.0.0.1", 53}, Endpoint{"10.0.0.7", 9999}, "ESTABLISHED"),
      sock("udp", "ipv4", {"10.0.0.1", 40000}, Endpoint{"10.0.0.7", 53}, "ESTABLISHED"),
      sock("unix", "unix", {"/x", 0}, std::nullopt, "ESTABLISHED"),
      sock("raw", "ipv4", {"0.0.0.0", 1}, Endpoint{"10.0.0.7", 0}, "ESTABLISHED"),
  };
  v[1].owners = {{10, "srv", 4}, {11, "srv", 4}};
  auto flows = flows_from_sockets(v, 1234);
  ASSERT_EQ(flows.size(), 6u);
  EXPECT_EQ(flows[0].direction, "inbound");
  EXPECT_EQ(flows[0].pid, 10);
  EXPECT_EQ(flows[0].comm, "srv");
  EXPECT_EQ(flows[0].first_seen, 1234);
  EXPECT_EQ(flows[0].state, "ESTABLISHED");
  EXPECT_EQ(flows[1].direction, "outbound");
  EXPECT_EQ(flows[1].netns, 2u);
  EXPECT_EQ(flows[2].direction, "outbound");
  EXPECT_EQ(flows[3].direction, "outbound");
  EXPECT_EQ(flows[4].proto, "udp");
  EXPECT_EQ(flows[4].direction, "inbound");
  EXPECT_EQ(flows[4].state, "");
  EXPECT_EQ(flows[5].direction, "outbound");
  for (const auto& f : flows) EXPECT_EQ(f.attribution, "scan");
}

TEST(ScanFlows, V4MappedAndWildcardV6Listener) {
  std::vector<Socket> v = {
      sock("tcp", "ipv6", {"::", 80}, std::nullopt, "LISTEN"),
      sock("tcp", "ipv4", {"127.0.0.1", 80}, Endpoint{"127.0.0.1", 6000}, "ESTABLISHED"),
      sock("tcp", "ipv6", {"::ffff:127.0.0.1", 80}, Endpoint{"::ffff:127.0.0.1", 6001},
           "ESTABLISHED"),
      sock("tcp", "ipv6", {"::1", 80}, Endpoint{"::1", 6002}, "CLOSE_WAIT"),
  };
  auto flows = flows_from_sockets(v, 1);
  ASSERT_EQ(flows.size(), 3u);
  for (const auto& f : flows) EXPECT_EQ(f.direction, "inbound");
  EXPECT_EQ(flows[1].family, "ipv4");
  EXPECT_EQ(flows[1].local.addr, "127.0.0.1");
  EXPECT_EQ(flows[1].remote->addr, "127.0.0.1");
  EXPECT_EQ(flows[2].family, "ipv6");
  EXPECT_EQ(unmap_v4("::ffff:10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(unmap_v4("::ffff:a:b"), "::ffff:a:b");
  EXPECT_EQ(unmap_v4("1.2.3.4"), "1.2.3.4");
}

namespace {
Socket unix_sock(std::string path, std::string state, uint64_t inode, uint64_t peer,
                 std::vector<Owner> owners) {
  Socket s = sock("unix", "unix", {std::move(path), 0}, std::nullopt, std::move(state));
  s.inode = inode;
  s.peer_inode = peer;
  s.owners = std::move(owners);
  return s;
}
}  // namespace

TEST(ScanFlows, UnixPairBecomesOneFlowFromClientToListener) {
  std::vector<Socket> v = {
      unix_sock("/run/pg/.s.PGSQL.5432", "LISTEN", 100, 0, {{20, "postgres", 5}}),
      // Accepted end: carries the listener's name.
      unix_sock("/run/pg/.s.PGSQL.5432", "ESTABLISHED", 101, 102, {{21, "postgres", 9}}),
      unix_sock("", "ESTABLISHED", 102, 101, {{30, "psql", 3}}),
      // A socketpair inside one process: no flow.
      unix_sock("", "ESTABLISHED", 200, 201, {{40, "self", 3}}),
      unix_sock("", "ESTABLISHED", 201, 200, {{40, "self", 4}}),
      // Peer without owners (exited, or not visible): no flow.
      unix_sock("@abs", "ESTABLISHED", 300, 301, {{50, "a", 3}}),
      unix_sock("", "ESTABLISHED", 301, 300, {}),
      // Abstract listener, client with an autobind name.
      unix_sock("@bus", "LISTEN", 400, 0, {{60, "bus", 3}}),
      unix_sock("@bus", "ESTABLISHED", 401, 402, {{60, "bus", 7}}),
      unix_sock("@00012", "ESTABLISHED", 402, 401, {{61, "cli", 4}}),
      // Datagram client connected to a bound socket: only the client names a peer.
      unix_sock("/dev/log", "UNCONN", 500, 0, {{70, "journal", 3}}),
      unix_sock("", "ESTABLISHED", 501, 500, {{71, "logger", 3}}),
      // Two processes, neither end named: no side to call the server.
      unix_sock("", "ESTABLISHED", 600, 601, {{80, "p", 3}}),
      unix_sock("", "ESTABLISHED", 601, 600, {{81, "c", 3}}),
  };
  auto flows = flows_from_sockets(v, 5);
  ASSERT_EQ(flows.size(), 3u);
  const Flow& pg = flows[0];
  EXPECT_EQ(pg.proto, "unix");
  EXPECT_EQ(pg.family, "unix");
  EXPECT_EQ(pg.direction, "outbound");
  EXPECT_EQ(pg.pid, 30);
  EXPECT_EQ(pg.comm, "psql");
  EXPECT_EQ(pg.local.addr, "");
  ASSERT_TRUE(pg.remote);
  EXPECT_EQ(pg.remote->addr, "/run/pg/.s.PGSQL.5432");
  ASSERT_TRUE(pg.peer);
  EXPECT_EQ(pg.peer->pid, 21);
  EXPECT_EQ(pg.peer->comm, "postgres");
  EXPECT_EQ(pg.attribution, "scan");
  EXPECT_EQ(flows[1].pid, 61);
  EXPECT_EQ(flows[1].local.addr, "@00012");
  EXPECT_EQ(flows[1].remote->addr, "@bus");
  EXPECT_EQ(flows[1].peer->pid, 60);
  EXPECT_EQ(flows[2].pid, 71);
  EXPECT_EQ(flows[2].remote->addr, "/dev/log");
  EXPECT_EQ(flows[2].peer->comm, "journal");
}
