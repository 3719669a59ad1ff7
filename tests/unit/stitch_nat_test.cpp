// Joining NATed connections: each end joins on the tuple its peer sees (Flow::nat), so a
// DNAT connection is one edge marked with the address the client used.
#include <gtest/gtest.h>

#include <sstream>

#include "../support/json_tree.h"
#include "stitch/graph_sinks.h"
#include "stitch_test_util.h"

using namespace netviz;
using namespace stitch_test;

namespace {

constexpr WallNs kT = 1'795'000'000'000'000'000;

Flow tcp(const std::string& comm, Endpoint local, Endpoint remote, bool outbound) {
  Flow f;
  f.proto = Proto::tcp;
  f.family = Family::ipv4;
  f.local = std::move(local);
  f.remote = std::move(remote);
  f.direction = outbound ? Direction::outbound : Direction::inbound;
  f.pid = outbound ? 100 : 200;
  f.comm = comm;
  f.netns = 1;
  f.first_seen = kT;
  f.last_seen = kT + 1'000'000;
  f.duration_ns = 1'000'000;
  f.attribution = outbound ? Attribution::connect : Attribution::accept;
  f.state = SockState::closed;
  return f;
}

std::shared_ptr<const Nat> nat(std::optional<Endpoint> local, std::optional<Endpoint> remote) {
  return std::make_shared<const Nat>(Nat{std::move(local), std::move(remote)});
}

// Writes one capture of host `name` (addresses `addr`) holding `f`; returns its path.
std::string capture_file(const std::string& name, const std::string& addr, const Flow& f) {
  Capture c;
  c.host.name = name;
  c.host.netns.push_back({1, "", {addr}});
  c.flows.push_back(f);
  std::string path = ::testing::TempDir() + "nat_" + name + "_" +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".json";
  std::stringstream ss;
  write_capture(ss, c);
  write_file(path, ss.str());
  return path;
}

const Endpoint kClient{"10.77.0.2", 40000}, kVip{"10.77.0.100", 6379}, kServer{"10.77.0.1", 6379};

std::vector<std::string> edges_of(const Flow& client, const Flow& server) {
  Graph g = stitch({capture_file("c", "10.77.0.2", client), capture_file("s", "10.77.0.1", server)},
                   StitchView::process, true);
  std::vector<std::string> out = edge_list(g);
  for (size_t i = 0; i < out.size(); ++i) out[i] += " nat=" + g.edges[i].nat;
  return out;
}

}  // namespace

TEST(StitchNat, DnatOnTheClientSideIsOneEdge) {
  Flow cl = tcp("redis-benchmark", kClient, kVip, true);
  Flow sv = tcp("redis-server", kServer, kClient, false);
  // Without the translation: a one-sided edge to the server and one to the VIP outside.
  EXPECT_EQ(edges_of(cl, sv), (std::vector<std::string>{
                                  "p:c|redis-benchmark -> x:10.77.0.100 tcp/6379 external x1 nat=",
                                  "u:c -> p:s|redis-server tcp/6379 one-side x1 nat="}));
  cl.nat = nat(std::nullopt, kServer);
  EXPECT_EQ(edges_of(cl, sv),
            (std::vector<std::string>{
                "p:c|redis-benchmark -> p:s|redis-server tcp/6379 both x1 nat=10.77.0.100:6379"}));
}

TEST(StitchNat, DnatOnTheServerSideIsOneEdge) {
  Flow cl = tcp("redis-benchmark", kClient, kVip, true);
  Flow sv = tcp("redis-server", kServer, kClient, false);
  sv.nat = nat(kVip, std::nullopt);  // the server's conntrack: the client asked for the VIP
  EXPECT_EQ(edges_of(cl, sv),
            (std::vector<std::string>{
                "p:c|redis-benchmark -> p:s|redis-server tcp/6379 both x1 nat=10.77.0.100:6379"}));
}

TEST(StitchNat, SnatJoinsOnTheTranslatedSource) {
  Flow cl = tcp("redis-benchmark", kClient, kServer, true);
  Endpoint snat{"10.77.0.3", 50000};
  Flow sv = tcp("redis-server", kServer, snat, false);
  cl.nat = nat(snat, std::nullopt);
  EXPECT_EQ(edges_of(cl, sv),
            (std::vector<std::string>{
                "p:c|redis-benchmark -> p:s|redis-server tcp/6379 both x1 nat=10.77.0.1:6379"}));
}

TEST(StitchNat, AClientAloneReachesTheRealServerHost) {
  // Only the server's host is described (its address): the NATed end points at it, not at
  // the VIP outside the group.
  Flow cl = tcp("redis-benchmark", kClient, kVip, true);
  cl.nat = nat(std::nullopt, kServer);
  Capture other;
  other.host.name = "s";
  other.host.netns.push_back({1, "", {"10.77.0.1"}});
  std::string path = ::testing::TempDir() + "nat_s_alone.json";
  std::stringstream ss;
  write_capture(ss, other);
  write_file(path, ss.str());
  Graph g = stitch({capture_file("c", "10.77.0.2", cl), path}, StitchView::process, true);
  ASSERT_EQ(g.edges.size(), 1u);
  EXPECT_EQ(g.edges[0].to, "u:s");
  EXPECT_EQ(g.edges[0].nat, "10.77.0.100:6379");
}

TEST(StitchNat, DotAndJsonMarkTheEdge) {
  Flow cl = tcp("redis-benchmark", kClient, kVip, true);
  cl.nat = nat(std::nullopt, kServer);
  Flow sv = tcp("redis-server", kServer, kClient, false);
  Graph g = stitch({capture_file("c", "10.77.0.2", cl), capture_file("s", "10.77.0.1", sv)});
  std::stringstream dot, js;
  write_dot(dot, g, StitchView::process);
  write_graph_json(js, g);
  EXPECT_NE(dot.str().find("NAT via 10.77.0.100:6379"), std::string::npos) << dot.str();
  EXPECT_NE(dot.str().find(kNatEdgeStyle), std::string::npos) << dot.str();
  nlohmann::json doc = nlohmann::json::parse(js.str());
  ASSERT_EQ(doc["edges"].size(), 1u);
  EXPECT_EQ(doc["edges"][0]["nat"], "10.77.0.100:6379");
}
