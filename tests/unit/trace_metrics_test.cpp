// netviz-trace --metrics: the text the tracer's registry writes, and the address option.
#include <gtest/gtest.h>

#include "trace/trace_metrics.h"
#include "util/error.h"
#include "util/listen_address.h"

using namespace netviz;

namespace {

Flow flow(const std::string& comm, const std::string& remote, Proto proto = Proto::tcp) {
  Flow f;
  f.proto = proto;
  f.comm = comm;
  f.local = {"127.0.0.1", 40000};
  if (!remote.empty()) f.remote = Endpoint{remote, 80};
  return f;
}

bool has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST(TraceMetrics, FlowsByCommRemoteProtoAndRunCounters) {
  TraceMetrics m(100);
  m.flow(flow("curl", "10.0.0.1"));
  m.flow(flow("curl", "10.0.0.1"));
  m.flow(flow("curl", "10.0.0.2"));
  m.flow(flow("dig", "10.0.0.53", Proto::udp));
  m.flow(flow("nc", ""));
  Stats st;
  st.counters = {{"events", 40},       {"flows_traced", 5}, {"missed_hook_runs", 2},
                 {"lost_kernel", 3},   {"lost_user", 1},    {"lost_transport", 0}};
  m.update(st);
  m.ring_batch(30);
  m.ring_batch(10);
  m.live_flows(4);
  m.ring_use(4096, 96, 480);
  std::string t = m.text();
  EXPECT_TRUE(has(t, "netviz_trace_flows_total{comm=\"curl\",proto=\"tcp\",remote=\"10.0.0.1\"} 2")) << t;
  EXPECT_TRUE(has(t, "netviz_trace_flows_total{comm=\"curl\",proto=\"tcp\",remote=\"10.0.0.2\"} 1"));
  EXPECT_TRUE(has(t, "netviz_trace_flows_total{comm=\"dig\",proto=\"udp\",remote=\"10.0.0.53\"} 1"));
  EXPECT_TRUE(has(t, "netviz_trace_flows_total{comm=\"nc\",proto=\"tcp\",remote=\"\"} 1"));
  EXPECT_TRUE(has(t, "netviz_trace_flow_series 4"));
  EXPECT_TRUE(has(t, "netviz_trace_events_total 40"));
  EXPECT_TRUE(has(t, "netviz_trace_flows_traced_total 5"));
  EXPECT_TRUE(has(t, "netviz_trace_hook_runs_skipped_total 2"));
  EXPECT_TRUE(has(t, "netviz_trace_lost_events_total{where=\"kernel\"} 3"));
  EXPECT_TRUE(has(t, "netviz_trace_lost_events_total{where=\"user\"} 1"));
  EXPECT_TRUE(has(t, "netviz_trace_lost_events_total{where=\"transport\"} 0"));
  EXPECT_TRUE(has(t, "netviz_trace_ring_buffer_records_total 40"));
  EXPECT_TRUE(has(t, "netviz_trace_ring_buffer_batch_records 10"));
  EXPECT_TRUE(has(t, "netviz_trace_live_flows 4"));
  EXPECT_TRUE(has(t, "netviz_trace_ring_buffer_size_bytes 4096"));
  EXPECT_TRUE(has(t, "netviz_trace_ring_buffer_used_bytes 96"));
  EXPECT_TRUE(has(t, "netviz_trace_ring_buffer_peak_used_bytes 480"));
  EXPECT_TRUE(has(t, "netviz_trace_metrics_series_cut_total 0"));
  EXPECT_NE(t.find("# TYPE netviz_trace_flows_total counter"), std::string::npos);

  // The session hands the run's totals each time: the same totals add nothing, higher ones
  // raise the counters to them.
  m.update(st);
  st.counters["events"] = 45;
  m.update(st);
  t = m.text();
  EXPECT_TRUE(has(t, "netviz_trace_events_total 45")) << t;
  EXPECT_TRUE(has(t, "netviz_trace_lost_events_total{where=\"kernel\"} 3"));
}

TEST(TraceMetrics, MaxSeriesCutsAndCounts) {
  TraceMetrics m(2);
  m.flow(flow("a", "10.0.0.1"));
  m.flow(flow("b", "10.0.0.1"));
  m.flow(flow("c", "10.0.0.1"));  // a third label set: cut
  m.flow(flow("c", "10.0.0.1"));
  m.flow(flow("a", "10.0.0.1"));  // known label sets go on counting
  std::string t = m.text();
  EXPECT_TRUE(has(t, "netviz_trace_flows_total{comm=\"a\",proto=\"tcp\",remote=\"10.0.0.1\"} 2")) << t;
  EXPECT_EQ(t.find("comm=\"c\""), std::string::npos);
  EXPECT_TRUE(has(t, "netviz_trace_metrics_series_cut_total 2"));
  EXPECT_TRUE(has(t, "netviz_trace_flow_series 2"));
}

TEST(TraceMetrics, HostileCommEscaped) {
  TraceMetrics m(10);
  m.flow(flow("a\"b\\c\nd", "10.0.0.1"));
  EXPECT_NE(m.text().find("comm=\"a\\\"b\\\\c\\nd\""), std::string::npos) << m.text();
}

TEST(ListenAddress, PortsAndAddresses) {
  auto a = parse_listen_address("--metrics", "9101");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 9101);
  a = parse_listen_address("--metrics", "0.0.0.0:80");
  EXPECT_EQ(a.host, "0.0.0.0");
  EXPECT_EQ(a.port, 80);
  a = parse_listen_address("--metrics", "[::1]:9101");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.port, 9101);
  for (const char* bad : {"", "x", ":0", "1:2:3", "127.0.0.1:65536", "[::1]9101", "127.0.0.1:9x"}) {
    try {
      parse_listen_address("--metrics", bad);
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("--metrics: ", 0), 0u) << e.what();
    }
  }
}
