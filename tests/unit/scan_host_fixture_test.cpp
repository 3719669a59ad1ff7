// scan_host and walk_owners_proc over the fake proc root in tests/fixtures/proc: two
// network namespaces, a socket shared by a parent and its forked child.
#include <gtest/gtest.h>

#include <algorithm>

#include "scan/netns.h"
#include "scan/owners.h"
#include "scan/scan.h"
#include "util/error.h"

using namespace netviz;

namespace {

const std::string kRoot = NETVIZ_FIXTURES "/proc";
constexpr uint64_t kRootNs = 4026531840, kRedisNs = 4026532500;

const Socket* find_socket(const ScanResult& r, uint64_t inode) {
  for (const auto& s : r.sockets)
    if (s.inode == inode) return &s;
  return nullptr;
}

}  // namespace

TEST(ScanFixture, OwnerWalk) {
  Stats stats;
  OwnerIndex idx = walk_owners_proc(kRoot, stats);
  ASSERT_EQ(idx.by_inode.count(2002), 1u);
  auto owners = idx.by_inode[2002];
  std::sort(owners.begin(), owners.end(), [](auto& a, auto& b) { return a.pid < b.pid; });
  EXPECT_EQ(owners, (std::vector<Owner>{{200, "redis-server", 7}, {201, "redis-server", 7}}));
  EXPECT_EQ(idx.by_inode[1001], (std::vector<Owner>{{100, "nginx", 3}}));
  EXPECT_EQ(idx.by_inode.count(5555), 0u);  // a pipe
  EXPECT_EQ(idx.by_inode.size(), 16u + 2u);
  EXPECT_EQ(idx.netns_of_pid[201], kRedisNs);
  EXPECT_EQ(stats.counters["owner_walk_pids"], 3);
}

TEST(ScanFixture, ListNetns) {
  Stats stats;
  auto all = list_netns(kRoot, stats, "");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].inode, kRootNs);  // ours (self → 100) first
  EXPECT_EQ(all[1].inode, kRedisNs);
  EXPECT_EQ(all[1].pid, 200);
}

TEST(ScanFixture, WholeHost) {
  ScanOptions o;
  o.proc_root = kRoot;
  ScanResult r = scan_host(o);
  EXPECT_EQ(r.stats.scan_path, "proc");
  EXPECT_FALSE(r.host.name.empty());
  EXPECT_EQ(r.host.boot_id, "5f1c7a52-0d1e-4a8e-9b61-1e6f0c2b3a44");
  ASSERT_EQ(r.host.netns.size(), 2u);
  EXPECT_FALSE(r.host.scope_netns);
  // 4 tcp + 3 tcp6 + 2 udp + 1 udp6 + 1 raw + 1 raw6 + 2 packet + 4 unix + 2 sctp; 3 tcp in redis ns
  EXPECT_EQ(r.sockets.size(), 20u + 3u);
  const Socket* shared = find_socket(r, 2002);
  ASSERT_TRUE(shared);
  EXPECT_EQ(shared->netns, kRedisNs);
  EXPECT_EQ(shared->owners,
            (std::vector<Owner>{{200, "redis-server", 7}, {201, "redis-server", 7}}));
  const Socket* pkt = find_socket(r, 1602);
  ASSERT_TRUE(pkt);
  EXPECT_EQ(pkt->local.addr, "2");  // no live namespace to name the interface in
  EXPECT_EQ(pkt->owners, (std::vector<Owner>{{100, "nginx", 14}}));
  ASSERT_EQ(r.processes.size(), 3u);
  EXPECT_EQ(r.processes[0].pid, 100);
  EXPECT_EQ(r.processes[0].uid, 33u);
  EXPECT_EQ(r.processes[2].ppid, 200);
  EXPECT_EQ(r.stats.counters.at("sockets"), 23);

  // Flows: 1002/1003 loopback pair, 1102 (v4-mapped), 5000 (SYN_SENT), 1202 udp, 2002, 2003.
  ASSERT_EQ(r.flows.size(), 7u);
  auto flow_at = [&](uint32_t lport, uint32_t rport) -> const Flow* {
    for (const auto& f : r.flows)
      if (f.local.port == lport && f.remote && f.remote->port == rport) return &f;
    return nullptr;
  };
  const Flow* in80 = flow_at(80, 54321);
  ASSERT_TRUE(in80);
  EXPECT_EQ(in80->direction, Direction::inbound);
  EXPECT_EQ(in80->pid, 100);
  EXPECT_EQ(in80->attribution, Attribution::scan);
  EXPECT_EQ(in80->first_seen, in80->last_seen);
  EXPECT_GT(in80->first_seen, 0);
  EXPECT_EQ(flow_at(54321, 80)->direction, Direction::outbound);
  const Flow* mapped = flow_at(8080, 57344);
  ASSERT_TRUE(mapped);
  EXPECT_EQ(mapped->direction, Direction::inbound);  // the [::] listener covers v4-mapped peers
  EXPECT_EQ(mapped->family, Family::ipv4);
  EXPECT_EQ(mapped->local.addr, "127.0.0.1");
  EXPECT_EQ(flow_at(40960, 8080)->direction, Direction::outbound);
  EXPECT_EQ(flow_at(50000, 53)->direction, Direction::outbound);
  const Flow* redis_in = flow_at(6379, 40000);
  ASSERT_TRUE(redis_in);
  EXPECT_EQ(redis_in->direction, Direction::inbound);
  EXPECT_EQ(redis_in->netns, kRedisNs);
  EXPECT_EQ(redis_in->pid, 200);
  const Flow* orphan = flow_at(45056, 3306);
  ASSERT_TRUE(orphan);
  EXPECT_EQ(orphan->direction, Direction::outbound);
  EXPECT_EQ(orphan->pid, 0);
  EXPECT_EQ(orphan->comm, "");
}

TEST(ScanFixture, OneNamespace) {
  ScanOptions o;
  o.proc_root = kRoot;
  o.only_netns = kRedisNs;
  ScanResult r = scan_host(o);
  ASSERT_EQ(r.host.netns.size(), 1u);
  EXPECT_EQ(r.host.netns[0].inode, kRedisNs);
  EXPECT_EQ(r.host.scope_netns, kRedisNs);
  EXPECT_EQ(r.sockets.size(), 3u);
  for (const auto& s : r.sockets) EXPECT_EQ(s.netns, kRedisNs);
  ASSERT_EQ(r.processes.size(), 2u);
  o.only_netns = 1;
  EXPECT_THROW(scan_host(o), Error);
}

TEST(ScanFixture, ResolveNetns) {
  EXPECT_EQ(resolve_netns("4026532500", kRoot), kRedisNs);
  EXPECT_EQ(resolve_netns(kRoot + "/201/ns/net", kRoot), kRedisNs);
  try {
    resolve_netns("123", kRoot);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--netns"), std::string::npos);
  }
  EXPECT_THROW(resolve_netns("no-such-netns-name-s1", kRoot), Error);
  EXPECT_THROW(resolve_netns(kRoot + "/100/comm", kRoot), Error);
  EXPECT_THROW(resolve_netns("", kRoot), Error);
}
