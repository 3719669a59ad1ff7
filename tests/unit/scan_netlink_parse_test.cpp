#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/inet_diag.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
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
  EXPECT_EQ(s.proto, Proto::tcp);
  EXPECT_EQ(s.local, (Endpoint{"127.0.0.1", 5432}));
  EXPECT_EQ(s.remote.value(), (Endpoint{"127.0.0.2", 40000}));
  EXPECT_EQ(s.state, SockState::established);
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
  EXPECT_EQ(s.family, Family::ipv6);
  EXPECT_EQ(s.local, (Endpoint{"::1", 8080}));
  EXPECT_FALSE(s.remote);
  EXPECT_EQ(s.state, SockState::listen);
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

namespace {
// Appends one netlink attribute after the message body at *off (bytes from NLMSG_DATA).
void add_attr(char* data, size_t& off, uint16_t type, const void* payload, size_t len) {
  nlattr a{static_cast<uint16_t>(NLA_HDRLEN + len), type};
  std::memcpy(data + off, &a, sizeof a);
  std::memcpy(data + off + NLA_HDRLEN, payload, len);
  off += NLA_ALIGN(a.nla_len);
}
}  // namespace

TEST(NetlinkParse, UnixDiagMessageGivesNameAndPeer) {
  const char path[] = "/run/pg/.s.PGSQL.5432";  // the kernel counts the terminating NUL
  uint32_t peer = 4242;
  size_t extra = NLA_ALIGN(NLA_HDRLEN + sizeof path) + NLA_ALIGN(NLA_HDRLEN + sizeof peer);
  Buffer b;
  auto* m = b.add<unix_diag_msg>(SOCK_DIAG_BY_FAMILY, extra);
  m->udiag_family = AF_UNIX;
  m->udiag_state = 1;  // TCP_ESTABLISHED
  m->udiag_ino = 4241;
  size_t off = NLMSG_ALIGN(sizeof(unix_diag_msg));
  add_attr(reinterpret_cast<char*>(m), off, UNIX_DIAG_NAME, path, sizeof path);
  add_attr(reinterpret_cast<char*>(m), off, UNIX_DIAG_PEER, &peer, sizeof peer);
  Socket s;
  ASSERT_TRUE(parse_unix_diag_msg(b.first(), 7, s));
  EXPECT_EQ(s.proto, Proto::unix);
  EXPECT_EQ(s.family, Family::unix);
  EXPECT_EQ(s.local.addr, "/run/pg/.s.PGSQL.5432");
  EXPECT_EQ(s.state, SockState::established);
  EXPECT_EQ(s.inode, 4241u);
  EXPECT_EQ(s.peer_inode, 4242u);
  EXPECT_EQ(s.netns, 7u);
}

TEST(NetlinkParse, UnixDiagAbstractNameAndBadAttribute) {
  const char name[] = {'\0', 'b', 'u', 's', '\0', 'x'};  // abstract: NULs shown as '@'
  Buffer b;
  auto* m = b.add<unix_diag_msg>(SOCK_DIAG_BY_FAMILY, NLA_ALIGN(NLA_HDRLEN + sizeof name));
  m->udiag_family = AF_UNIX;
  m->udiag_state = 10;  // TCP_LISTEN
  size_t off = NLMSG_ALIGN(sizeof(unix_diag_msg));
  add_attr(reinterpret_cast<char*>(m), off, UNIX_DIAG_NAME, name, sizeof name);
  Socket s;
  ASSERT_TRUE(parse_unix_diag_msg(b.first(), 0, s));
  EXPECT_EQ(s.local.addr, "@bus@x");
  EXPECT_EQ(s.state, SockState::listen);
  EXPECT_EQ(s.peer_inode, 0u);

  // An attribute claiming more bytes than the message holds: rejected, not read past.
  Buffer bad;
  auto* m2 = bad.add<unix_diag_msg>(SOCK_DIAG_BY_FAMILY, 8);
  m2->udiag_family = AF_UNIX;
  nlattr a{64, UNIX_DIAG_NAME};
  std::memcpy(reinterpret_cast<char*>(m2) + NLMSG_ALIGN(sizeof(unix_diag_msg)), &a, sizeof a);
  Socket s2;
  EXPECT_FALSE(parse_unix_diag_msg(bad.first(), 0, s2));
  // Another family's message is not a unix socket.
  Buffer inet;
  inet.add<unix_diag_msg>(SOCK_DIAG_BY_FAMILY)->udiag_family = AF_INET;
  EXPECT_FALSE(parse_unix_diag_msg(inet.first(), 0, s2));
}
