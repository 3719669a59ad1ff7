// Joining flow ends across captures: both sides, one side, listeners, loopback, time.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "stitch_test_util.h"

using namespace netviz;
using namespace stitch_test;

TEST(StitchJoin, JoinsBothEndsAcrossCaptures) {
  Graph g = stitch({"web1.json", "db1.json"});
  const GraphEdge* e = find_edge(g, "p:web1|nginx", "p:db1|postgres");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->joined, "both");
  EXPECT_EQ(e->proto, "tcp");
  EXPECT_EQ(e->port, 5432u);
  EXPECT_EQ(e->flows, 2u);  // a traced flow and one both scans saw, 3 s apart
  EXPECT_EQ(e->bytes, 1000u);  // both ends saw the same 1000 bytes: counted once
  EXPECT_EQ(e->open, 1u);
  EXPECT_EQ(g.stats.both, 3u);  // the two above and web1's own loopback pair
}

TEST(StitchJoin, ExactEdgeSet) {
  Graph g = stitch({"web1.json", "db1.json"});
  std::vector<std::string> want = {
      "p:web1|app -> p:db1|redis-server tcp/6379 listener x1",
      "p:web1|app -> u:db1 tcp/9999 one-side x1",
      "p:web1|nginx -> p:db1|postgres tcp/5432 both x2",
      "p:web1|psql -> p:web1|postgres tcp/5432 both x1",
      "p:web1|psql -> p:web1|postgres tcp/5432 listener x1",
      "u:db1 -> p:db1|postgres tcp/5432 one-side x1",
  };
  EXPECT_EQ(edge_list(g), want);
}

TEST(StitchJoin, LoopbackNeverLeavesItsHost) {
  // web1's psql:50001 -> 127.0.0.1:5432 and db1's postgres 127.0.0.1:5432 <- :50001 are the
  // same 4-tuple on two machines: two different connections.
  Graph g = stitch({"web1.json", "db1.json"});
  EXPECT_EQ(find_edge(g, "p:web1|psql", "p:db1|postgres"), nullptr);
  // Each side is an edge within its own host: web1's to the owner of its listener.
  const GraphEdge* own = nullptr;
  for (const auto& e : g.edges)
    if (e.from == "p:web1|psql" && e.joined == "listener") own = &e;
  ASSERT_NE(own, nullptr);
  EXPECT_EQ(own->to, "p:web1|postgres");
  const GraphEdge* db = find_edge(g, "u:db1", "p:db1|postgres");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->joined, "one-side");
}

TEST(StitchJoin, PortReusedLaterIsAnotherConnection) {
  Graph g = stitch({"reuse_a.json", "reuse_b.json"});
  std::vector<std::string> want = {
      "p:client|curl -> p:server|nginx tcp/80 both x1",
      "p:client|late -> u:server tcp/80 one-side x1",
      "p:client|wget -> p:server|apache tcp/80 both x1",
  };
  EXPECT_EQ(edge_list(g), want);
}

TEST(StitchJoin, SkewWindowIsTheLimit) {
  // The server's clock runs 1.5 s behind: joined with the default 2 s window, not with 0.
  FlowStore store;
  load_inputs(store, {fixture("reuse_a.json"), fixture("reuse_b.json")}, 1);
  GraphOptions o;
  o.join.skew_ns = 0;
  Graph g = build_graph(store, o);
  EXPECT_EQ(g.stats.both, 0u);
}

TEST(StitchJoin, ExternalPeersHiddenByDefault) {
  Graph g = stitch({"web1.json", "db1.json"});
  EXPECT_EQ(g.external_hidden, 1u);
  for (const auto& n : g.nodes) EXPECT_NE(n.type, "external") << n.id;
  Graph x = stitch({"web1.json", "db1.json"}, StitchView::process, true);
  const GraphEdge* e = find_edge(x, "p:web1|curl", "x:93.184.216.34");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->joined, "external");
  EXPECT_EQ(e->port, 443u);
  EXPECT_EQ(find_node(x, "x:93.184.216.34")->host, "");
}

TEST(StitchJoin, OneCaptureAloneKnowsOnlyItsOwnAddresses) {
  // Without db1's capture, 10.0.0.2 belongs to no host of the group: all outside.
  Graph g = stitch({"web1.json"});
  EXPECT_EQ(g.stats.both, 1u);  // the loopback pair
  EXPECT_EQ(g.stats.external, 5u);
  EXPECT_EQ(find_edge(g, "p:web1|nginx", "u:db1"), nullptr);
}

