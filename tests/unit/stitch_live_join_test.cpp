// Follow mode's incremental join (stitch/live_join.h) against a full rebuild of the same
// store, over randomized streams: new flows, flows resent closed, listeners, --window drops.
// Also the fast reader of stream flow lines against the checked one.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "commands/follow.h"
#include "commands/graph_output.h"
#include "format/capture_json.h"
#include "format/capture_reader.h"
#include "format/event_json.h"
#include "stitch/graph_diff.h"
#include "util/time.h"

namespace netviz {
namespace {

constexpr WallNs kT0 = 1'790'000'000'000'000'000;  // 2026-09
constexpr int kHosts = 4;

std::string addr(int h) { return "10.7.0." + std::to_string(h + 1); }

std::string host_line(int h) {
  return R"({"event":"host","netviz":1,"host":{"name":"h)" + std::to_string(h) +
         R"(","netns":[{"inode":)" + std::to_string(h + 1) + R"(,"addresses":[")" + addr(h) + R"("]}]}})";
}

struct SimFlow {
  int host, peer, lport, rport, pid;
  bool outbound, loopback;
  WallNs first;
  std::string comm, proto;
};

std::string flow_line(const SimFlow& f, const char* event, WallNs last, bool closed) {
  last = std::max(last, f.first);
  std::string local = f.loopback ? "127.0.0.1" : addr(f.host);
  std::string remote = f.loopback ? "127.0.0.1" : f.peer < 0 ? "192.0.2.9" : addr(f.peer);
  return std::string(R"({"event":")") + event + R"(","time":")" + format_time(last) +
         R"(","proto":")" + f.proto + R"(","family":"ipv4","local":{"addr":")" + local +
         R"(","port":)" + std::to_string(f.lport) + R"(},"remote":{"addr":")" + remote +
         R"(","port":)" + std::to_string(f.rport) + R"(},"direction":")" +
         (f.outbound ? "outbound" : "inbound") + R"(","pid":)" + std::to_string(f.pid) +
         R"(,"comm":")" + f.comm + R"(","first_seen":")" + format_time(f.first) +
         R"(","last_seen":")" + format_time(last) + "\"" +
         (closed ? R"(,"duration_ms":)" + std::to_string((last - f.first) / 1'000'000) : "") +
         R"(,"bytes_sent":)" + std::to_string(last % 977) + "}";
}

// A client end and, most of the time, the server's end of the same connection; few ports,
// so 5-tuples are reused and ends compete for partners.
std::vector<SimFlow> connection(std::mt19937& rng, WallNs at) {
  auto pick = [&rng](int n) { return static_cast<int>(rng() % n); };
  int h = pick(kHosts), p = pick(kHosts + 1) - 1;  // -1: outside the group
  if (p == h) p = (h + 1) % kHosts;
  bool loop = pick(8) == 0;
  if (loop) p = h;
  SimFlow c{h, p, 40000 + pick(6), 80 + pick(3), 100 + pick(3), true, loop, at,
            "cli" + std::to_string(pick(3)), pick(5) ? "tcp" : "udp"};
  std::vector<SimFlow> v{c};
  if (p >= 0 && pick(4)) {
    SimFlow s{p, h, c.rport, c.lport, 200 + pick(2), false, loop,
              at + static_cast<WallNs>(pick(3)) * 1'000'000, "srv" + std::to_string(pick(2)), c.proto};
    v.push_back(s);
  }
  return v;
}

std::string listen_line(std::mt19937& rng, int h) {
  return R"({"event":"listen","proto":"tcp","family":"ipv4","local":{"addr":"0.0.0.0","port":)" +
         std::to_string(80 + rng() % 3) + R"(},"state":"LISTEN","netns":)" + std::to_string(h + 1) +
         R"(,"pid":7,"comm":"lsn)" + std::to_string(h) + "\"}";
}

// The session's graph must be the one a full rebuild of its store gives.
void expect_same_as_full(FollowSession& s, const StitchOptions& o, int round) {
  Graph full = s.build(graph_options(o));
  const Graph& live = s.graph();
  EXPECT_TRUE(diff_graphs(full, live).empty()) << "round " << round;
  ASSERT_EQ(live.edges.size(), full.edges.size()) << "round " << round;
  auto fields = [](const GraphEdge& e) {
    return std::tie(e.from, e.to, e.proto, e.port, e.joined, e.flows, e.open, e.bytes, e.first, e.last);
  };
  for (size_t i = 0; i < live.edges.size(); ++i)
    EXPECT_EQ(fields(live.edges[i]), fields(full.edges[i])) << "round " << round << " edge " << i;
  EXPECT_EQ(live.nodes, full.nodes) << "round " << round;
  const JoinStats &a = live.stats, &b = full.stats;
  EXPECT_EQ(std::tie(a.ends, a.both, a.one_side, a.listener, a.external, a.ambiguous, a.no_remote, a.failed),
            std::tie(b.ends, b.both, b.one_side, b.listener, b.external, b.ambiguous, b.no_remote, b.failed))
      << "round " << round;
}

