#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/inet_diag.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>

#include <cstring>
#include <vector>

#include "scan/host_info.h"
#include "scan/netlink_dump.h"
#include "scan/sock_diag.h"

using namespace netviz;

namespace {
// Messages laid out as the kernel sends them, 4-byte aligned.
struct Buffer {
  std::vector<uint32_t> words = std::vector<uint32_t>(1024);
  size_t used = 0;
  template <typename T>
  T* add(uint16_t type, size_t extra = 0) {
    auto* h = reinterpret_cast<nlmsghdr*>(reinterpret_cast<char*>(words.data()) + used);
    h->nlmsg_len = NLMSG_LENGTH(sizeof(T) + extra);
    h->nlmsg_type = type;
    used += NLMSG_ALIGN(h->nlmsg_len);
    return static_cast<T*>(NLMSG_DATA(h));
  }
  const nlmsghdr* first() const { return reinterpret_cast<const nlmsghdr*>(words.data()); }
};
}  // namespace

TEST(NetlinkParse, InetDiagMessageBecomesASocket) {
  Buffer b;
  auto* m = b.add<inet_diag_msg>(SOCK_DIAG_BY_FAMILY);
  m->idiag_family = AF_INET;
  m->idiag_state = 1;  // TCP_ESTABLISHED
  m->id.idiag_sport = htons(5432);
  m->id.idiag_dport = htons(40000);
  inet_pton(AF_INET, "127.0.0.1", m->id.idiag_src);
  inet_pton(AF_INET, "127.0.0.2", m->id.idiag_dst);
  m->idiag_inode = 777;
  Socket s;
  ASSERT_TRUE(parse_inet_diag_msg(b.first(), IPPROTO_TCP, 9, s));
  EXPECT_EQ(s.proto, "tcp");
  EXPECT_EQ(s.local, (Endpoint{"127.0.0.1", 5432}));
  EXPECT_EQ(s.remote.value(), (Endpoint{"127.0.0.2", 40000}));
  EXPECT_EQ(s.state, "ESTABLISHED");
  EXPECT_EQ(s.inode, 777u);
  EXPECT_EQ(s.netns, 9u);
}

// The one-walk TCP dump (TCPDIAG_GETSOCK, both families) answers with its request's type.
TEST(NetlinkParse, TcpDiagReplyOfBothFamiliesIsTcpOnly) {
  Buffer b;
  auto* m = b.add<inet_diag_msg>(TCPDIAG_GETSOCK);
  m->idiag_family = AF_INET6;
  m->idiag_state = 10;  // TCP_LISTEN
  m->id.idiag_sport = htons(8080);
  inet_pton(AF_INET6, "::1", m->id.idiag_src);
  Socket s;
  ASSERT_TRUE(parse_inet_diag_msg(b.first(), IPPROTO_TCP, 3, s));
  EXPECT_EQ(s.family, "ipv6");
  EXPECT_EQ(s.local, (Endpoint{"::1", 8080}));
  EXPECT_FALSE(s.remote);
  EXPECT_EQ(s.state, "LISTEN");
  Socket u;
  EXPECT_FALSE(parse_inet_diag_msg(b.first(), IPPROTO_UDP, 3, u));
}

TEST(NetlinkParse, ShortOrForeignMessagesAreRefused) {
  Buffer b;
  auto* h = const_cast<nlmsghdr*>(b.first());
  b.add<inet_diag_msg>(SOCK_DIAG_BY_FAMILY);
  h->nlmsg_len = NLMSG_LENGTH(sizeof(inet_diag_msg) - 1);
  Socket s;
  EXPECT_FALSE(parse_inet_diag_msg(h, IPPROTO_TCP, 1, s));
  h->nlmsg_len = NLMSG_LENGTH(sizeof(inet_diag_msg));
  static_cast<inet_diag_msg*>(NLMSG_DATA(h))->idiag_family = AF_UNIX;
  EXPECT_FALSE(parse_inet_diag_msg(h, IPPROTO_TCP, 1, s));
  std::string addr;
  EXPECT_FALSE(parse_ifaddr_msg(h, addr));
}

TEST(NetlinkParse, AddressMessagePrefersLocalAndChecksAttributeLength) {
  Buffer b;
  size_t attrs = RTA_SPACE(4) + RTA_SPACE(16);
  auto* ifa = b.add<ifaddrmsg>(RTM_NEWADDR, attrs);
  ifa->ifa_family = AF_INET6;
  auto* rta = IFA_RTA(ifa);
  rta->rta_type = IFA_ADDRESS;
  rta->rta_len = RTA_LENGTH(4);  // too short for IPv6: must be skipped, not read past
  rta = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(rta) + RTA_SPACE(4));
  rta->rta_type = IFA_LOCAL;
  rta->rta_len = RTA_LENGTH(16);
  inet_pton(AF_INET6, "fd00::2", RTA_DATA(rta));
  std::string addr;
  ASSERT_TRUE(parse_ifaddr_msg(b.first(), addr));
  EXPECT_EQ(addr, "fd00::2");

  Buffer shortonly;
  auto* ifa2 = shortonly.add<ifaddrmsg>(RTM_NEWADDR, RTA_SPACE(4));
  ifa2->ifa_family = AF_INET6;
  IFA_RTA(ifa2)->rta_type = IFA_ADDRESS;
  IFA_RTA(ifa2)->rta_len = RTA_LENGTH(4);
  EXPECT_FALSE(parse_ifaddr_msg(shortonly.first(), addr));
}

TEST(NetlinkParse, WalkStopsAtDoneAndReportsTruncatedErrors) {
  Buffer b;
  b.add<inet_diag_msg>(SOCK_DIAG_BY_FAMILY);
  b.add<int>(NLMSG_DONE);
  b.add<inet_diag_msg>(SOCK_DIAG_BY_FAMILY);
  int seen = 0;
  bool done = false;
  EXPECT_EQ(walk_netlink_buffer(b.words.data(), b.used, [&](const nlmsghdr*) { ++seen; }, done), "");
  EXPECT_TRUE(done);
  EXPECT_EQ(seen, 1);

  Buffer e;
  e.add<int>(NLMSG_ERROR);  // shorter than struct nlmsgerr
  done = false;
  EXPECT_EQ(walk_netlink_buffer(e.words.data(), e.used, [&](const nlmsghdr*) {}, done),
            "netlink: truncated error reply");
  EXPECT_TRUE(done);
}
