// NatBook: conntrack entries (original and reply tuple) to each socket's translation.
#include "scan/conntrack.h"

#include <gtest/gtest.h>

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
