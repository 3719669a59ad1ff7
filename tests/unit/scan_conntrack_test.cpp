// NatBook: conntrack entries (original and reply tuple) to each socket's translation.
#include "scan/conntrack.h"

#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <sys/socket.h>

using namespace netviz;

namespace {

Flow flow(Proto proto, Endpoint local, Endpoint remote, uint64_t netns = 7) {
  Flow f;
  f.proto = proto;
  f.local = std::move(local);
  f.remote = std::move(remote);
  f.netns = netns;
  return f;
}

}  // namespace

TEST(NatBook, DnatGivesTheClientTheRealServerAndTheServerTheVip) {
  NatBook b;
  // The client sent to the VIP; the server answers from its own address.
  b.add(7, 6, {"10.77.0.2", "10.77.0.100", 40000, 6379}, {"10.77.0.1", "10.77.0.2", 6379, 40000});
  Flow cl = flow(Proto::tcp, {"10.77.0.2", 40000}, {"10.77.0.100", 6379});
  b.apply(cl);
  ASSERT_TRUE(cl.nat);
  EXPECT_FALSE(cl.nat->local);
  EXPECT_EQ(cl.nat->remote, (Endpoint{"10.77.0.1", 6379}));
  Flow sv = flow(Proto::tcp, {"10.77.0.1", 6379}, {"10.77.0.2", 40000});
  b.apply(sv);
  ASSERT_TRUE(sv.nat);
  EXPECT_EQ(sv.nat->local, (Endpoint{"10.77.0.100", 6379}));
  EXPECT_FALSE(sv.nat->remote);
}

TEST(NatBook, SnatGivesTheClientItsTranslatedSource) {
  NatBook b;
  b.add(7, 6, {"10.77.0.2", "10.77.0.1", 40000, 6380}, {"10.77.0.1", "10.77.0.3", 6380, 1024});
  Flow cl = flow(Proto::tcp, {"10.77.0.2", 40000}, {"10.77.0.1", 6380});
  b.apply(cl);
  ASSERT_TRUE(cl.nat);
  EXPECT_EQ(cl.nat->local, (Endpoint{"10.77.0.3", 1024}));
  EXPECT_FALSE(cl.nat->remote);
}

TEST(NatBook, OnlyTheSameNamespaceProtocolAndTuple) {
  NatBook b;
  b.add(7, 17, {"10.0.0.2", "10.0.0.100", 5000, 53}, {"10.0.0.1", "10.0.0.2", 53, 5000});
  Flow other_ns = flow(Proto::udp, {"10.0.0.2", 5000}, {"10.0.0.100", 53}, 8);
  Flow tcp = flow(Proto::tcp, {"10.0.0.2", 5000}, {"10.0.0.100", 53});
  Flow other_port = flow(Proto::udp, {"10.0.0.2", 5001}, {"10.0.0.100", 53});
  Flow mapped = flow(Proto::udp, {"::ffff:10.0.0.2", 5000}, {"::ffff:10.0.0.100", 53});
  for (Flow* f : {&other_ns, &tcp, &other_port, &mapped}) b.apply(*f);
  EXPECT_FALSE(other_ns.nat);
  EXPECT_FALSE(tcp.nat);
  EXPECT_FALSE(other_port.nat);
  ASSERT_TRUE(mapped.nat);  // a dual-stack socket's view of the same IPv4 connection
  EXPECT_EQ(mapped.nat->remote, (Endpoint{"10.0.0.1", 53}));
}

TEST(NatBook, UntranslatedEntriesAreNotKept) {
  NatBook b;
  b.add(7, 6, {"10.0.0.2", "10.0.0.1", 40000, 80}, {"10.0.0.1", "10.0.0.2", 80, 40000});
  EXPECT_TRUE(b.empty());
  Flow f = flow(Proto::tcp, {"10.0.0.2", 40000}, {"10.0.0.1", 80});
  b.apply(f);
  EXPECT_FALSE(f.nat);
  EXPECT_TRUE(b.notes().empty());
}

