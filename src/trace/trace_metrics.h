#pragma once
// netviz-trace --metrics: the tracer's own counters in a prometheus-cpp registry. The
// session updates them from its loop; the HTTP thread only serialises (prometheus-cpp's
// counters are atomic, its families lock on add and collect).
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "model/capture.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
template <typename T>
class Family;
}  // namespace prometheus

namespace netviz {

class TraceMetrics {
 public:
  explicit TraceMetrics(size_t max_series);
  ~TraceMetrics();
  // A flow the tracer found (after the filters): counted by command, remote address and
  // protocol, up to max_series label sets; the rest counted in the cut counter.
  void flow(const Flow& f);
  // The run's counters as collect_stats reports them (events, flows_traced, lost_kernel,
  // lost_user, lost_transport, missed_hook_runs); counters only rise.
  void update(const Stats& st);
  // Records the last ring buffer poll handed over, and the flows the table holds open.
  void ring_batch(uint64_t records);
  // Ring buffer size and the bytes waiting in it at the last poll and at most so far.
  void ring_use(uint64_t size, uint64_t used, uint64_t peak);
  void live_flows(uint64_t n);
  std::string text() const;

 private:
  using Key = std::tuple<std::string, std::string, Proto>;  // comm, remote, proto
  size_t max_series_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* flows_;
  prometheus::Family<prometheus::Counter>* lost_;
  prometheus::Counter *cut_, *events_, *traced_, *skipped_, *records_;
  prometheus::Counter *lost_kernel_, *lost_user_, *lost_transport_;
  prometheus::Gauge *batch_, *live_, *series_;
  prometheus::Gauge *ring_size_, *ring_used_, *ring_peak_;
  std::map<Key, prometheus::Counter*> series_map_;
};

}  // namespace netviz
