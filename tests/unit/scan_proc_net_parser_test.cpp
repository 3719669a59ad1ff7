// The /proc/net table parsers on fixture files (tests/fixtures/proc/100/net).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "scan/proc_net_parser.h"

using namespace netviz;

namespace {

std::string fixture(const std::string& rel) {
  std::ifstream in(std::string(NETVIZ_FIXTURES) + "/proc/" + rel, std::ios::binary);
  EXPECT_TRUE(in) << rel;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<Socket> parse(ProcNetTable t, const std::string& rel, size_t expect_bad = 0) {
  std::vector<Socket> out;
  EXPECT_EQ(parse_proc_net(t, fixture(rel), 42, out,
                           [](int i) { return i == 2 ? std::string("eth0") : std::string(); }),
            expect_bad);
  for (const auto& s : out) EXPECT_EQ(s.netns, 42u);
  return out;
}

}  // namespace

TEST(ProcNetParser, Tcp4) {
  auto v = parse(ProcNetTable::tcp, "100/net/tcp");
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].proto, Proto::tcp);
  EXPECT_EQ(v[0].family, Family::ipv4);
  EXPECT_EQ(v[0].local, (Endpoint{"0.0.0.0", 80}));
  EXPECT_FALSE(v[0].remote);
  EXPECT_EQ(v[0].state, SockState::listen);
  EXPECT_EQ(v[0].inode, 1001u);
  EXPECT_EQ(v[1].local, (Endpoint{"127.0.0.1", 80}));
  ASSERT_TRUE(v[1].remote);
  EXPECT_EQ(*v[1].remote, (Endpoint{"127.0.0.1", 54321}));
  EXPECT_EQ(v[1].state, SockState::established);
  EXPECT_EQ(v[3].state, SockState::time_wait);
  EXPECT_EQ(v[3].inode, 0u);
}

TEST(ProcNetParser, Tcp6WithV4Mapped) {
  auto v = parse(ProcNetTable::tcp6, "100/net/tcp6");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].family, Family::ipv6);
  EXPECT_EQ(v[0].local, (Endpoint{"::", 8080}));
  EXPECT_EQ(v[0].state, SockState::listen);
  EXPECT_EQ(v[1].local, (Endpoint{"::ffff:127.0.0.1", 8080}));
  EXPECT_EQ(*v[1].remote, (Endpoint{"::ffff:127.0.0.1", 57344}));
  EXPECT_EQ(v[2].local, (Endpoint{"::1", 40960}));
  EXPECT_EQ(v[2].state, SockState::syn_sent);
}

TEST(ProcNetParser, UdpConnectedAndNot) {
  auto v = parse(ProcNetTable::udp, "100/net/udp");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].proto, Proto::udp);
  EXPECT_EQ(v[0].state, SockState::unconn);
  EXPECT_EQ(v[0].local, (Endpoint{"0.0.0.0", 53}));
  EXPECT_FALSE(v[0].remote);
  EXPECT_EQ(v[1].state, SockState::established);
  EXPECT_EQ(*v[1].remote, (Endpoint{"127.0.0.1", 53}));
  auto v6 = parse(ProcNetTable::udp6, "100/net/udp6");
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_EQ(v6[0].local, (Endpoint{"::", 5353}));
  EXPECT_EQ(v6[0].family, Family::ipv6);
}

TEST(ProcNetParser, Raw) {
  auto v = parse(ProcNetTable::raw, "100/net/raw");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].proto, Proto::raw);
  EXPECT_EQ(v[0].local.port, 1u);  // IPPROTO_ICMP
  EXPECT_EQ(v[0].state, SockState::unconn);
  auto v6 = parse(ProcNetTable::raw6, "100/net/raw6");
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_EQ(v6[0].family, Family::ipv6);
  EXPECT_EQ(v6[0].local.port, 58u);  // IPPROTO_ICMPV6
}

TEST(ProcNetParser, Packet) {
  auto v = parse(ProcNetTable::packet, "100/net/packet");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].proto, Proto::packet);
  EXPECT_EQ(v[0].family, Family::packet);
  EXPECT_EQ(v[0].local, (Endpoint{"*", 3}));  // ETH_P_ALL on every interface
  EXPECT_EQ(v[1].local, (Endpoint{"eth0", 0x0800}));
  EXPECT_EQ(v[1].inode, 1602u);
}

TEST(ProcNetParser, Unix) {
  auto v = parse(ProcNetTable::unix_, "100/net/unix");
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].state, SockState::listen);
  EXPECT_EQ(v[0].local.addr, "/run/app.sock");
  EXPECT_EQ(v[1].state, SockState::established);
  EXPECT_EQ(v[1].local.addr, "");
  EXPECT_EQ(v[3].state, SockState::unconn);
  EXPECT_EQ(v[3].local.addr, "@abstract name");
  EXPECT_EQ(v[3].inode, 1704u);
}

TEST(ProcNetParser, Sctp) {
  auto eps = parse(ProcNetTable::sctp_eps, "100/net/sctp/eps");
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_EQ(eps[0].proto, Proto::sctp);
  EXPECT_EQ(eps[0].local, (Endpoint{"10.0.0.1", 9999}));
  EXPECT_EQ(eps[0].state, SockState::listen);
  EXPECT_EQ(eps[0].inode, 1801u);
  auto as = parse(ProcNetTable::sctp_assocs, "100/net/sctp/assocs");
  ASSERT_EQ(as.size(), 1u);
  EXPECT_EQ(as[0].local, (Endpoint{"10.0.0.1", 9999}));
  ASSERT_TRUE(as[0].remote);
  EXPECT_EQ(*as[0].remote, (Endpoint{"10.0.0.2", 40000}));  // the primary, marked '*'
  EXPECT_EQ(as[0].inode, 1802u);
}

TEST(ProcNetParser, BadRowsAreCountedNotFatal) {
  std::vector<Socket> out;
  std::string text =
      "  sl  local_address rem_address   st\n"
      "   0: 0100007F:0050 garbage 0A 00000000:00000000 00:00000000 00000000 0 0 1\n"
      "   1: 0100007F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 77\n"
      "   2: 0100007F\n";
  EXPECT_EQ(parse_proc_net(ProcNetTable::tcp, text, 1, out), 2u);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].inode, 77u);
  out.clear();
  EXPECT_EQ(parse_proc_net(ProcNetTable::tcp, "", 1, out), 0u);
  EXPECT_EQ(parse_proc_net(ProcNetTable::unix_, "header only\n", 1, out), 0u);
  EXPECT_TRUE(out.empty());
}

TEST(ProcNetParser, StateNames) {
  EXPECT_EQ(tcp_socket_state(1), SockState::established);
  EXPECT_EQ(tcp_socket_state(6), SockState::time_wait);
  EXPECT_EQ(tcp_socket_state(10), SockState::listen);
  EXPECT_EQ(tcp_socket_state(12), SockState::syn_recv);
  EXPECT_EQ(tcp_socket_state(200), SockState::unknown);
  EXPECT_EQ(dgram_socket_state(7), SockState::unconn);
  EXPECT_EQ(dgram_socket_state(1), SockState::established);
}
