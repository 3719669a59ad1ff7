#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

#include "netviz/events.h"
#include "trace/decoder.h"
#include "util/error.h"

using namespace netviz;

namespace {

nv_event tcp_record(uint8_t type) {
  nv_event r{};
  r.type = type;
  r.family = NV_AF_INET;
  r.proto = NV_PROTO_TCP;
  r.ts_ns = 5'000;
  r.start_ns = 1'000;
  r.latency_ns = 250;
  r.pid = 42;
  r.netns = 4026531840u;
  r.lport = 40000;
  r.rport = 80;
  inet_pton(AF_INET, "10.0.0.1", r.laddr);
  inet_pton(AF_INET, "10.0.0.2", r.raddr);
  strcpy(r.comm, "curl");
  r.attribution = NV_ATTR_CONNECT;
  return r;
}

}  // namespace

TEST(TraceDecoder, ConnectCarriesTupleOwnerAndLatency) {
  Decoder d(1'000'000'000);  // wall = mono + 1 s
  TraceEvent e = d.decode(tcp_record(NV_EV_CONNECT));
  EXPECT_EQ(e.kind, EventKind::connect);
  EXPECT_EQ(e.time, 1'000'005'000);
  ASSERT_TRUE(e.start);
  EXPECT_EQ(*e.start, 1'000'001'000);
  ASSERT_TRUE(e.connect_latency_ns);
  EXPECT_EQ(*e.connect_latency_ns, 250);
  EXPECT_EQ(e.proto, Proto::tcp);
  EXPECT_EQ(e.family, Family::ipv4);
  EXPECT_EQ(e.local, (Endpoint{"10.0.0.1", 40000}));
  EXPECT_EQ(e.remote, (Endpoint{"10.0.0.2", 80}));
  EXPECT_EQ(e.pid, 42);
  EXPECT_EQ(e.comm, "curl");
  EXPECT_EQ(e.netns, 4026531840u);
  EXPECT_EQ(e.attribution, Attribution::connect);
}

TEST(TraceDecoder, CloseFlagsAndState) {
  Decoder d(0);
  nv_event r = tcp_record(NV_EV_CLOSE);
  r.flags = NV_FLAG_FAILED;
  r.state = 2;
  r.bytes_sent = 7;
  r.bytes_received = 9;
  r.attribution = NV_ATTR_NONE;
  TraceEvent e = d.decode(r);
  EXPECT_EQ(e.kind, EventKind::close);
  EXPECT_TRUE(e.failed);
  EXPECT_EQ(e.prev_state, SockState::syn_sent);
  EXPECT_EQ(e.bytes_sent, 7u);
  EXPECT_EQ(e.bytes_received, 9u);
  EXPECT_EQ(e.attribution, Attribution::none);
  // A capture's close carries the latency its (unsent) connect event would have had.
  ASSERT_TRUE(e.connect_latency_ns);
  EXPECT_EQ(*e.connect_latency_ns, static_cast<int64_t>(r.latency_ns));
  r.latency_ns = 0;  // a server end, or a connect never established: not measured
  EXPECT_FALSE(d.decode(r).connect_latency_ns);
}

TEST(TraceDecoder, Ipv6AndUdpAttribution) {
  Decoder d(0);
  nv_event r{};
  r.type = NV_EV_UDP;
  r.family = NV_AF_INET6;
  r.proto = NV_PROTO_UDP;
  r.attribution = NV_ATTR_UDP_RECV;
  inet_pton(AF_INET6, "::1", r.laddr);
  inet_pton(AF_INET6, "fd00::2", r.raddr);
  r.lport = 53;
  r.rport = 5353;
  TraceEvent e = d.decode(r);
  EXPECT_EQ(e.kind, EventKind::udp);
  EXPECT_EQ(e.family, Family::ipv6);
  EXPECT_EQ(e.proto, Proto::udp);
  EXPECT_EQ(e.local.addr, "::1");
  EXPECT_EQ(e.remote.addr, "fd00::2");
  EXPECT_EQ(e.attribution, Attribution::udp_recv);
  EXPECT_FALSE(e.start);  // start_ns 0 means unknown
}

TEST(TraceDecoder, ProcessEventsIgnoreSocketFields) {
  Decoder d(0);
  nv_event r{};
  r.type = NV_EV_EXIT;
  r.pid = 7;
  r.ppid = 1;
  r.exit_code = 3 << 8;
  memcpy(r.comm, "0123456789abcdef", 16);  // full width, no NUL
  TraceEvent e = d.decode(r);
  EXPECT_EQ(e.kind, EventKind::exit);
  EXPECT_EQ(e.comm, "0123456789abcdef");
  EXPECT_EQ(e.ppid, 1);
  EXPECT_EQ(e.exit_code, 3u << 8);
  EXPECT_FALSE(is_socket_event(e.kind));
}

TEST(TraceDecoder, RejectsUnknownRecords) {
  Decoder d(0);
  nv_event r = tcp_record(99);
  EXPECT_THROW(d.decode(r), Error);
  r = tcp_record(NV_EV_CONNECT);
  r.family = 1;  // AF_UNIX has no business here
  EXPECT_THROW(d.decode(r), Error);
  r = tcp_record(NV_EV_CONNECT);
  r.proto = 132;
  EXPECT_THROW(d.decode(r), Error);
}

TEST(TraceDecoder, StateNames) {
  EXPECT_EQ(tcp_state_of(1), SockState::established);
  EXPECT_EQ(tcp_state_of(10), SockState::listen);
  EXPECT_EQ(tcp_state_of(12), SockState::new_syn_recv);
  EXPECT_EQ(tcp_state_of(0), SockState::none);
  EXPECT_EQ(tcp_state_of(77), SockState::none);
}

TEST(TraceDecoder, CommBecomesValidUtf8) {
  EXPECT_EQ(comm_text("ok", 16), "ok");
  const char bad[16] = {'a', '\xff', 'b', '\xc3', '\xa9', '\xe2', 'x'};
  EXPECT_EQ(comm_text(bad, 16), "a?b\xc3\xa9?x");
  Decoder d(0);
  nv_event r{};
  r.type = NV_EV_EXEC;
  memcpy(r.comm, "\x80\x80", 2);
  EXPECT_EQ(d.decode(r).comm, "??");
}

TEST(TraceDecoder, Ipv4MappedAddressesAreIpv4) {
  Decoder d(0);
  nv_event r = tcp_record(NV_EV_ACCEPT);
  r.family = NV_AF_INET6;
  inet_pton(AF_INET6, "::ffff:127.0.0.1", r.laddr);
  inet_pton(AF_INET6, "::ffff:10.1.2.3", r.raddr);
  TraceEvent e = d.decode(r);
  EXPECT_EQ(e.family, Family::ipv4);
  EXPECT_EQ(e.local.addr, "127.0.0.1");
  EXPECT_EQ(e.remote.addr, "10.1.2.3");
  inet_pton(AF_INET6, "::1", r.laddr);  // a real IPv6 peer stays IPv6
  inet_pton(AF_INET6, "::ffff:10.1.2.3", r.raddr);
  e = d.decode(r);
  EXPECT_EQ(e.family, Family::ipv6);
  EXPECT_EQ(e.remote.addr, "::ffff:10.1.2.3");
}

TEST(TraceDecoder, HandoffCarriesThePreviousOwner) {
  Decoder d(0);
  nv_event r = tcp_record(NV_EV_CLOSE);
  r.attribution = NV_ATTR_HANDOFF;
  r.pid = 301;
  strcpy(r.comm, "postgres");
  r.prev_pid = 300;
  r.prev_attribution = NV_ATTR_ACCEPT;
  strcpy(r.prev_comm, "postmaster");
  TraceEvent e = d.decode(r);
  EXPECT_EQ(e.attribution, Attribution::handoff);
  EXPECT_EQ(e.pid, 301);
  EXPECT_EQ(e.prev_pid, 300);
  EXPECT_EQ(e.prev_comm, "postmaster");
  EXPECT_EQ(e.prev_attribution, Attribution::accept);
  r.attribution = NV_ATTR_ACCEPT;  // prev fields mean nothing without a handoff
  e = d.decode(r);
  EXPECT_EQ(e.prev_pid, 0);
}
