#include "trace/closed_flows.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace netviz {
namespace {

void expect_same(const Flow& a, const Flow& b, size_t i) {
  EXPECT_EQ(a.proto, b.proto) << i;
  EXPECT_EQ(a.family, b.family) << i;
  EXPECT_EQ(a.local, b.local) << i;
  EXPECT_EQ(a.remote, b.remote) << i;
  EXPECT_EQ(a.direction, b.direction) << i;
  EXPECT_EQ(a.pid, b.pid) << i;
  EXPECT_EQ(a.comm, b.comm) << i;
  EXPECT_EQ(a.service, b.service) << i;
  EXPECT_EQ(a.netns, b.netns) << i;
  EXPECT_EQ(a.first_seen, b.first_seen) << i;
  EXPECT_EQ(a.last_seen, b.last_seen) << i;
  EXPECT_EQ(a.duration_ns, b.duration_ns) << i;
  EXPECT_EQ(a.bytes_sent, b.bytes_sent) << i;
  EXPECT_EQ(a.bytes_received, b.bytes_received) << i;
  EXPECT_EQ(a.connect_latency_ns, b.connect_latency_ns) << i;
  EXPECT_EQ(a.packets, b.packets) << i;
  EXPECT_EQ(a.attribution, b.attribution) << i;
  EXPECT_EQ(a.state, b.state) << i;
  EXPECT_EQ(a.handed_from, b.handed_from) << i;
}

// Flows that differ in every field, with texts repeated and not (more distinct values per
// field than the recent-id cache holds), optional fields set and unset, long and empty texts.
std::vector<Flow> sample_flows(size_t n) {
  std::vector<Flow> out;
  const char* comms[] = {"nv_peer", "", "a-command-name!", "\xc3\xa9t\xc3\xa9", "x", "nginx"};
  for (size_t i = 0; i < n; ++i) {
    Flow f;
    f.proto = i % 3 ? Proto::tcp : Proto::udp;
    f.family = i % 2 ? Family::ipv4 : Family::ipv6;
    f.local = {i % 2 ? "127.0.0.1" : "2001:db8:ffff:ffff:ffff:ffff:ffff:" + std::to_string(i),
               static_cast<uint32_t>(i * 7 % 65536)};
    if (i % 5 != 4) f.remote = Endpoint{"10.0." + std::to_string(i % 9) + ".1", static_cast<uint32_t>(80 + i % 4)};
    f.direction = i % 4 ? Direction::outbound : (i % 8 ? Direction::inbound : Direction::none);
    f.pid = static_cast<int32_t>(1000 + i % 11);
    f.comm = comms[i % 6];
    if (i % 3 == 1) f.service = "svc-" + std::to_string(i % 10) + ".service";
    f.netns = 4026531840ULL + i % 3;
    f.first_seen = 1'700'000'000'000'000'000LL + static_cast<int64_t>(i) * 1000;
    f.last_seen = f.first_seen + static_cast<int64_t>(i);
    if (i % 3 != 2) f.duration_ns = static_cast<int64_t>(i);  // 0 included
    f.bytes_sent = i * 1'000'003ULL;
    f.bytes_received = ~0ULL - i;
    if (i % 4 == 1) f.connect_latency_ns = static_cast<int64_t>(i) * 13;
    f.packets = i % 7;
    const Attribution attrs[] = {Attribution::connect, Attribution::accept, Attribution::listener,
                                 Attribution::scan,    Attribution::udp_send, Attribution::unknown};
    f.attribution = attrs[i % 6];
    const SockState states[] = {SockState::closed, SockState::failed, SockState::established,
                               SockState::none};
    f.state = states[i % 4];
    if (i % 6 == 5) f.handed_from = Owner{static_cast<int32_t>(900 + i % 13), comms[(i + 1) % 6], -1};
    out.push_back(f);
  }
  return out;
}

TEST(ClosedFlows, GivesBackEveryFieldOfEveryFlowInOrder) {
  ClosedFlows c;
  auto in = sample_flows(500);
  for (const auto& f : in) c.push_back(f);
  EXPECT_EQ(c.size(), in.size());
  size_t i = 0;
  c.for_each([&](const Flow& f) {
    ASSERT_LT(i, in.size());
    expect_same(f, in[i], i);
    ++i;
  });
  EXPECT_EQ(i, in.size());
}

TEST(ClosedFlows, ClearForgetsFlowsAndTextsAndStartsAgain) {
  ClosedFlows c;
  for (const auto& f : sample_flows(50)) c.push_back(f);
  c.clear();
  EXPECT_EQ(c.size(), 0u);
  int n = 0;
  c.for_each([&](const Flow&) { ++n; });
  EXPECT_EQ(n, 0);
  auto again = sample_flows(7);
  for (size_t i = 3; i < again.size(); ++i) c.push_back(again[i]);  // other texts first
  size_t i = 3;
  c.for_each([&](const Flow& f) {
    expect_same(f, again[i], i);
    ++i;
  });
  EXPECT_EQ(i, again.size());
}

}  // namespace
}  // namespace netviz