TEST(NatBook, SweepDropsOldTranslationsNoFlowHolds) {
  using namespace std::chrono_literals;
  NatBook b;
  auto t0 = NatBook::Clock::time_point{} + 1h;
  // Two DNATed connections at t0 (two entries each: client and server view), one at t0 + 20 s.
  b.add(7, 6, {"10.0.0.2", "10.0.0.100", 40000, 80}, {"10.0.0.1", "10.0.0.2", 80, 40000}, t0);
  b.add(7, 6, {"10.0.0.2", "10.0.0.100", 40001, 80}, {"10.0.0.1", "10.0.0.2", 80, 40001}, t0);
  b.add(7, 6, {"10.0.0.2", "10.0.0.100", 40002, 80}, {"10.0.0.1", "10.0.0.2", 80, 40002}, t0 + 20s);
  ASSERT_EQ(b.size(), 6u);
  EXPECT_FALSE(b.has_older_than(t0 - 1s));
  EXPECT_TRUE(b.has_older_than(t0));

  // Nothing is old enough yet.
  EXPECT_EQ(b.sweep(t0 + 29s, 30s, 100), 0u);
  EXPECT_EQ(b.size(), 6u);

  // At t0 + 30 s the client of port 40000 still holds its flow: its translation stays, the
  // other old ones go, the young one stays.
  b.keep(flow(Proto::tcp, {"10.0.0.2", 40000}, {"10.0.0.100", 80}));
  EXPECT_EQ(b.sweep(t0 + 30s, 30s, 100), 3u);
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(b.evicted(), 3u);
  Flow held = flow(Proto::tcp, {"10.0.0.2", 40000}, {"10.0.0.100", 80});
  Flow gone = flow(Proto::tcp, {"10.0.0.2", 40001}, {"10.0.0.100", 80});
  Flow young = flow(Proto::tcp, {"10.0.0.2", 40002}, {"10.0.0.100", 80});
  for (Flow* f : {&held, &gone, &young}) b.apply(*f);
  EXPECT_TRUE(held.nat);
  EXPECT_FALSE(gone.nat);
  EXPECT_TRUE(young.nat);

  // A mark lasts one sweep: unheld at the next one, it goes.
  EXPECT_EQ(b.sweep(t0 + 35s, 30s, 100), 1u);
  EXPECT_EQ(b.evicted(), 4u);
  EXPECT_FALSE(b.find(held));
  EXPECT_TRUE(b.find(young));
}

TEST(NatBook, SweepKeepsTheNewestWithinTheBound) {
  using namespace std::chrono_literals;
  NatBook b;
  auto t0 = NatBook::Clock::time_point{} + 1h;
  // SNAT, one connection a second: two entries each (the client's view, and the server's,
  // which knows the client by its translated source).
  for (uint16_t i = 0; i < 10; ++i)
    b.add(7, 6, {"10.0.0.2", "10.0.0.1", uint16_t(40000 + i), 80},
          {"10.0.0.1", "10.0.0.3", 80, uint16_t(1024 + i)}, t0 + i * 1s);
  ASSERT_EQ(b.size(), 20u);
  // All held and young, but over the bound of 8: the six oldest connections' go, held or not.
  for (uint16_t i = 0; i < 10; ++i)
    b.keep(flow(Proto::tcp, {"10.0.0.2", uint16_t(40000 + i)}, {"10.0.0.1", 80}));
  EXPECT_EQ(b.sweep(t0 + 10s, 30s, 8), 12u);
  EXPECT_EQ(b.size(), 8u);
  EXPECT_FALSE(b.find(flow(Proto::tcp, {"10.0.0.2", 40005}, {"10.0.0.1", 80})));
  EXPECT_FALSE(b.find(flow(Proto::tcp, {"10.0.0.1", 80}, {"10.0.0.3", 1029})));
  EXPECT_TRUE(b.find(flow(Proto::tcp, {"10.0.0.2", 40006}, {"10.0.0.1", 80})));
  EXPECT_TRUE(b.find(flow(Proto::tcp, {"10.0.0.1", 80}, {"10.0.0.3", 1030})));
  EXPECT_EQ(b.evicted(), 12u);
}

// A subscription handed over by the NatWatch helper: followed like the scan's, polled
// without blocking; a note said once.
TEST(NatBook, AdoptsASocketMadeElsewhere) {
  NatBook b;
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_NETFILTER);
  ASSERT_GE(fd, 0);
  EXPECT_FALSE(b.follows(5));
  ASSERT_TRUE(b.adopt(5, fd, "netns 5"));
  EXPECT_TRUE(b.follows(5));
  EXPECT_FALSE(b.follows(6));
  EXPECT_EQ(b.followed_netns(), (std::vector<uint64_t>{5}));
  b.poll();  // nothing queued: returns at once
  EXPECT_TRUE(b.empty());
  b.note("netns 5: NAT rules appeared at T; followed from then on");
  auto notes = b.notes();
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0], "netns 5: NAT rules appeared at T; followed from then on");
}
