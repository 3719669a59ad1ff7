// Views, DOT and JSON output, follow-mode changes.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <fstream>
#include <sstream>

#include "commands/follow.h"
#include "stitch/graph_diff.h"
#include "stitch/graph_sinks.h"
#include "commands/stitch_command.h"
#include "stitch_test_util.h"
#include "util/error.h"

using namespace netviz;
using namespace stitch_test;
using nlohmann::json;

namespace {

// Runs `dot -Tsvg` on the text; returns dot's exit status.
int render_with_dot(const std::string& dot_text) {
  // Per process: ctest -j runs the tests that call this at the same time.
  std::string base = ::testing::TempDir() + "/stitch-render-" + std::to_string(getpid());
  std::string in = base + ".dot";
  std::string out = base + ".svg";
  {
    std::ofstream f(in);
    f << dot_text;
  }
  int rc = std::system(("dot -Tsvg " + in + " -o " + out + " 2>" + out + ".err").c_str());
  std::ifstream err(out + ".err");
  std::stringstream ss;
  ss << err.rdbuf();
  EXPECT_EQ(ss.str(), "") << "dot complained";
  std::remove(in.c_str());
  std::remove(out.c_str());
  std::remove((out + ".err").c_str());
  return rc;
}

}  // namespace

TEST(StitchViews, ProcessMergesPidsPidSplitsThem) {
  Graph g = stitch({"web1.json", "db1.json"});
  const GraphNode* pg = find_node(g, "p:db1|postgres");
  ASSERT_NE(pg, nullptr);
  EXPECT_EQ(pg->pids, (std::vector<int32_t>{700, 701, 702}));
  Graph p = stitch({"web1.json", "db1.json"}, StitchView::pid);
  EXPECT_NE(find_edge(p, "p:web1|nginx|100", "p:db1|postgres|701"), nullptr);
  EXPECT_NE(find_edge(p, "p:web1|nginx|101", "p:db1|postgres|702"), nullptr);
  EXPECT_EQ(find_node(p, "p:web1|nginx|100")->pids, (std::vector<int32_t>{100}));
}

TEST(StitchViews, HostView) {
  // Every end is its host, the process behind a one-sided end included.
  Graph g = stitch({"web1.json", "db1.json"}, StitchView::host);
  std::vector<std::string> want = {
      "h:db1 -> h:db1 tcp/5432 one-side x1",
      "h:web1 -> h:db1 tcp/5432 both x2",
      "h:web1 -> h:db1 tcp/6379 listener x1",
      "h:web1 -> h:db1 tcp/9999 one-side x1",
      "h:web1 -> h:web1 tcp/5432 both x1",
      "h:web1 -> h:web1 tcp/5432 listener x1",
  };
  EXPECT_EQ(edge_list(g), want);
  for (const auto& n : g.nodes) EXPECT_EQ(n.type, "host") << n.id;
}

TEST(StitchViews, EndpointViewChainsProcessLocalRemote) {
  Graph g = stitch({"web1.json", "db1.json"}, StitchView::endpoint);
  EXPECT_NE(find_edge(g, "p:web1|nginx", "e:web1|tcp|10.0.0.1:40001"), nullptr);
  const GraphEdge* mid = find_edge(g, "e:web1|tcp|10.0.0.1:40001", "e:db1|tcp|10.0.0.2:5432");
  ASSERT_NE(mid, nullptr);
  EXPECT_EQ(mid->joined, "both");
  EXPECT_NE(find_edge(g, "e:db1|tcp|10.0.0.2:5432", "p:db1|postgres"), nullptr);
  // loopback endpoints of two hosts are distinct nodes
  EXPECT_NE(find_node(g, "e:web1|tcp|127.0.0.1:5432"), nullptr);
  EXPECT_NE(find_node(g, "e:db1|tcp|127.0.0.1:5432"), nullptr);
}

