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
