// NatWatch: the helper's message lines and which namespaces a re-check enters.
#include "scan/nat_watch.h"

#include <gtest/gtest.h>

using namespace netviz;

TEST(NatWatchLine, EntryRoundTrips) {
  WatchLine e;
  e.kind = 'E';
  e.netns = 4026532001;
  e.l4 = 6;
  e.orig = {"10.77.0.2", "10.77.0.100", 40000, 6379};
  e.reply = {"fd00::1", "10.77.0.2", 6379, 40000};
  auto back = parse_watch_line(watch_line(e));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->kind, 'E');
  EXPECT_EQ(back->netns, e.netns);
  EXPECT_EQ(back->l4, 6);
  EXPECT_EQ(back->orig.src, "10.77.0.2");
  EXPECT_EQ(back->orig.dst, "10.77.0.100");
  EXPECT_EQ(back->orig.sport, 40000);
  EXPECT_EQ(back->orig.dport, 6379);
  EXPECT_EQ(back->reply.src, "fd00::1");
  EXPECT_EQ(back->reply.dport, 40000);
}

TEST(NatWatchLine, FollowedAndFailedRoundTrip) {
  WatchLine f;
  f.kind = 'F';
  f.netns = 9;
  f.fresh = true;
  f.at = 1'780'000'000'123'456'789;
  f.label = "netns 9 (web app)";
  auto back = parse_watch_line(watch_line(f));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->kind, 'F');
  EXPECT_TRUE(back->fresh);
  EXPECT_EQ(back->at, f.at);
  EXPECT_EQ(back->label, "netns 9 (web app)");

  WatchLine x;
  x.kind = 'X';
  x.netns = 9;
  x.reason = "Operation not permitted";
  x.label = "netns 9";
  back = parse_watch_line(watch_line(x));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->reason, "Operation not permitted");
  EXPECT_EQ(back->label, "netns 9");
}

TEST(NatWatchLine, TabsInALabelDoNotShiftFields) {
  WatchLine f;
  f.kind = 'F';
  f.netns = 9;
  f.label = "netns 9 (a\tb)";
  auto back = parse_watch_line(watch_line(f));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->label, "?");
}

TEST(NatWatchLine, MalformedLinesAreRefused) {
  for (const char* bad : {"", "E", "E\t1", "Q\t1\tx", "F\tx\t0\t1\tl", "F\t1\t2\t1\tl",
                          "X\t1\tonly-reason", "E\t1\t6\ta\tb\t1\t2\tc\td\t3",
                          "E\t1\t300\ta\tb\t1\t2\tc\td\t3\t4", "E\t1\t6\ta\tb\t70000\t2\tc\td\t3\t4",
                          "EE\t1\t6\ta\tb\t1\t2\tc\td\t3\t4"})
    EXPECT_FALSE(parse_watch_line(bad)) << bad;
}

TEST(NatWatch, ChecksOnlyNamespacesNotFollowedYet) {
  std::set<uint64_t> done{1, 3};
  EXPECT_EQ(netns_to_check({1, 2, 3, 4, 2}, done, std::nullopt), (std::vector<uint64_t>{2, 4}));
  EXPECT_EQ(netns_to_check({1, 2, 3, 4}, done, 4), (std::vector<uint64_t>{4}));
  EXPECT_EQ(netns_to_check({1, 2, 3, 4}, done, 3), (std::vector<uint64_t>{}));
  EXPECT_EQ(netns_to_check({}, done, std::nullopt), (std::vector<uint64_t>{}));
}
