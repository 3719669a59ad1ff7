#include <gtest/gtest.h>

#include <sstream>

#include "format/event_json.h"
#include "../support/json_tree.h"
#include "scan/scan.h"
#include "sinks/capture_document.h"
#include "sinks/event_jsonl.h"
#include "sinks/event_table.h"
#include "trace/flow_capture.h"
#include "trace/live_table.h"

using namespace netviz;

namespace {

Flow sample_flow() {
  Flow f;
  f.proto = Proto::tcp;
  f.family = Family::ipv6;
  f.local = {"::1", 40000};
  f.remote = Endpoint{"::1", 80};
  f.direction = Direction::outbound;
  f.pid = 10;
  f.comm = "curl";
  f.netns = 4026531840u;
  f.first_seen = 1'700'000'000'000'000'000;
  f.last_seen = f.first_seen + 2'000'000;
  f.duration_ns = 2'000'000;
  f.bytes_sent = 5;
  f.connect_latency_ns = 1500;
  f.attribution = Attribution::connect;
  f.state = SockState::closed;
  return f;
}

}  // namespace

TEST(EventJsonSink, StreamReadsBackWithTheStitcherParser) {
  std::stringstream out;
  EventJsonSink sink(out);
  HostInfo h;
  h.name = "web1";
  h.scope_netns = 7;
  sink.host(h, 1);
  sink.flow("close", sample_flow(), 2);
  TraceEvent l;
  l.kind = EventKind::listen;
  l.proto = Proto::tcp;
  l.family = Family::ipv4;
  l.local = {"0.0.0.0", 80};
  l.pid = 3;
  l.comm = "nginx";
  sink.socket(l);
  TraceEvent ex;
  ex.kind = EventKind::exit;
  ex.pid = 3;
  ex.comm = "nginx";
  ex.exit_code = (2 << 8);
  sink.process(ex);
  Stats st;
  st.lost_events = 4;
  sink.stats(st, 3);
  ASSERT_TRUE(sink.flush());

  std::string line;
  std::vector<std::string> lines;
  while (std::getline(out, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 5u);
  auto host = parse_stream_line(lines[0], "t", 1);
  EXPECT_EQ(host.kind, StreamLine::Kind::host);
  EXPECT_EQ(host.host.name, "web1");
  EXPECT_EQ(*host.host.scope_netns, 7u);
  auto flow = parse_stream_line(lines[1], "t", 2);
  ASSERT_EQ(flow.kind, StreamLine::Kind::flow);
  EXPECT_EQ(flow.event, "close");
  EXPECT_EQ(flow.flow.local, (Endpoint{"::1", 40000}));
  EXPECT_EQ(flow.flow.pid, 10);
  EXPECT_EQ(flow.flow.attribution, Attribution::connect);
  EXPECT_EQ(*flow.flow.duration_ns, 2'000'000);
  auto j = nlohmann::json::parse(lines[2]);
  EXPECT_EQ(j["event"], "listen");
  EXPECT_EQ(j["state"], "LISTEN");
  EXPECT_EQ(j["local"]["port"], 80);
  EXPECT_EQ(j["pid"], 3);
  auto x = nlohmann::json::parse(lines[3]);
  EXPECT_EQ(x["event"], "exit");
  EXPECT_EQ(x["exit_code"], 2);
  auto s = parse_stream_line(lines[4], "t", 5);
  EXPECT_EQ(s.kind, StreamLine::Kind::stats);
  EXPECT_EQ(s.stats.lost_events, 4u);
}

TEST(EventJsonSink, FlushReportsABrokenOutput) {
  std::stringstream out;
  EventJsonSink sink(out);
  out.setstate(std::ios::badbit);
  EXPECT_FALSE(sink.flush());
}

TEST(EventTableSink, OneReadableLinePerEvent) {
  std::stringstream out;
  EventTableSink sink(out);
  HostInfo h;
  h.name = "web1";
  h.kernel = "6.1";
  sink.host(h, 0);
  sink.flow("close", sample_flow(), sample_flow().last_seen);
  std::string all = out.str();
  EXPECT_NE(all.find("# web1 (6.1)"), std::string::npos);
  EXPECT_NE(all.find("TIME(UTC)"), std::string::npos);
  EXPECT_NE(all.find("[::1]:40000"), std::string::npos);
  EXPECT_NE(all.find("[::1]:80"), std::string::npos);
  EXPECT_NE(all.find("curl"), std::string::npos);
  EXPECT_NE(all.find("2.000ms"), std::string::npos);
  EXPECT_NE(all.find("tcp6"), std::string::npos);
  EXPECT_EQ(std::count(all.begin(), all.end(), '\n'), 3);
}

TEST(EventTableSink, ServiceColumn) {
  std::stringstream out;
  EventTableSink sink(out);
  HostInfo h;
  h.name = "web1";
  sink.host(h, 0);
  Flow f = sample_flow();
  sink.flow("close", f, f.last_seen);
  f.service = "nginx.service";
  sink.flow("close", f, f.last_seen);
  std::istringstream lines(out.str());
  std::string head, header, without, with;
  std::getline(lines, head);
  std::getline(lines, header);
  std::getline(lines, without);
  std::getline(lines, with);
  // The SERVICE column starts where the header says; "-" when the owner has none.
  size_t col = header.find("SERVICE");
  ASSERT_NE(col, std::string::npos);
  EXPECT_LT(header.find("COMM"), col);
  EXPECT_EQ(without.substr(col, 2), "- ");
  EXPECT_EQ(with.substr(col, 14), "nginx.service ");
  EXPECT_EQ(header.find("PROTO"), with.find("tcp6"));
}

TEST(FlowCapture, ScanPlusTracedFlowsWithFilter) {
  ScanResult scan;
  scan.host.name = "web1";
  Process p;
  p.pid = 10;
  p.comm = "curl";
  scan.processes.push_back(p);
  Flow sf = sample_flow();
  sf.attribution = Attribution::scan;
  sf.duration_ns.reset();
  sf.state = SockState::established;
  scan.flows.push_back(sf);
  LiveTable t;
  t.seed(scan);
  TraceEvent c;
  c.kind = EventKind::close;
  c.time = 50;
  c.start = 40;
  c.proto = Proto::tcp;
  c.family = Family::ipv4;
  c.local = {"127.0.0.1", 50000};
  c.remote = {"127.0.0.1", 22};
  c.pid = 99;
  c.comm = "ssh";
  c.attribution = Attribution::connect;
  t.apply(c);

  Stats st;
  st.lost_events = 0;
  Capture all = assemble_trace_capture(scan, t, Filter{}, st);
  EXPECT_EQ(all.host.name, "web1");
  EXPECT_EQ(all.flows.size(), 2u);
  Filter only_ssh;
  only_ssh.comms = {"ssh"};
  Capture some = assemble_trace_capture(scan, t, only_ssh, st);
  ASSERT_EQ(some.flows.size(), 1u);
  EXPECT_EQ(some.flows[0].comm, "ssh");
  EXPECT_EQ(*some.flows[0].duration_ns, 10);

  std::stringstream out;
  write_capture_streamed(out, all, true);
  auto back = capture_from_json(nlohmann::json::parse(out.str()), "t");
  EXPECT_EQ(back.flows.size(), 2u);
  EXPECT_EQ(back.processes.size(), 2u);  // curl from the scan, ssh from events
}

TEST(EventJsonSink, HandWrittenFlowLineEqualsTheJsonTree) {
  std::vector<Flow> flows;
  flows.push_back(sample_flow());
  Flow u;
  u.proto = Proto::udp;
  u.family = Family::ipv4;
  u.local = {"0.0.0.0", 5353};
  u.direction = Direction::inbound;
  u.comm = "we\"ird\\ name\x01";
  u.packets = 12;
  u.attribution = Attribution::udp_recv;
  flows.push_back(u);  // no remote, no duration, no state
  Flow odd = sample_flow();
  odd.duration_ns = 1;            // 1e-06 ms
  odd.connect_latency_ns = 123456789;
  odd.comm = "\xc3\xa9t\xc3\xa9";  // UTF-8 passes through escaped the same way
  odd.first_seen = -5;            // before the epoch still formats
  flows.push_back(odd);
  Flow handed = sample_flow();    // a backend forked after accept(): both owners written
  handed.attribution = Attribution::handoff;
  handed.handed_from = Owner{7, "postmaster", -1};
  flows.push_back(handed);
  handed.direction = Direction::inbound;
  flows.push_back(handed);
  Flow served = sample_flow();
  served.service = "container:3f4e5d6c7b8a";
  flows.push_back(served);
  for (const auto& f : flows)
    EXPECT_EQ(flow_line_text("close", f, 1'234'567'890'123'456'789),
              flow_line("close", f, 1'234'567'890'123'456'789).dump());
}

TEST(FlowCapture, StreamedDocumentEqualsTheReferenceWriter) {
  Capture c;
  c.host.name = "web1";
  c.host.netns.push_back({4026531840u, "", {"127.0.0.1", "::1"}});
  Process p;
  p.pid = 10;
  p.comm = "curl";
  p.cmdline = {"curl", "http://x"};
  p.uid = 0;
  c.processes.push_back(p);
  Socket s;
  s.proto = Proto::tcp;
  s.family = Family::ipv4;
  s.local = {"0.0.0.0", 80};
  s.state = SockState::listen;
  s.owners.push_back({10, "curl", 3});
  c.sockets.push_back(s);
  c.flows.push_back(sample_flow());
  Flow u = sample_flow();
  u.proto = Proto::udp;
  u.remote.reset();
  c.flows.push_back(u);
  c.stats.counters["events"] = 5;
  c.stats.notes.push_back("a note");
  // Traced flows carry durations and latencies the snapshot's flows do not: every member
  // must come out as the reference writer's, order included.
  c.flows[0].duration_ns = 1;
  c.flows[0].connect_latency_ns = 123456789;
  for (bool cmdline : {true, false}) {
    std::stringstream a, b;
    write_capture(a, c, cmdline);
    write_capture_streamed(b, c, cmdline);
    EXPECT_EQ(ojson::parse(b.str()), ojson::parse(a.str()));
  }
  Capture empty;
  empty.host.name = "h";
  std::stringstream a, b;
  write_capture(a, empty);
  write_capture_streamed(b, empty, true);
  EXPECT_EQ(ojson::parse(b.str()), ojson::parse(a.str()));
}
