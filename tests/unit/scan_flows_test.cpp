// Flow derivation from sockets: which sockets make flows and which direction they get.
#include <gtest/gtest.h>

#include "scan/scan_flows.h"

using namespace netviz;

namespace {
Socket sock(Proto proto, Family family, Endpoint local, std::optional<Endpoint> remote,
            SockState state, uint64_t netns = 1) {
  Socket s;
  s.proto = proto;
  s.family = family;
  s.local = std::move(local);
  s.remote = std::move(remote);
  s.state = state;
  s.netns = netns;
  return s;
}
}  // namespace

TEST(ScanFlows, DirectionByListeningPortPerNamespace) {
  std::vector<Socket> v = {
      sock(Proto::tcp, Family::ipv4, {"10.0.0.1", 443}, std::nullopt, SockState::listen),
      sock(Proto::tcp, Family::ipv4, {"10.0.0.1", 443}, Endpoint{"10.0.0.9", 5000}, SockState::established),
      // Same port in another namespace, no listener there: outbound.
      sock(Proto::tcp, Family::ipv4, {"10.0.0.2", 443}, Endpoint{"10.0.0.9", 5001}, SockState::established, 2),
      // Listener bound to another address on the same port: not ours.
      sock(Proto::tcp, Family::ipv4, {"10.0.0.3", 443}, Endpoint{"10.0.0.9", 5002}, SockState::established),
      sock(Proto::tcp, Family::ipv4, {"10.0.0.1", 5003}, Endpoint{"10.0.0.9", 443}, SockState::established),
      sock(Proto::tcp, Family::ipv4, {"10.0.0.1", 5004}, Endpoint{"10.0.0.9", 443}, SockState::time_wait),
      sock(Proto::udp, Family::ipv4, {"0.0.0.0", 53}, std::nullopt, SockState::unconn),
      sock(Proto::udp, Family::ipv4, {"10.0.0.1", 53}, Endpoint{"10.0.0.7", 9999}, SockState::established),
      sock(Proto::udp, Family::ipv4, {"10.0.0.1", 40000}, Endpoint{"10.0.0.7", 53}, SockState::established),
      sock(Proto::unix, Family::unix, {"/x", 0}, std::nullopt, SockState::established),
      sock(Proto::raw, Family::ipv4, {"0.0.0.0", 1}, Endpoint{"10.0.0.7", 0}, SockState::established),
  };
  v[1].owners = {{10, "srv", 4}, {11, "srv", 4}};
  auto flows = flows_from_sockets(v, 1234);
  ASSERT_EQ(flows.size(), 6u);
  EXPECT_EQ(flows[0].direction, Direction::inbound);
  EXPECT_EQ(flows[0].pid, 10);
  EXPECT_EQ(flows[0].comm, "srv");
  EXPECT_EQ(flows[0].first_seen, 1234);
  EXPECT_EQ(flows[0].state, SockState::established);
  EXPECT_EQ(flows[1].direction, Direction::outbound);
  EXPECT_EQ(flows[1].netns, 2u);
  EXPECT_EQ(flows[2].direction, Direction::outbound);
  EXPECT_EQ(flows[3].direction, Direction::outbound);
  EXPECT_EQ(flows[4].proto, Proto::udp);
  EXPECT_EQ(flows[4].direction, Direction::inbound);
  EXPECT_EQ(flows[4].state, SockState::none);
  EXPECT_EQ(flows[5].direction, Direction::outbound);
  for (const auto& f : flows) EXPECT_EQ(f.attribution, Attribution::scan);
}

