// Records from the iter/task_file program → OwnerIndex, without the kernel.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "scan/bpf_iter_owners.h"

namespace netviz {
namespace {

nv_snap_sock_file rec(uint32_t tgid, uint32_t fd, uint64_t ino, uint32_t task_ns,
                      const char* comm) {
  nv_snap_sock_file r{};
  r.tgid = tgid;
  r.fd = fd;
  r.sock_ino = ino;
  r.sock_netns = task_ns;
  r.task_netns = task_ns;
  std::memcpy(r.comm, comm, std::min(std::strlen(comm), sizeof r.comm));  // may leave no NUL
  return r;
}

TEST(BpfOwnerIndex, GroupsByInodeSortedByPidThenFd) {
  std::vector<nv_snap_sock_file> recs = {
      rec(20, 7, 500, 11, "b"), rec(10, 9, 500, 11, "a"), rec(10, 3, 500, 11, "a"),
      rec(10, 4, 600, 11, "a"),
  };
  OwnerIndex idx = owner_index_from_records(recs);
  ASSERT_EQ(idx.by_inode.size(), 2u);
  const auto& o = idx.by_inode.at(500);
  ASSERT_EQ(o.size(), 3u);
  EXPECT_EQ(o[0], (Owner{10, "a", 3}));
  EXPECT_EQ(o[1], (Owner{10, "a", 9}));
  EXPECT_EQ(o[2], (Owner{20, "b", 7}));
  EXPECT_EQ(idx.by_inode.at(600), (std::vector<Owner>{{10, "a", 4}}));
  EXPECT_EQ(idx.netns_of_pid.at(10), 11u);
  EXPECT_EQ(idx.netns_of_pid.at(20), 11u);
}

TEST(BpfOwnerIndex, RepeatedPidFdCountsOnceAndFullWidthCommIsKept) {
  // Threads of a process whose leader exited each report the shared table.
  std::vector<nv_snap_sock_file> recs = {
      rec(30, 5, 700, 0, "0123456789abcdef"), rec(30, 5, 700, 12, "0123456789abcdef"),
  };
  OwnerIndex idx = owner_index_from_records(recs);
  ASSERT_EQ(idx.by_inode.at(700).size(), 1u);
  EXPECT_EQ(idx.by_inode.at(700)[0].comm, "0123456789abcdef");
  EXPECT_EQ(idx.netns_of_pid.at(30), 12u) << "a known netns wins over 0 (exiting task)";
}

TEST(BpfOwnerIndex, ATableRepeatedByEachThreadGivesEachFdOnce) {
  // Two threads of one process (leader gone) each walk the same table, in kernel order.
  std::vector<nv_snap_sock_file> recs = {
      rec(40, 3, 800, 13, "t"), rec(40, 9, 800, 13, "t"), rec(40, 11, 900, 13, "t"),
      rec(40, 3, 800, 13, "t"), rec(40, 9, 800, 13, "t"), rec(40, 11, 900, 13, "t"),
  };
  OwnerIndex idx = owner_index_from_records(recs);
  EXPECT_EQ(idx.by_inode.at(800), (std::vector<Owner>{{40, "t", 3}, {40, "t", 9}}));
  EXPECT_EQ(idx.by_inode.at(900), (std::vector<Owner>{{40, "t", 11}}));
}

TEST(BpfOwnerIndex, BatchesAsTheWalkReadsThemGiveTheSameIndexAsOne) {
  // The walk hands over a read at a time; a process's records may straddle two reads.
  std::vector<nv_snap_sock_file> recs = {
      rec(50, 3, 1000, 0, "p"), rec(50, 4, 1001, 14, "p"), rec(50, 3, 1000, 14, "p"),
      rec(60, 1, 1000, 15, "q"), rec(60, 2, 1002, 15, "q"),
  };
  OwnerIndex whole = owner_index_from_records(recs);
  for (size_t cut = 0; cut <= recs.size(); ++cut) {
    OwnerIndexBuilder b;
    b.add(recs.data(), cut);
    b.add(recs.data() + cut, recs.size() - cut);
    EXPECT_EQ(b.records(), recs.size());
    OwnerIndex split = b.take();
    EXPECT_EQ(split.by_inode, whole.by_inode) << "cut after " << cut;
    EXPECT_EQ(split.netns_of_pid, whole.netns_of_pid) << "cut after " << cut;
  }
  EXPECT_EQ(whole.by_inode.at(1000), (std::vector<Owner>{{50, "p", 3}, {60, "q", 1}}));
  EXPECT_EQ(whole.netns_of_pid.at(50), 14u);
}

TEST(BpfOwnerIndex, NoRecordsNoOwners) {
  OwnerIndex idx = owner_index_from_records({});
  EXPECT_TRUE(idx.by_inode.empty());
  EXPECT_TRUE(idx.netns_of_pid.empty());
}

}  // namespace
}  // namespace netviz