TEST(StitchJoin, MinimalDocumentJoinsAStream) {
  // minimal.json has only the required fields; stream.jsonl saw the same UDP exchange,
  // first opened then closed (the later line wins).
  Graph g = stitch({"minimal.json", "stream.jsonl"});
  const GraphEdge* e = find_edge(g, "p:tiny|resolver", "p:web2|dnsd");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->proto, "udp");
  EXPECT_EQ(e->port, 53u);
  EXPECT_EQ(e->flows, 1u);
  EXPECT_EQ(e->bytes, 120u);
  EXPECT_EQ(e->open, 0u);
  EXPECT_EQ(g.hosts, (std::vector<std::string>{"tiny", "web2"}));
}

TEST(StitchJoin, ListenersWithoutFlows) {
  Graph plain = stitch({"web1.json", "db1.json"});
  EXPECT_EQ(find_node(plain, "p:db1|sshd"), nullptr);
  Graph g = stitch({"web1.json", "db1.json", "stream.jsonl"}, StitchView::process, false, true);
  const GraphNode* sshd = find_node(g, "p:db1|sshd");
  ASSERT_NE(sshd, nullptr);
  EXPECT_EQ(sshd->listens, (std::vector<std::string>{"tcp 0.0.0.0:22"}));
  EXPECT_EQ(sshd->pids, (std::vector<int32_t>{900}));
  const GraphNode* api = find_node(g, "p:web2|api");  // from a stream's listen event
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->listens, (std::vector<std::string>{"tcp 0.0.0.0:8080"}));
  // Listeners that had flows are shown by their edges, not listed again.
  EXPECT_TRUE(find_node(g, "p:db1|postgres")->listens.empty());
}

TEST(StitchJoin, NamespacesOfOneCaptureAreHosts) {
  // One capture covering the root namespace and two others; flows between them.
  std::string dir = ::testing::TempDir() + "/stitch-ns";
  std::string path = dir + ".json";
  write_file(path, R"({"netviz": 1, "host": {"name": "box", "netns": [
    {"inode": 10, "name": "", "addresses": ["192.168.1.5"]},
    {"inode": 11, "name": "blue", "addresses": ["10.2.0.1", "127.0.0.1"]},
    {"inode": 12, "name": "", "addresses": ["10.2.0.2", "127.0.0.1"]}]},
  "flows": [
   {"proto": "tcp", "family": "ipv4", "local": {"addr": "10.2.0.1", "port": 33000}, "remote": {"addr": "10.2.0.2", "port": 80}, "direction": "outbound", "pid": 5, "comm": "cli", "netns": 11},
   {"proto": "tcp", "family": "ipv4", "local": {"addr": "10.2.0.2", "port": 80}, "remote": {"addr": "10.2.0.1", "port": 33000}, "direction": "inbound", "pid": 6, "comm": "srv", "netns": 12},
   {"proto": "tcp", "family": "ipv4", "local": {"addr": "127.0.0.1", "port": 33001}, "remote": {"addr": "127.0.0.1", "port": 80}, "direction": "outbound", "pid": 5, "comm": "cli", "netns": 11},
   {"proto": "tcp", "family": "ipv4", "local": {"addr": "127.0.0.1", "port": 80}, "remote": {"addr": "127.0.0.1", "port": 33001}, "direction": "inbound", "pid": 6, "comm": "srv", "netns": 12},
   {"proto": "tcp", "family": "ipv4", "local": {"addr": "192.168.1.5", "port": 22}, "remote": {"addr": "192.168.1.9", "port": 50000}, "direction": "inbound", "pid": 1, "comm": "sshd", "netns": 10}
  ]})");
  Graph g = stitch({path}, StitchView::process, true);
  EXPECT_EQ(g.hosts, (std::vector<std::string>{"box", "box/blue", "box/netns-12"}));
  std::vector<std::string> want = {
      "p:box/blue|cli -> p:box/netns-12|srv tcp/80 both x1",
      "p:box/blue|cli -> u:box/blue tcp/80 one-side x1",
      "u:box/netns-12 -> p:box/netns-12|srv tcp/80 one-side x1",
      "x:192.168.1.9 -> p:box|sshd tcp/22 external x1",
  };
  EXPECT_EQ(edge_list(g), want);
  std::remove(path.c_str());
}