TEST(StitchDot, QuotesAndEscapes) {
  EXPECT_EQ(dot_quote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(dot_quote("line\nbreak"), R"("line\\x0abreak")");
  EXPECT_EQ(dot_quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");   // valid UTF-8 kept
  EXPECT_EQ(dot_quote("bad\xff"), R"("bad\\xff")");          // invalid UTF-8 made visible
}

TEST(StitchDot, HostileNamesRenderWithDot) {
  // Commands and host names are chosen by whoever runs the processes.
  std::string path = ::testing::TempDir() + "/stitch-hostile.json";
  {
    std::ofstream f(path);
    f << R"({"netviz": 1, "host": {"name": "h\"1 } digraph {", "netns": [{"inode": 1, "addresses": ["10.5.0.1"]}]},
      "flows": [
       {"proto": "tcp", "family": "ipv4", "local": {"addr": "10.5.0.1", "port": 1000}, "remote": {"addr": "10.5.0.1", "port": 2000}, "direction": "outbound", "pid": 1, "comm": "a\"b\\c\n;->", "netns": 1},
       {"proto": "tcp", "family": "ipv4", "local": {"addr": "10.5.0.1", "port": 2000}, "remote": {"addr": "10.5.0.1", "port": 1000}, "direction": "inbound", "pid": 2, "comm": "<html>&\u00ff\t", "netns": 1},
       {"proto": "tcp", "family": "ipv6", "local": {"addr": "fd00::1", "port": 3000}, "remote": {"addr": "2001:db8::7", "port": 443}, "direction": "outbound", "pid": 3, "comm": "\\N\\G", "netns": 1}
      ]})";
  }
  for (StitchView v : {StitchView::process, StitchView::pid, StitchView::endpoint, StitchView::host}) {
    Graph g = stitch({path}, v, true, true);
    std::stringstream ss;
    write_dot(ss, g, v);
    EXPECT_EQ(render_with_dot(ss.str()), 0) << ss.str();
  }
  std::remove(path.c_str());
}

TEST(StitchDot, ClustersLabelsAndRendering) {
  Graph g = stitch({"web1.json", "db1.json"}, StitchView::process, true, true);
  std::stringstream ss;
  write_dot(ss, g, StitchView::process);
  std::string dot = ss.str();
  EXPECT_NE(dot.find("subgraph \"cluster_0\" {\n    label=\"db1\";"), std::string::npos) << dot;
  EXPECT_NE(dot.find("subgraph \"cluster_1\" {\n    label=\"web1\";"), std::string::npos);
  EXPECT_NE(dot.find("\"p:web1|nginx\" -> \"p:db1|postgres\" [label=\"tcp 5432\\n2 flows, 1.0 kB\"]"),
            std::string::npos)
      << dot;
  EXPECT_NE(dot.find("(one-side)\", style=dashed"), std::string::npos);
  EXPECT_NE(dot.find("listens tcp 0.0.0.0:22"), std::string::npos);
  EXPECT_EQ(render_with_dot(dot), 0);
  // deterministic
  std::stringstream again;
  write_dot(again, stitch({"web1.json", "db1.json"}, StitchView::process, true, true),
            StitchView::process);
  EXPECT_EQ(again.str(), dot);
}

TEST(StitchJson, Shape) {
  Graph g = stitch({"web1.json", "db1.json"});
  std::stringstream ss;
  write_graph_json(ss, g);
  json j = json::parse(ss.str());
  ASSERT_TRUE(j["nodes"].is_array());
  ASSERT_TRUE(j["edges"].is_array());
  EXPECT_EQ(j["hosts"], json({"db1", "web1"}));
  for (const auto& n : j["nodes"]) {
    for (const char* k : {"id", "type", "host", "comm", "pids"}) EXPECT_TRUE(n.contains(k)) << k;
  }
  for (const auto& e : j["edges"]) {
    for (const char* k : {"from", "to", "proto", "port", "flows", "bytes", "joined", "open"})
      EXPECT_TRUE(e.contains(k)) << k;
  }
  json nginx;
  for (const auto& e : j["edges"])
    if (e["from"] == "p:web1|nginx") nginx = e;
  EXPECT_EQ(nginx["to"], "p:db1|postgres");
  EXPECT_EQ(nginx["proto"], "tcp");
  EXPECT_EQ(nginx["port"], 5432);
  EXPECT_EQ(nginx["flows"], 2);
  EXPECT_EQ(nginx["bytes"], 1000);
  EXPECT_EQ(nginx["joined"], "both");
  EXPECT_EQ(nginx["first_seen"], "2026-11-21T10:00:00.000000000Z");
  json pg;
  for (const auto& n : j["nodes"])
    if (n["id"] == "p:db1|postgres") pg = n;
  EXPECT_EQ(pg["host"], "db1");
  EXPECT_EQ(pg["comm"], "postgres");
  EXPECT_EQ(pg["pids"], json({700, 701, 702}));
  EXPECT_EQ(j["stats"]["external_hidden"], 1);
  EXPECT_EQ(j["stats"]["joined_both"], 3);
}