void run_random(StitchView view, unsigned seed) {
  StitchOptions o;
  o.view = view;
  o.external = true;
  o.listeners = seed % 2;
  std::stringstream out;
  FollowSession s(o, out);
  std::mt19937 rng(seed);
  std::vector<size_t> inputs;
  for (int h = 0; h < kHosts; ++h) inputs.push_back(s.add_input("h" + std::to_string(h)));
  std::vector<SimFlow> open;
  WallNs now = kT0;
  int hosts_up = 1;
  s.feed_stream_line(inputs[0], host_line(0));
  for (int round = 0; round < 60; ++round) {
    if (hosts_up < kHosts && rng() % 6 == 0) {  // a host appears: one-sided joins change
      s.feed_stream_line(inputs[hosts_up], host_line(hosts_up));
      ++hosts_up;
    }
    for (int k = 0, n = 1 + static_cast<int>(rng() % 40); k < n; ++k) {
      now += static_cast<WallNs>(rng() % 400) * 1'000'000;
      unsigned what = rng() % 10;
      if (what < 5) {
        for (const SimFlow& f : connection(rng, now)) {
          if (f.host >= hosts_up) continue;
          s.feed_stream_line(inputs[f.host], flow_line(f, f.outbound ? "connect" : "accept", now, false));
          open.push_back(f);
        }
      } else if (what < 9 && !open.empty()) {  // an earlier flow again: updated or closed
        size_t i = rng() % open.size();
        bool closed = rng() % 2;
        s.feed_stream_line(inputs[open[i].host], flow_line(open[i], closed ? "close" : "update", now, closed));
        if (closed) open.erase(open.begin() + static_cast<long>(i));
      } else {
        int h = static_cast<int>(rng() % hosts_up);
        s.feed_stream_line(inputs[h], listen_line(rng, h));
      }
    }
    if (rng() % 5 == 0) s.drop_ended_before(now - static_cast<WallNs>(rng() % 4000) * 1'000'000);
    s.tick();
    expect_same_as_full(s, o, round);
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_GT(s.graph().edges.size(), 5u);
  EXPECT_GT(s.graph().stats.both, 0u);
}

TEST(StitchLiveJoin, SameAsFullRebuildOverRandomStreams) {
  for (unsigned seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    run_random(StitchView::process, seed);
  }
}

TEST(StitchLiveJoin, SameAsFullRebuildInEveryView) {
  for (StitchView v : {StitchView::pid, StitchView::endpoint, StitchView::host, StitchView::service}) {
    SCOPED_TRACE("view " + std::to_string(static_cast<int>(v)));
    run_random(v, 100 + static_cast<unsigned>(v));
  }
}

TEST(StitchLiveJoin, FastFlowLineReadsAsTheCheckedReader) {
  std::mt19937 rng(7);
  for (int i = 0; i < 200; ++i) {
    for (const SimFlow& f : connection(rng, kT0 + i * 1'000'000)) {
      std::string line = flow_line(f, "close", kT0 + i * 2'000'000, i % 2);
      Flow fast;
      ASSERT_TRUE(read_flow_line_fast(line, fast)) << line;
      StreamLine checked = parse_stream_line(line, "t", 1);
      EXPECT_EQ(to_json(fast).dump(), to_json(checked.flow).dump()) << line;
    }
  }
  Flow f;
  EXPECT_FALSE(read_flow_line_fast(listen_line(rng, 0), f));  // not a flow event
  EXPECT_FALSE(read_flow_line_fast(host_line(0), f));
  EXPECT_FALSE(read_flow_line_fast(R"({"event":"connect","time":"yesterday","proto":"tcp"})", f));
  SimFlow sf{0, 1, 1, 2, 3, true, false, kT0, "a\\u0041", "tcp"};  // an escape: the checked path's
  EXPECT_FALSE(read_flow_line_fast(flow_line(sf, "connect", kT0, false), f));
  EXPECT_FALSE(read_flow_line_fast(flow_line(sf, "connect", kT0, false) + " x", f));
}

}  // namespace
}  // namespace netviz