TEST(StitchJoin, MappedIpv4JoinsPlainIpv4) {
  std::string a = ::testing::TempDir() + "/stitch-v6a.json";
  std::string b = ::testing::TempDir() + "/stitch-v6b.json";
  write_file(a, R"({"netviz":1,"host":{"name":"v6c","netns":[{"inode":1,"addresses":["10.3.0.1"]}]},"flows":[
    {"proto":"tcp","family":"ipv6","local":{"addr":"::ffff:10.3.0.1","port":41000},"remote":{"addr":"::ffff:10.3.0.2","port":80},"direction":"outbound","pid":1,"comm":"c"}]})");
  write_file(b, R"({"netviz":1,"host":{"name":"v4s","netns":[{"inode":2,"addresses":["10.3.0.2"]}]},"flows":[
    {"proto":"tcp","family":"ipv4","local":{"addr":"10.3.0.2","port":80},"remote":{"addr":"10.3.0.1","port":41000},"direction":"inbound","pid":2,"comm":"s"}]})");
  Graph g = stitch({a, b});
  EXPECT_EQ(edge_list(g), (std::vector<std::string>{"p:v6c|c -> p:v4s|s tcp/80 both x1"}));
  std::remove(a.c_str());
  std::remove(b.c_str());
}

TEST(StitchJoin, FailedConnectsAreNoEdgeUnlessAsked) {
  // A connect refused before its server listened, the retry that succeeded, and a SYN to a
  // port nobody serves: only the retry is a connection. The refused one must not be drawn
  // to the listener that took the retry, nor paired with any end.
  std::string a = ::testing::TempDir() + "/stitch-failed-a.json";
  std::string b = ::testing::TempDir() + "/stitch-failed-b.json";
  write_file(a, R"({"netviz":1,"host":{"name":"c","netns":[{"inode":1,"addresses":["10.4.0.1"]}]},"flows":[
    {"proto":"tcp","family":"ipv4","local":{"addr":"10.4.0.1","port":41000},"remote":{"addr":"10.4.0.2","port":9090},"direction":"outbound","pid":7,"comm":"mid","state":"FAILED","first_seen":"2026-12-01T10:00:00.000000000Z","last_seen":"2026-12-01T10:00:00.001000000Z","duration_ns":1000000},
    {"proto":"tcp","family":"ipv4","local":{"addr":"10.4.0.1","port":41002},"remote":{"addr":"10.4.0.2","port":9090},"direction":"outbound","pid":7,"comm":"mid","state":"CLOSED","first_seen":"2026-12-01T10:00:00.100000000Z","last_seen":"2026-12-01T10:00:03.000000000Z","duration_ns":2900000000},
    {"proto":"tcp","family":"ipv4","local":{"addr":"10.4.0.1","port":41004},"remote":{"addr":"10.4.0.2","port":9999},"direction":"outbound","pid":7,"comm":"mid","state":"FAILED","first_seen":"2026-12-01T10:00:01.000000000Z","last_seen":"2026-12-01T10:00:01.001000000Z","duration_ns":1000000},
    {"proto":"tcp","family":"ipv4","local":{"addr":"10.4.0.1","port":41006},"remote":{"addr":"192.0.2.9","port":443},"direction":"outbound","pid":7,"comm":"mid","state":"FAILED","first_seen":"2026-12-01T10:00:01.000000000Z","last_seen":"2026-12-01T10:00:02.000000000Z","duration_ns":1000000000}]})");
  write_file(b, R"({"netviz":1,"host":{"name":"s","netns":[{"inode":2,"addresses":["10.4.0.2"]}]},"flows":[
    {"proto":"tcp","family":"ipv4","local":{"addr":"10.4.0.2","port":9090},"remote":{"addr":"10.4.0.1","port":41002},"direction":"inbound","pid":8,"comm":"srv","state":"CLOSED","first_seen":"2026-12-01T10:00:00.100000000Z","last_seen":"2026-12-01T10:00:03.000000000Z","duration_ns":2900000000}],
    "sockets":[{"proto":"tcp","family":"ipv4","local":{"addr":"0.0.0.0","port":9090},"state":"LISTEN","owners":[{"pid":8,"comm":"srv","fd":3}]}]})");

  Graph g = stitch({a, b}, StitchView::process, true);
  EXPECT_EQ(edge_list(g), (std::vector<std::string>{"p:c|mid -> p:s|srv tcp/9090 both x1"}));
  EXPECT_EQ(g.stats.failed, 3u);
  EXPECT_EQ(g.failed_hidden, 3u);
  EXPECT_EQ(g.stats.listener, 0u);

  FlowStore store;
  load_inputs(store, {a, b}, 1);
  GraphOptions o;
  o.failed = true;
  Graph shown = build_graph(store, o);
  // In the group: to the host's unknown process, never to the listener; outside it: hidden
  // like any peer outside unless --external.
  std::vector<std::string> want = {
      "p:c|mid -> p:s|srv tcp/9090 both x1",
      "p:c|mid -> u:s tcp/9090 failed x1",
      "p:c|mid -> u:s tcp/9999 failed x1",
  };
  EXPECT_EQ(edge_list(shown), want);
  EXPECT_EQ(shown.failed_hidden, 0u);
  EXPECT_EQ(shown.external_hidden, 1u);
  std::remove(a.c_str());
  std::remove(b.c_str());
}