TEST(StitchFollow, ChangesCarryIncreasingSequenceNumbers) {
  StitchOptions o;
  std::stringstream out;
  FollowSession s(o, out);
  size_t a = s.add_input("a.jsonl");
  size_t b = s.add_input("b.jsonl");
  auto lines = [&out] {
    std::vector<json> v;
    std::string l;
    while (std::getline(out, l)) v.push_back(json::parse(l));
    out.clear();
    return v;
  };
  const std::string host_a =
      R"({"event":"host","netviz":1,"host":{"name":"a","netns":[{"inode":1,"addresses":["10.7.0.1"]}]}})";
  const std::string host_b =
      R"({"event":"host","netviz":1,"host":{"name":"b","netns":[{"inode":2,"addresses":["10.7.0.2"]}]}})";
  auto flow = [](const char* event, const char* local, int lport, const char* remote, int rport,
                 const char* dir, const char* comm, const char* extra) {
    return std::string(R"({"event":")") + event + R"(","proto":"tcp","family":"ipv4","local":{"addr":")" +
           local + R"(","port":)" + std::to_string(lport) + R"(},"remote":{"addr":")" + remote +
           R"(","port":)" + std::to_string(rport) + R"(},"direction":")" + dir +
           R"(","pid":9,"comm":")" + comm +
           R"(","first_seen":"2026-11-21T10:00:00Z","last_seen":"2026-11-21T10:00:00Z")" + extra +
           "}\n";
  };
  // Half a line: nothing yet.
  std::string c1 = host_a + "\n" + flow("connect", "10.7.0.1", 40000, "10.7.0.2", 80, "outbound", "cli", "");
  s.feed(a, c1.substr(0, c1.size() - 10));
  s.tick();
  EXPECT_TRUE(lines().empty());
  s.feed(a, c1.substr(c1.size() - 10));
  s.tick();
  auto l1 = lines();
  // b's host is not captured yet: the flow goes outside the group (hidden by default).
  EXPECT_TRUE(l1.empty());
  s.feed(b, host_b + "\n");
  s.tick();
  auto l2 = lines();
  ASSERT_EQ(l2.size(), 3u);
  EXPECT_EQ(l2[0]["seq"], 1);
  EXPECT_EQ(l2[0]["change"], "node_added");
  EXPECT_EQ(l2[0]["node"]["id"], "p:a|cli");
  EXPECT_EQ(l2[1]["change"], "node_added");
  EXPECT_EQ(l2[1]["node"]["id"], "u:b");
  EXPECT_EQ(l2[2]["seq"], 3);
  EXPECT_EQ(l2[2]["change"], "edge_added");
  EXPECT_EQ(l2[2]["edge"]["joined"], "one-side");
  // b's side arrives: the one-sided edge becomes a joined one.
  s.feed(b, flow("accept", "10.7.0.2", 80, "10.7.0.1", 40000, "inbound", "srv", ""));
  s.tick();
  auto l3 = lines();
  ASSERT_EQ(l3.size(), 4u);
  EXPECT_EQ(l3[0]["seq"], 4);
  EXPECT_EQ(l3[0]["change"], "node_added");
  EXPECT_EQ(l3[0]["node"]["id"], "p:b|srv");
  EXPECT_EQ(l3[1]["change"], "edge_added");
  EXPECT_EQ(l3[1]["edge"]["joined"], "both");
  EXPECT_EQ(l3[2]["change"], "edge_removed");
  EXPECT_EQ(l3[3]["change"], "node_removed");
  EXPECT_EQ(l3[3]["node"]["id"], "u:b");
  // Both ends close: the edge is closed.
  s.feed(a, flow("close", "10.7.0.1", 40000, "10.7.0.2", 80, "outbound", "cli",
                 R"(,"duration_ms":5,"bytes_sent":10)"));
  s.tick();
  auto l4 = lines();
  ASSERT_EQ(l4.size(), 1u);
  EXPECT_EQ(l4[0]["change"], "edge_closed");
  EXPECT_EQ(l4[0]["seq"], 8);
  EXPECT_EQ(l4[0]["edge"]["bytes"], 10);
  EXPECT_EQ(l4[0]["edge"]["open"], 0);
  // Nothing new: nothing printed.
  s.tick();
  EXPECT_TRUE(lines().empty());
  // A malformed line is an error naming the input and line.
  try {
    s.feed(a, "{\"event\":\n");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a.jsonl:4: malformed JSON"), std::string::npos) << e.what();
  }
}

