#pragma once
// /metrics: the stitched graph as Prometheus counters and gauges, kept in a prometheus-cpp
// registry and written in its text exposition format.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "stitch/graph.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
template <typename T>
class Family;
}  // namespace prometheus

namespace netviz {

class GraphMetrics {
 public:
  explicit GraphMetrics(size_t max_series);
  ~GraphMetrics();
  // Brings the counters up to the graph (process view): flows and bytes per edge, summed
  // over the label set. `now` is the wall time the input lag is measured against.
  void update(const Graph& g, WallNs now);
  std::string text() const;

 private:
  using Key = std::tuple<std::string, std::string, std::string, std::string, std::string,
                         std::string>;  // src_host, src_comm, dst_host, dst_comm, proto, port
  struct Series {
    prometheus::Counter* flows;
    prometheus::Counter* bytes;
  };
  size_t max_series_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* flows_;
  prometheus::Family<prometheus::Counter>* bytes_;
  prometheus::Family<prometheus::Counter>* lost_;
  prometheus::Counter* cut_;
  prometheus::Gauge *hosts_, *nodes_, *edges_, *lag_, *series_;
  std::map<Key, Series> series_map_;
  std::map<Key, std::pair<uint64_t, uint64_t>> cut_seen_;  // left out: counted once each
};

}  // namespace netviz