TEST(ScanFlows, V4MappedAndWildcardV6Listener) {
  std::vector<Socket> v = {
      sock(Proto::tcp, Family::ipv6, {"::", 80}, std::nullopt, SockState::listen),
      sock(Proto::tcp, Family::ipv4, {"127.0.0.1", 80}, Endpoint{"127.0.0.1", 6000}, SockState::established),
      sock(Proto::tcp, Family::ipv6, {"::ffff:127.0.0.1", 80}, Endpoint{"::ffff:127.0.0.1", 6001},
           SockState::established),
      sock(Proto::tcp, Family::ipv6, {"::1", 80}, Endpoint{"::1", 6002}, SockState::close_wait),
  };
  auto flows = flows_from_sockets(v, 1);
  ASSERT_EQ(flows.size(), 3u);
  for (const auto& f : flows) EXPECT_EQ(f.direction, Direction::inbound);
  EXPECT_EQ(flows[1].family, Family::ipv4);
  EXPECT_EQ(flows[1].local.addr, "127.0.0.1");
  EXPECT_EQ(flows[1].remote->addr, "127.0.0.1");
  EXPECT_EQ(flows[2].family, Family::ipv6);
  EXPECT_EQ(unmap_v4("::ffff:10.1.2.3"), "10.1.2.3");
  EXPECT_EQ(unmap_v4("::ffff:a:b"), "::ffff:a:b");
  EXPECT_EQ(unmap_v4("1.2.3.4"), "1.2.3.4");
}

namespace {
Socket unix_sock(std::string path, SockState state, uint64_t inode, uint64_t peer,
                 std::vector<Owner> owners) {
  Socket s = sock(Proto::unix, Family::unix, {std::move(path), 0}, std::nullopt, state);
  s.inode = inode;
  s.peer_inode = peer;
  s.owners = std::move(owners);
  return s;
}
}  // namespace

TEST(ScanFlows, UnixPairBecomesOneFlowFromClientToListener) {
  std::vector<Socket> v = {
      unix_sock("/run/pg/.s.PGSQL.5432", SockState::listen, 100, 0, {{20, "postgres", 5}}),
      // Accepted end: carries the listener's name.
      unix_sock("/run/pg/.s.PGSQL.5432", SockState::established, 101, 102, {{21, "postgres", 9}}),
      unix_sock("", SockState::established, 102, 101, {{30, "psql", 3}}),
      // A socketpair inside one process: no flow.
      unix_sock("", SockState::established, 200, 201, {{40, "self", 3}}),
      unix_sock("", SockState::established, 201, 200, {{40, "self", 4}}),
      // Peer without owners (exited, or not visible): no flow.
      unix_sock("@abs", SockState::established, 300, 301, {{50, "a", 3}}),
      unix_sock("", SockState::established, 301, 300, {}),
      // Abstract listener, client with an autobind name.
      unix_sock("@bus", SockState::listen, 400, 0, {{60, "bus", 3}}),
      unix_sock("@bus", SockState::established, 401, 402, {{60, "bus", 7}}),
      unix_sock("@00012", SockState::established, 402, 401, {{61, "cli", 4}}),
      // Datagram client connected to a bound socket: only the client names a peer.
      unix_sock("/dev/log", SockState::unconn, 500, 0, {{70, "journal", 3}}),
      unix_sock("", SockState::established, 501, 500, {{71, "logger", 3}}),
      // Two processes, neither end named: no side to call the server.
      unix_sock("", SockState::established, 600, 601, {{80, "p", 3}}),
      unix_sock("", SockState::established, 601, 600, {{81, "c", 3}}),
  };
  auto flows = flows_from_sockets(v, 5);
  ASSERT_EQ(flows.size(), 3u);
  const Flow& pg = flows[0];
  EXPECT_EQ(pg.proto, Proto::unix);
  EXPECT_EQ(pg.family, Family::unix);
  EXPECT_EQ(pg.direction, Direction::outbound);
  EXPECT_EQ(pg.pid, 30);
  EXPECT_EQ(pg.comm, "psql");
  EXPECT_EQ(pg.local.addr, "");
  ASSERT_TRUE(pg.remote);
  EXPECT_EQ(pg.remote->addr, "/run/pg/.s.PGSQL.5432");
  ASSERT_TRUE(pg.peer);
  EXPECT_EQ(pg.peer->pid, 21);
  EXPECT_EQ(pg.peer->comm, "postgres");
  EXPECT_EQ(pg.attribution, Attribution::scan);
  EXPECT_EQ(flows[1].pid, 61);
  EXPECT_EQ(flows[1].local.addr, "@00012");
  EXPECT_EQ(flows[1].remote->addr, "@bus");
  EXPECT_EQ(flows[1].peer->pid, 60);
  EXPECT_EQ(flows[2].pid, 71);
  EXPECT_EQ(flows[2].remote->addr, "/dev/log");
  EXPECT_EQ(flows[2].peer->comm, "journal");
}