TEST(StitchFollow, RunsOnFilesAndWritesTheDotFile) {
  // A file input, read to its end; the loop ends on SIGTERM (raised from a thread here).
  std::string dir = ::testing::TempDir();
  std::string in = dir + "/stitch-follow-in.jsonl";
  std::string out = dir + "/stitch-follow-out.dot";
  std::remove(out.c_str());
  {
    std::ifstream src(fixture("stream.jsonl"));
    std::ofstream dst(in);
    dst << src.rdbuf();
  }
  StitchOptions o;
  o.follow = true;
  o.inputs = {in, fixture("minimal.json")};
  o.output = out;
  o.every = 0.2;
  std::stringstream changes, err;
  std::thread stopper([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    kill(getpid(), SIGTERM);
  });
  EXPECT_EQ(run_stitch(o, changes, err), 0);
  stopper.join();
  std::string text = changes.str();
  EXPECT_NE(text.find(R"("seq":1,"change":"node_added")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("from":"p:tiny|resolver","to":"p:web2|dnsd")"), std::string::npos) << text;
  std::ifstream f(out);
  std::stringstream dot;
  dot << f.rdbuf();
  EXPECT_NE(dot.str().find("\"p:tiny|resolver\" -> \"p:web2|dnsd\""), std::string::npos) << dot.str();
  std::remove(in.c_str());
  std::remove(out.c_str());
}

TEST(StitchDot, FailedConnectsAreRedDashedAndCountedInJson) {
  Graph g;
  g.hosts = {"c", "s"};
  g.nodes = {{"p:c|mid", "process", "c", "mid", {7}, "", 0, {}, {}, ""},
               {"u:s", "unknown", "s", "", {}, "", 0, {}, {}, ""}};
  GraphEdge e;
  e.from = "p:c|mid";
  e.to = "u:s";
  e.proto = "tcp";
  e.port = 9090;
  e.joined = "failed";
  e.flows = 2;
  g.edges = {e};
  g.stats.failed = 3;
  g.failed_hidden = 1;
  std::stringstream dot;
  write_dot(dot, g, StitchView::process);
  EXPECT_NE(dot.str().find("(failed)\", style=dashed, color=red3"), std::string::npos) << dot.str();
  EXPECT_EQ(render_with_dot(dot.str()), 0);
  std::stringstream js;
  write_graph_json(js, g);
  json j = json::parse(js.str());
  EXPECT_EQ(j["stats"]["failed"], 3);
  EXPECT_EQ(j["stats"]["failed_hidden"], 1);
  EXPECT_EQ(j["edges"][0]["joined"], "failed");
}

TEST(StitchViews, ServiceViewOneNodePerHostAndService) {
  Graph g = stitch({"svc_web1.json", "svc_db1.json"}, StitchView::service);
  // nginx's two pids are one service node; psql has none and stands for itself by comm; a
  // listener-joined end takes the service its process's flows named (web1's postgres), else
  // its comm (redis).
  std::vector<std::string> want = {
      "s:web1|(comm) psql -> s:web1|postgresql@15-main.service tcp/5432 both x1",
      "s:web1|(comm) psql -> s:web1|postgresql@15-main.service tcp/5432 listener x1",
      "s:web1|container:3f4e5d6c7b8a -> s:db1|(comm) redis-server tcp/6379 listener x1",
      "s:web1|container:3f4e5d6c7b8a -> u:db1 tcp/9999 one-side x1",
      "s:web1|nginx.service -> s:db1|postgresql.service tcp/5432 both x2",
      "u:db1 -> s:db1|postgresql.service tcp/5432 one-side x1",
  };
  EXPECT_EQ(edge_list(g), want);
  const GraphNode* nginx = find_node(g, "s:web1|nginx.service");
  ASSERT_NE(nginx, nullptr);
  EXPECT_EQ(nginx->type, "service");
  EXPECT_EQ(nginx->service, "nginx.service");
  EXPECT_EQ(nginx->pids, (std::vector<int32_t>{100, 101}));
  const GraphNode* psql = find_node(g, "s:web1|(comm) psql");
  ASSERT_NE(psql, nullptr);
  EXPECT_EQ(psql->service, "");
  EXPECT_EQ(psql->comm, "psql");
  std::stringstream dot;
  write_dot(dot, g, StitchView::service);
  EXPECT_NE(dot.str().find("label=\"psql (no service)\\npids 200,201\""), std::string::npos)
      << dot.str();
  EXPECT_NE(dot.str().find("label=\"nginx.service\\npids 100,101\\ningress packet any ipv4\""), std::string::npos);
  std::stringstream js;
  write_graph_json(js, g);
  json j = json::parse(js.str());
  bool found = false;
  for (const auto& n : j["nodes"])
    if (n["id"] == "s:web1|nginx.service") {
      found = true;
      EXPECT_EQ(n["service"], "nginx.service");
      EXPECT_EQ(n["type"], "service");
    }
  EXPECT_TRUE(found);
}

