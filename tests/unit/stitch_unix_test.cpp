// Unix connections in the graph: one edge per pair of processes inside its host, labelled
// with the path; no edge for a process paired with itself; paths escaped in JSON and DOT.
#include <gtest/gtest.h>
#include <unistd.h>

#include <sstream>

#include "stitch/graph_sinks.h"
#include "stitch_test_util.h"

using namespace netviz;
using namespace stitch_test;

namespace {

// A capture of host NAME whose flows are unix flows client pid → peer pid on PATH (JSON text).
std::string unix_capture(const std::string& name, const std::vector<std::string>& flows) {
  std::string s = "{\"netviz\": 1, \"host\": {\"name\": \"" + name +
                  "\", \"netns\": [{\"inode\": 1, \"name\": \"\", \"addresses\": []}]}, "
                  "\"sockets\": [], \"flows\": [";
  for (size_t i = 0; i < flows.size(); ++i) s += (i ? ", " : "") + flows[i];
  return s + "], \"stats\": {}}";
}

std::string unix_flow(int pid, const std::string& comm, int peer, const std::string& peer_comm,
                      const std::string& path_json) {
  return "{\"proto\": \"unix\", \"family\": \"unix\", \"local\": {\"addr\": \"\", \"port\": 0}, "
         "\"remote\": {\"addr\": " + path_json + ", \"port\": 0}, \"direction\": \"outbound\", "
         "\"pid\": " + std::to_string(pid) + ", \"comm\": \"" + comm + "\", \"netns\": 1, "
         "\"first_seen\": \"2026-11-21T10:00:00Z\", \"last_seen\": \"2026-11-21T10:00:01Z\", "
         "\"duration_ms\": 1000, \"attribution\": \"connect\", \"peer\": {\"pid\": " +
         std::to_string(peer) + ", \"comm\": \"" + peer_comm + "\"}}";
}

std::string temp_file(const std::string& tag, const std::string& text) {
  std::string path = ::testing::TempDir() + "nv_unix_" + tag + "_" + std::to_string(getpid()) + ".json";
  write_file(path, text);
  return path;
}

}  // namespace

TEST(StitchUnix, OneEdgePerPairInsideItsHost) {
  // The same path on two hosts: two edges, each inside its host, never across.
  std::string a = temp_file("a", unix_capture("h1", {unix_flow(10, "psql", 20, "postgres", "\"/run/pg.sock\""),
                                                      unix_flow(11, "psql", 20, "postgres", "\"/run/pg.sock\"")}));
  std::string b = temp_file("b", unix_capture("h2", {unix_flow(30, "psql", 40, "postgres", "\"/run/pg.sock\"")}));
  Graph g = stitch({a, b});
  const GraphEdge* e1 = find_edge(g, "p:h1|psql", "p:h1|postgres");
  const GraphEdge* e2 = find_edge(g, "p:h2|psql", "p:h2|postgres");
  ASSERT_NE(e1, nullptr);
  ASSERT_NE(e2, nullptr);
  EXPECT_EQ(e1->flows, 2u);
  EXPECT_EQ(e1->path, "/run/pg.sock");
  EXPECT_EQ(e1->proto, "unix");
  EXPECT_EQ(e1->joined, "both");
  EXPECT_EQ(e2->flows, 1u);
  EXPECT_EQ(g.edges.size(), 2u);
  EXPECT_EQ(g.stats.unix_pairs, 3u);
  Graph pids = stitch({a}, StitchView::pid);
  EXPECT_EQ(pids.edges.size(), 2u);  // each psql to the one postgres
}

TEST(StitchUnix, SameProcessAtBothEndsIsNoEdge) {
  std::string a = temp_file("self", unix_capture("h1", {unix_flow(10, "socat", 10, "socat", "\"@x\""),
                                                         unix_flow(10, "socat", 11, "socat", "\"@x\"")}));
  Graph g = stitch({a}, StitchView::pid);
  ASSERT_EQ(g.edges.size(), 1u);
  EXPECT_EQ(g.edges[0].from, "p:h1|socat|10");
  EXPECT_EQ(g.edges[0].to, "p:h1|socat|11");
  EXPECT_EQ(g.edges[0].path, "@x");
}

TEST(StitchUnix, PathsEscapedInJsonAndDot) {
  // A newline, a quote, a backslash and a byte that is not UTF-8 (a path is any bytes), put
  // in the store directly: a capture document already holds valid UTF-8.
  FlowStore store;
  HostInfo h;
  h.name = "h1";
  FlowStore::Scope scope(store, h);
  Flow f;
  f.proto = Proto::unix;
  f.family = Family::unix;
  f.remote = Endpoint{"/tmp/a\n\"b\\c\xff.sock", 0};
  f.direction = Direction::outbound;
  f.pid = 10;
  f.comm = "cli";
  f.peer = Owner{20, "srv", -1};
  scope.add_flow(f);
  Graph g = build_graph(store, GraphOptions{});
  ASSERT_EQ(g.edges.size(), 1u);
  std::ostringstream json, dot;
  write_graph_json(json, g);
  write_dot(dot, g, StitchView::process);
  EXPECT_NE(json.str().find("\"path\":\"/tmp/a\\n\\\"b\\\\c\xef\xbf\xbd.sock\""), std::string::npos)
      << json.str();
  // DOT shows control and invalid bytes as \xNN, written with an escaped backslash.
  EXPECT_NE(dot.str().find(R"(label="unix /tmp/a\\x0a\"b\\c\\xff.sock\n1 flow)"), std::string::npos)
      << dot.str();
  EXPECT_EQ(dot.str().find('\xff'), std::string::npos);
  EXPECT_EQ(dot.str().find("a\n"), std::string::npos);
}
