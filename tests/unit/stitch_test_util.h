#pragma once
// Helpers shared by the stitch unit tests: stitch fixture files into a graph.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "stitch/graph.h"
#include "stitch/input_reader.h"

namespace stitch_test {

inline std::string fixture(const std::string& name) {
  return std::string(NETVIZ_FIXTURES) + "/stitch/" + name;
}

inline netviz::Graph stitch(const std::vector<std::string>& names,
                            netviz::StitchView view = netviz::StitchView::process,
                            bool external = false, bool listeners = false) {
  netviz::FlowStore store;
  std::vector<std::string> paths;
  for (const auto& n : names) paths.push_back(n.find('/') == std::string::npos ? fixture(n) : n);
  netviz::load_inputs(store, paths, 1);
  netviz::GraphOptions o;
  o.view = view;
  o.external = external;
  o.listeners = listeners;
  return netviz::build_graph(store, o);
}

// An input written by the test itself.
inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  ASSERT_TRUE(f.flush()) << path;
}

inline const netviz::GraphEdge* find_edge(const netviz::Graph& g, const std::string& from,
                                          const std::string& to) {
  for (const auto& e : g.edges)
    if (e.from == from && e.to == to) return &e;
  return nullptr;
}

inline const netviz::GraphNode* find_node(const netviz::Graph& g, const std::string& id) {
  for (const auto& n : g.nodes)
    if (n.id == id) return &n;
  return nullptr;
}

// "from -> to proto/port joined xN" for every edge, to compare whole graphs.
inline std::vector<std::string> edge_list(const netviz::Graph& g) {
  std::vector<std::string> out;
  for (const auto& e : g.edges)
    out.push_back(e.from + " -> " + e.to + " " + e.proto + "/" + std::to_string(e.port) + " " +
                  e.joined + " x" + std::to_string(e.flows));
  return out;
}

// Ten hosts of twenty processes, each connecting to another host: a layout that takes dot
// far longer than a millisecond, and that graphviz 2.43's dot double-frees when it frees it.
inline netviz::Graph ten_host_graph(const std::string& tag) {
  std::string dir = ::testing::TempDir();
  std::vector<std::string> paths;
  for (int h = 0; h < 10; ++h) {
    std::string flows;
    auto ip = [](int x) { return "10.7.0." + std::to_string(x + 1); };
    for (int k = 0; k < 20; ++k) {
      int d = (h + 1 + k % 9) % 10, j = (k * 7) % 20, lp = 30000 + k;
      if (!flows.empty()) flows += ",\n";
      flows += R"({"proto": "tcp", "family": "ipv4", "local": {"addr": ")" + ip(h) +
               R"(", "port": )" + std::to_string(lp) + R"(}, "remote": {"addr": ")" + ip(d) +
               R"(", "port": )" + std::to_string(10000 + j) +
               R"(}, "direction": "outbound", "pid": )" + std::to_string(100 + k) +
               R"(, "comm": "svc)" + std::to_string(k) + R"(", "netns": 1})";
    }
    std::string path = dir + "/" + tag + "-" + std::to_string(h) + ".json";
    write_file(path, R"({"netviz": 1, "host": {"name": "h)" + std::to_string(h) +
                         R"(", "netns": [{"inode": 1, "addresses": [")" + ip(h) +
                         R"("]}]}, "flows": [)" + flows + "]}");
    paths.push_back(path);
  }
  netviz::Graph g = stitch(paths);
  for (const auto& p : paths) std::remove(p.c_str());
  return g;
}

}  // namespace stitch_test