TEST(StitchViews, ProcessViewLabelsNodesWithTheirService) {
  Graph g = stitch({"svc_web1.json", "svc_db1.json"});
  EXPECT_EQ(find_node(g, "p:web1|nginx")->service, "nginx.service");
  EXPECT_EQ(find_node(g, "p:web1|psql")->service, "");
  // Two postgres processes on web1 and db1 are distinct nodes, each with its own unit.
  EXPECT_EQ(find_node(g, "p:web1|postgres")->service, "postgresql@15-main.service");
  EXPECT_EQ(find_node(g, "p:db1|postgres")->service, "postgresql.service");
  std::stringstream dot;
  write_dot(dot, g, StitchView::process);
  EXPECT_NE(dot.str().find("\"nginx\\nservice nginx.service\\npids 100,101\\ningress packet any ipv4\""), std::string::npos)
      << dot.str();
  std::stringstream js;
  write_graph_json(js, g);
  bool labelled = false;
  json pj_nodes = json::parse(js.str())["nodes"];
  for (const auto& n : pj_nodes)
    if (n["id"] == "p:web1|nginx") labelled = n.value("service", "") == "nginx.service";
  EXPECT_TRUE(labelled);
  // Captures without services give the same output as before: no service key at all.
  Graph plain = stitch({"web1.json", "db1.json"});
  std::stringstream pj;
  write_graph_json(pj, plain);
  EXPECT_EQ(pj.str().find("service"), std::string::npos);
}

TEST(StitchViews, RawAndPacketSocketsMarkTheirOwnersInEveryView) {
  Graph p = stitch({"svc_web1.json", "svc_db1.json"});
  ASSERT_NE(find_node(p, "p:web1|ping"), nullptr);  // no flows, still on the map
  EXPECT_EQ(find_node(p, "p:web1|ping")->ingress, (std::vector<std::string>{"raw icmp"}));
  EXPECT_EQ(find_node(p, "p:web1|tcpdump")->ingress,
            (std::vector<std::string>{"packet eth0 all"}));
  EXPECT_EQ(find_node(p, "p:web1|nginx")->ingress, (std::vector<std::string>{"packet any ipv4"}));
  EXPECT_TRUE(find_node(p, "p:web1|psql")->ingress.empty());
  std::stringstream dot;
  write_dot(dot, p, StitchView::process);
  EXPECT_NE(dot.str().find("\"ping\\npid 600\\ningress raw icmp\""), std::string::npos) << dot.str();
  std::stringstream js;
  write_graph_json(js, p);
  bool found = false;
  json nodes = json::parse(js.str())["nodes"];
  for (const auto& n : nodes)
    if (n["id"] == "p:web1|tcpdump") found = n["ingress"] == json({"packet eth0 all"});
  EXPECT_TRUE(found);
  // The marks follow the owner into the other views.
  Graph s = stitch({"svc_web1.json", "svc_db1.json"}, StitchView::service);
  EXPECT_EQ(find_node(s, "s:web1|nginx.service")->ingress,
            (std::vector<std::string>{"packet any ipv4"}));
  EXPECT_EQ(find_node(s, "s:web1|(comm) ping")->ingress, (std::vector<std::string>{"raw icmp"}));
  Graph h = stitch({"svc_web1.json", "svc_db1.json"}, StitchView::host);
  EXPECT_EQ(find_node(h, "h:web1")->ingress,
            (std::vector<std::string>{"packet any ipv4", "packet eth0 all", "raw icmp"}));
  EXPECT_TRUE(find_node(h, "h:db1")->ingress.empty());
  Graph pid = stitch({"svc_web1.json", "svc_db1.json"}, StitchView::pid);
  EXPECT_EQ(find_node(pid, "p:web1|nginx|100")->ingress,
            (std::vector<std::string>{"packet any ipv4"}));
  // The edges are those of the captures without these sockets.
  EXPECT_EQ(edge_list(p).size(), edge_list(stitch({"web1.json", "db1.json"})).size());
}
