#include "web/graph_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <unordered_map>

namespace netviz {

GraphMetrics::GraphMetrics(size_t max_series)
    : max_series_(max_series), registry_(std::make_shared<prometheus::Registry>()) {
  using namespace prometheus;
  flows_ = &BuildCounter()
                .Name("netviz_edge_flows_total")
                .Help("Flows between two processes, by host, command, protocol and server port")
                .Register(*registry_);
  bytes_ = &BuildCounter()
                .Name("netviz_edge_bytes_total")
                .Help("Bytes of the flows between two processes (sent plus received)")
                .Register(*registry_);
  lost_ = &BuildCounter()
               .Name("netviz_lost_events_total")
               .Help("Events the tracers reported lost, by capture host")
               .Register(*registry_);
  cut_ = &BuildCounter()
              .Name("netviz_metrics_series_cut_total")
              .Help("Edges left out of the edge counters by --metrics-max-series")
              .Register(*registry_)
              .Add({});
  auto gauge = [&](const char* name, const char* help) {
    return &BuildGauge().Name(name).Help(help).Register(*registry_).Add({});
  };
  hosts_ = gauge("netviz_hosts", "Hosts (capture host and network namespace) in the graph");
  nodes_ = gauge("netviz_nodes", "Nodes of the process view");
  edges_ = gauge("netviz_edges", "Edges of the process view");
  lag_ = gauge("netviz_input_lag_seconds",
               "Seconds between now and the newest flow activity the inputs reported");
  series_ = gauge("netviz_edge_series", "Label sets exported by the edge counters");
}

GraphMetrics::~GraphMetrics() = default;

void GraphMetrics::update(const Graph& g, WallNs now) {
  std::unordered_map<std::string, const GraphNode*> nodes;
  for (const auto& n : g.nodes) nodes[n.id] = &n;
  auto host = [](const GraphNode* n) { return n ? (n->host.empty() ? n->addr : n->host) : ""; };
  auto comm = [](const GraphNode* n) { return n ? n->comm : std::string(); };
  std::map<Key, std::pair<uint64_t, uint64_t>> sums;
  WallNs newest = 0;
  for (const auto& e : g.edges) {
    if (e.joined == "listen") continue;
    const GraphNode* a = nodes.count(e.from) ? nodes[e.from] : nullptr;
    const GraphNode* b = nodes.count(e.to) ? nodes[e.to] : nullptr;
    auto& s = sums[{host(a), comm(a), host(b), comm(b), e.proto, std::to_string(e.port)}];
    s.first += e.flows;
    s.second += e.bytes;
    newest = std::max(newest, e.last);
  }
  for (const auto& [key, sum] : sums) {
    auto it = series_map_.find(key);
    if (it == series_map_.end()) {
      if (series_map_.size() >= max_series_) {
        // Counted once per label set left out, so the counter says how many are missing.
        if (cut_seen_.emplace(key, sum).second) cut_->Increment();
        continue;
      }
      const auto& [sh, sc, dh, dc, proto, port] = key;
      std::map<std::string, std::string> labels{{"src_host", sh}, {"src_comm", sc},
                                                {"dst_host", dh}, {"dst_comm", dc},
                                                {"proto", proto}, {"port", port}};
      it = series_map_.emplace(key, Series{&flows_->Add(labels), &bytes_->Add(labels)}).first;
    }
    // Counters only rise: a graph whose sums shrink (a capture replaced) keeps the old value.
    double df = static_cast<double>(sum.first) - it->second.flows->Value();
    double db = static_cast<double>(sum.second) - it->second.bytes->Value();
    if (df > 0) it->second.flows->Increment(df);
    if (db > 0) it->second.bytes->Increment(db);
  }
  // Every host of the graph has a series (0 when nothing was lost), so an alert on its rate
  // sees the host from the start.
  std::map<std::string, uint64_t> lost;
  for (const auto& h : g.hosts) lost[h.substr(0, h.find('/'))] += 0;
  for (const auto& [h, n] : g.lost_by_host) lost[h] += n;
  for (const auto& [h, n] : lost) {
    auto& c = lost_->Add({{"host", h}});
    double dl = static_cast<double>(n) - c.Value();
    if (dl > 0) c.Increment(dl);
  }
  hosts_->Set(static_cast<double>(g.hosts.size()));
  nodes_->Set(static_cast<double>(g.nodes.size()));
  edges_->Set(static_cast<double>(g.edges.size()));
  series_->Set(static_cast<double>(series_map_.size()));
  lag_->Set(newest && now > newest ? static_cast<double>(now - newest) / 1e9 : 0);
}

std::string GraphMetrics::text() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace netviz
