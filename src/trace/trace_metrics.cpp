#include "trace/trace_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "format/kind_names.h"

namespace netviz {

namespace {

// Raises c to v; a value that went down (cannot happen for the session's counters) is kept.
void raise_to(prometheus::Counter& c, int64_t v) {
  double d = static_cast<double>(v) - c.Value();
  if (d > 0) c.Increment(d);
}

int64_t counter(const Stats& st, const char* name) {
  auto it = st.counters.find(name);
  return it == st.counters.end() ? 0 : it->second;
}

}  // namespace

TraceMetrics::TraceMetrics(size_t max_series)
    : max_series_(max_series), registry_(std::make_shared<prometheus::Registry>()) {
  using namespace prometheus;
  flows_ = &BuildCounter()
                .Name("netviz_trace_flows_total")
                .Help("Flows traced, by command, remote address and protocol")
                .Register(*registry_);
  lost_ = &BuildCounter()
               .Name("netviz_trace_lost_events_total")
               .Help("Events lost: kernel (ring buffer full or hook run skipped), user "
                     "(undecodable or refused), transport (no room in the --publish spool)")
               .Register(*registry_);
  lost_kernel_ = &lost_->Add({{"where", "kernel"}});
  lost_user_ = &lost_->Add({{"where", "user"}});
  lost_transport_ = &lost_->Add({{"where", "transport"}});
  auto single = [&](const char* name, const char* help) {
    return &BuildCounter().Name(name).Help(help).Register(*registry_).Add({});
  };
  auto gauge = [&](const char* name, const char* help) {
    return &BuildGauge().Name(name).Help(help).Register(*registry_).Add({});
  };
  cut_ = single("netviz_trace_metrics_series_cut_total",
                 "Flows left out of netviz_trace_flows_total by --metrics-max-series");
  events_ = single("netviz_trace_events_total", "Events the hooks reported");
  traced_ = single("netviz_trace_flows_traced_total",
                    "Flows the hooks added to the table (before the output filters)");
  skipped_ = single("netviz_trace_hook_runs_skipped_total",
                     "Hook runs the kernel skipped (a program already running on that CPU)");
  records_ = single("netviz_trace_ring_buffer_records_total",
                     "Records read from the ring buffer while tracing");
  batch_ = gauge("netviz_trace_ring_buffer_batch_records",
                 "Records the last ring buffer poll handed over");
  ring_size_ = gauge("netviz_trace_ring_buffer_size_bytes", "Size of the BPF ring buffer");
  ring_used_ = gauge("netviz_trace_ring_buffer_used_bytes",
                     "Bytes waiting in the ring buffer when the reader last woke");
  ring_peak_ = gauge("netviz_trace_ring_buffer_peak_used_bytes",
                     "The most bytes seen waiting in the ring buffer since the start; near the "
                     "size, the kernel is about to drop records");
  live_ = gauge("netviz_trace_live_flows", "Flows the table holds open");
  series_ = gauge("netviz_trace_flow_series", "Label sets exported by netviz_trace_flows_total");
}

TraceMetrics::~TraceMetrics() = default;

void TraceMetrics::flow(const Flow& f) {
  Key key{f.comm, f.remote ? f.remote->addr : "", f.proto};
  auto it = series_map_.find(key);
  if (it == series_map_.end()) {
    if (series_map_.size() >= max_series_) {
      cut_->Increment();
      return;
    }
    auto& c = flows_->Add({{"comm", std::get<0>(key)},
                           {"remote", std::get<1>(key)},
                           {"proto", to_text(std::get<2>(key))}});
    it = series_map_.emplace(std::move(key), &c).first;
    series_->Set(static_cast<double>(series_map_.size()));
  }
  it->second->Increment();
}

void TraceMetrics::update(const Stats& st) {
  raise_to(*events_, counter(st, "events"));
  raise_to(*traced_, counter(st, "flows_traced"));
  raise_to(*skipped_, counter(st, "missed_hook_runs"));
  raise_to(*lost_kernel_, counter(st, "lost_kernel"));
  raise_to(*lost_user_, counter(st, "lost_user"));
  raise_to(*lost_transport_, counter(st, "lost_transport"));
}

void TraceMetrics::ring_batch(uint64_t records) {
  records_->Increment(static_cast<double>(records));
  batch_->Set(static_cast<double>(records));
}

void TraceMetrics::ring_use(uint64_t size, uint64_t used, uint64_t peak) {
  ring_size_->Set(static_cast<double>(size));
  ring_used_->Set(static_cast<double>(used));
  ring_peak_->Set(static_cast<double>(peak));
}

void TraceMetrics::live_flows(uint64_t n) { live_->Set(static_cast<double>(n)); }

std::string TraceMetrics::text() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace netviz
