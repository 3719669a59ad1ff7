// The live page's pieces that need no server: URL filters, the --serve address, and the
// Prometheus text of a graph.
#include <gtest/gtest.h>

#include "stitch/graph_filter.h"
#include "stitch_test_util.h"
#include "util/error.h"
#include "web/graph_metrics.h"
#include "util/listen_address.h"
#include "web/serve_command.h"

using namespace netviz;
using stitch_test::stitch;

TEST(GraphFilter, HostsCommsPortsProtos) {
  Graph g = stitch({"web1.json", "db1.json"}, StitchView::process, true, true);
  GraphFilter f;
  add_filter(f, "host", "db1");
  Graph d = filter_graph(g, f);
  ASSERT_FALSE(d.nodes.empty());
  for (const auto& n : d.nodes) EXPECT_EQ(n.host, "db1") << n.id;
  for (const auto& e : d.edges) EXPECT_EQ(e.from.rfind("p:web1", 0), std::string::npos) << e.from;
  EXPECT_EQ(d.hosts, std::vector<std::string>{"db1"});

  GraphFilter c;
  add_filter(c, "comm", "nginx");
  Graph n = filter_graph(g, c);
  ASSERT_EQ(n.edges.size(), 1u);
  EXPECT_EQ(n.edges[0].to, "p:db1|postgres");  // the peer stays, so the edge has two ends
  EXPECT_EQ(n.nodes.size(), 2u);

  GraphFilter p;
  add_filter(p, "port", "6379,443");
  add_filter(p, "proto", "tcp");
  for (const auto& e : filter_graph(g, p).edges) EXPECT_TRUE(e.port == 6379 || e.port == 443);
  EXPECT_EQ(filter_graph(g, p).edges.size(), 2u);
  EXPECT_EQ(filter_graph(g, GraphFilter{}).edges.size(), g.edges.size());

  GraphFilter bad;
  EXPECT_THROW(add_filter(bad, "hots", "a"), Error);
  EXPECT_THROW(add_filter(bad, "port", "70000"), Error);
  EXPECT_THROW(add_filter(bad, "port", "8o"), Error);
  EXPECT_THROW(add_filter(bad, "proto", "sctp"), Error);
}

TEST(ServeAddress, LoopbackUnlessGiven) {
  EXPECT_EQ(parse_listen_address("--serve", "8080").host, "127.0.0.1");
  EXPECT_EQ(parse_listen_address("--serve", ":8080").port, 8080);
  EXPECT_EQ(parse_listen_address("--serve", ":8080").host, "127.0.0.1");
  EXPECT_EQ(parse_listen_address("--serve", "0.0.0.0:81").host, "0.0.0.0");
  EXPECT_EQ(parse_listen_address("--serve", "[::1]:82").host, "::1");
  EXPECT_EQ(parse_listen_address("--serve", "[::1]:82").port, 82);
  for (const char* bad : {"", "x", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536", "::1:80", "[::1]80"})
    EXPECT_THROW(parse_listen_address("--serve", bad), Error) << bad;
}

TEST(GraphMetrics, CountersGaugesAndTheSeriesBound) {
  Graph g = stitch({"web1.json", "db1.json"});
  GraphMetrics m(1000);
  m.update(g, 0);
  std::string t = m.text();
  EXPECT_NE(t.find("# TYPE netviz_edge_flows_total counter"), std::string::npos) << t;
  EXPECT_NE(t.find("netviz_edge_flows_total{dst_comm=\"postgres\",dst_host=\"db1\",port=\"5432\","
                   "proto=\"tcp\",src_comm=\"nginx\",src_host=\"web1\"} 2"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("netviz_edge_bytes_total{dst_comm=\"postgres\",dst_host=\"db1\",port=\"5432\","
                   "proto=\"tcp\",src_comm=\"nginx\",src_host=\"web1\"} 1000"),
            std::string::npos);
  EXPECT_NE(t.find("netviz_nodes " + std::to_string(g.nodes.size())), std::string::npos);
  EXPECT_NE(t.find("netviz_metrics_series_cut_total 0"), std::string::npos);
  EXPECT_NE(t.find("netviz_lost_events_total{host=\"db1\"} 0"), std::string::npos) << t;
  EXPECT_NE(t.find("netviz_lost_events_total{host=\"web1\"} 0"), std::string::npos);
  // Updating again with the same graph adds nothing: counters follow the graph's totals.
  m.update(g, 0);
  EXPECT_EQ(m.text(), t);

  size_t all = 0;
  for (size_t p = 0; (p = t.find("\nnetviz_edge_flows_total{", p)) != std::string::npos; ++p) ++all;
  ASSERT_GT(all, 2u);
  Graph lossy = g;
  lossy.lost_by_host["web1"] = 7;
  GraphMetrics lm(1000);
  lm.update(lossy, 0);
  EXPECT_NE(lm.text().find("netviz_lost_events_total{host=\"web1\"} 7"), std::string::npos);
  GraphMetrics small(2);
  small.update(g, 0);
  small.update(g, 0);
  std::string s = small.text();
  EXPECT_NE(s.find("netviz_edge_series 2"), std::string::npos) << s;
  size_t sums = 0;
  for (size_t p = 0; (p = s.find("\nnetviz_edge_flows_total{", p)) != std::string::npos; ++p) ++sums;
  EXPECT_EQ(sums, 2u);
  // Every label set left out is counted once, however often the graph is scraped.
  EXPECT_EQ(s.find("netviz_metrics_series_cut_total 0"), std::string::npos);
  EXPECT_NE(s.find("netviz_metrics_series_cut_total " + std::to_string(all - 2)),
            std::string::npos)
      << s;
}

TEST(GraphMetrics, LostEventsAreKeptPerCaptureHost) {
  std::string a = ::testing::TempDir() + "/lost-a.jsonl", b = ::testing::TempDir() + "/lost-b.json";
  stitch_test::write_file(a, R"({"event":"host","time":"2026-11-21T10:00:00Z","netviz":1,"host":{"name":"ha","netns":[{"inode":1,"name":"","addresses":["10.9.0.2"]}]}}
{"event":"stats","time":"2026-11-21T10:00:03Z","stats":{"lost_events":5}}
{"event":"stats","time":"2026-11-21T10:00:04Z","stats":{"lost_events":2}}
)");
  stitch_test::write_file(b, R"({"netviz": 1, "host": {"name": "hb"}, "flows": []})");
  Graph g = stitch({a, b});
  EXPECT_EQ(g.lost_events, 7u);
  EXPECT_EQ(g.lost_by_host, (std::map<std::string, uint64_t>{{"ha", 7}}));
  std::remove(a.c_str());
  std::remove(b.c_str());
}