// A client end traced with its owner, an ownerless record of the same socket (a scan that
// found it while it closed), and the server end on another host: the traced ends pair, in
// whichever order the captures are read.
TEST(StitchJoin, OwnedEndsPairBeforeAnOwnerlessTwinInAnyInputOrder) {
  std::string dir = ::testing::TempDir() + "twin-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  auto end = [](int port_l, int port_r, const char* l, const char* r, const char* dir_, int pid,
                const char* comm, const char* first, const char* last, bool closed) {
    return std::string("{\"proto\":\"tcp\",\"family\":\"ipv4\",\"local\":{\"addr\":\"") + l +
           "\",\"port\":" + std::to_string(port_l) + "},\"remote\":{\"addr\":\"" + r +
           "\",\"port\":" + std::to_string(port_r) + "},\"direction\":\"" + dir_ +
           "\",\"pid\":" + std::to_string(pid) + ",\"comm\":\"" + comm + "\",\"first_seen\":\"" +
           first + "\",\"last_seen\":\"" + last + "\"" +
           (closed ? ",\"duration_ms\":36,\"attribution\":\"connect\"" : ",\"attribution\":\"scan\"") + "}";
  };
  const char* host_a = "{\"netviz\":1,\"host\":{\"name\":\"a\",\"netns\":[{\"inode\":1,\"name\":\"\",\"addresses\":[\"10.2.0.3\"]}]},\"flows\":[";
  const char* host_b = "{\"netviz\":1,\"host\":{\"name\":\"b\",\"netns\":[{\"inode\":1,\"name\":\"\",\"addresses\":[\"10.2.0.4\"]}]},\"flows\":[";
  write_file(dir + "/a.json",
             std::string(host_a) +
                 end(39376, 7070, "10.2.0.3", "10.2.0.4", "outbound", 0, "",
                     "2026-12-06T23:31:01.285Z", "2026-12-06T23:31:01.285Z", false) + "," +
                 end(39376, 7070, "10.2.0.3", "10.2.0.4", "outbound", 14013, "cli3",
                     "2026-12-06T23:31:01.281Z", "2026-12-06T23:31:01.317Z", true) + "]}");
  write_file(dir + "/b.json",
             std::string(host_b) +
                 end(7070, 39376, "10.2.0.4", "10.2.0.3", "inbound", 14008, "srv4",
                     "2026-12-06T23:31:01.281Z", "2026-12-06T23:31:01.317Z", true) + "]}");
  for (auto order : {std::vector<std::string>{dir + "/a.json", dir + "/b.json"},
                     std::vector<std::string>{dir + "/b.json", dir + "/a.json"}}) {
    Graph g = stitch(order);
    const GraphEdge* e = find_edge(g, "p:a|cli3", "p:b|srv4");
    ASSERT_NE(e, nullptr) << testing::PrintToString(edge_list(g));
    EXPECT_EQ(e->joined, "both");
    EXPECT_EQ(find_edge(g, "u:a", "p:b|srv4"), nullptr) << testing::PrintToString(edge_list(g));
  }
  std::filesystem::remove_all(dir);
}
