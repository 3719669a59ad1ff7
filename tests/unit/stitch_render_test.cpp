// Pictures drawn by the graphviz library: the SVG holds the same nodes and edges as the
// JSON graph, plus a legend marked as such.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

#include "stitch/graph_sinks.h"
#include "stitch/render_dot.h"
#include "stitch/render_graph.h"
#include "stitch_test_util.h"
#include "util/error.h"

using namespace netviz;
using stitch_test::stitch;

namespace {

std::string xml_unescape(std::string s) {
  static const std::pair<const char*, const char*> ents[] = {
      {"&#45;", "-"}, {"&gt;", ">"}, {"&lt;", "<"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}};
  for (const auto& [from, to] : ents)
    for (size_t p; (p = s.find(from)) != std::string::npos;) s.replace(p, strlen(from), to);
  return s;
}

// Titles of the SVG's <g class="KIND"> groups, legend left out.
std::multiset<std::string> svg_titles(const std::string& svg, const std::string& kind) {
  std::multiset<std::string> out;
  std::regex re("<g id=\"[^\"]*\" class=\"" + kind + "\">\\s*<title>([^<]*)</title>");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator(); ++it)
    out.insert(xml_unescape((*it)[1]));
  return out;
}

}  // namespace

TEST(StitchRender, SvgHasTheJsonGraphsNodesAndEdges) {
  for (StitchView v : {StitchView::process, StitchView::pid, StitchView::endpoint, StitchView::host}) {
    Graph g = stitch({"web1.json", "db1.json"}, v, true, true);
    std::stringstream js;
    write_graph_json(js, g);
    auto j = nlohmann::json::parse(js.str());
    std::multiset<std::string> nodes, edges;
    for (const auto& n : j["nodes"]) nodes.insert(n["id"].get<std::string>());
    for (const auto& e : j["edges"])
      edges.insert(e["from"].get<std::string>() + "->" + e["to"].get<std::string>());
    ASSERT_FALSE(edges.empty());
    std::string svg = render_graph(g, v, RenderLayout::dot, "svg");
    EXPECT_EQ(svg_titles(svg, "node"), nodes) << "view " << int(v);
    EXPECT_EQ(svg_titles(svg, "edge"), edges) << "view " << int(v);
    // The legend is there (the graph has dashed and dotted edges) and marked.
    EXPECT_NE(svg.find("class=\"node legend\""), std::string::npos);
    EXPECT_NE(svg.find("seen from one side only"), std::string::npos);
  }
}

TEST(StitchRender, ShortLabelsTooltipsAndClusters) {
  Graph g = stitch({"web1.json", "db1.json"});
  const GraphEdge* e = stitch_test::find_edge(g, "p:web1|nginx", "p:db1|postgres");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(short_edge_label(*e), "tcp/5432 \u00d72 1.0 kB");
  std::string svg = render_graph(g, StitchView::process, RenderLayout::dot, "svg");
  EXPECT_NE(svg.find("tcp/5432 ×2 1.0 kB"), std::string::npos);
  EXPECT_NE(svg.find("<title>cluster_0</title>"), std::string::npos);
  // A tooltip carries the details, lines kept apart.
  EXPECT_NE(svg.find("joined: both&#10;2 flows"), std::string::npos) << svg.substr(0, 3000);
}

TEST(StitchRender, HostileNamesAreTextInSvg) {
  std::string path = ::testing::TempDir() + "/render-hostile.json";
  stitch_test::write_file(path, R"({"netviz": 1, "host": {"name": "h1", "netns": [{"inode": 1, "addresses": ["10.5.0.1"]}]},
      "flows": [
       {"proto": "tcp", "family": "ipv4", "local": {"addr": "10.5.0.1", "port": 1000}, "remote": {"addr": "10.5.0.1", "port": 2000}, "direction": "outbound", "pid": 1, "comm": "<img src=x onerror=alert(1)>", "netns": 1},
       {"proto": "tcp", "family": "ipv4", "local": {"addr": "10.5.0.1", "port": 2000}, "remote": {"addr": "10.5.0.1", "port": 1000}, "direction": "inbound", "pid": 2, "comm": "a\"b\\c&", "netns": 1}
      ]})");
  for (RenderLayout l : {RenderLayout::dot, RenderLayout::fdp, RenderLayout::sfdp, RenderLayout::neato}) {
    std::string svg = render_graph(stitch({path}), StitchView::process, l, "svg");
    EXPECT_EQ(svg.find("<img"), std::string::npos);
    EXPECT_NE(svg.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
  }
  std::remove(path.c_str());
}

TEST(StitchRender, PngPdfAndBadNames) {
  Graph g = stitch({"web1.json"});
  EXPECT_EQ(render_graph(g, StitchView::process, RenderLayout::dot, "png").substr(1, 3), "PNG");
  EXPECT_EQ(render_graph(g, StitchView::process, RenderLayout::dot, "pdf").substr(0, 5), "%PDF-");
  EXPECT_THROW(render_graph(g, StitchView::process, RenderLayout::dot, "gif"), Error);
  EXPECT_THROW(parse_layout("circo"), Error);
  EXPECT_EQ(parse_layout("sfdp"), RenderLayout::sfdp);
}

TEST(StitchRender, ClusterGraphsThatCrashGraphvizFreeAndTimeouts) {
  // graphviz 2.43's dot layout double-frees this graph when it is freed (the renderer's
  // child never frees).
  Graph g = stitch_test::ten_host_graph("render-crash");
  std::string svg = render_graph(g, StitchView::process, RenderLayout::dot, "svg");
  EXPECT_EQ(svg_titles(svg, "node").size(), g.nodes.size());
  // A deadline too short for any layout: said so, and the child is gone (no zombie left).
  EXPECT_THROW(render_graph(g, StitchView::process, RenderLayout::dot, "svg", 0.001), RenderTimeout);
}
