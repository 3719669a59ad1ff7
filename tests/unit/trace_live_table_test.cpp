#include <gtest/gtest.h>

#include "scan/scan.h"
#include "trace/live_table.h"

using namespace netviz;

namespace {

constexpr uint64_t kNs = 4026531840u;

TraceEvent tcp(EventKind k, const char* laddr, uint32_t lport, const char* raddr, uint32_t rport,
               int32_t pid, const char* comm, Attribution attribution, WallNs time) {
  TraceEvent e;
  e.kind = k;
  e.time = time;
  e.proto = Proto::tcp;
  e.family = Family::ipv4;
  e.local = {laddr, lport};
  e.remote = {raddr, rport};
  e.netns = kNs;
  e.pid = pid;
  e.comm = comm;
  e.attribution = attribution;
  return e;
}

Flow scan_flow(uint32_t lport, uint32_t rport, int32_t pid, const char* comm) {
  Flow f;
  f.proto = Proto::tcp;
  f.family = Family::ipv4;
  f.local = {"127.0.0.1", lport};
  f.remote = Endpoint{"127.0.0.1", rport};
  f.direction = Direction::outbound;
  f.pid = pid;
  f.comm = comm;
  f.netns = kNs;
  f.first_seen = f.last_seen = 100;
  f.attribution = Attribution::scan;
  f.state = SockState::established;
  return f;
}

}  // namespace

TEST(LiveTable, ConnectAcceptCloseBothEnds) {
  LiveTable t;
  auto c = tcp(EventKind::connect, "127.0.0.1", 40000, "127.0.0.1", 80, 10, "curl", Attribution::connect, 2000);
  c.start = 1000;
  c.connect_latency_ns = 50;
  const Flow* f = t.apply(c);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->direction, Direction::outbound);
  EXPECT_EQ(f->first_seen, 1000);
  EXPECT_EQ(*f->connect_latency_ns, 50);
  EXPECT_EQ(f->state, SockState::established);

  auto a = tcp(EventKind::accept, "127.0.0.1", 80, "127.0.0.1", 40000, 20, "worker", Attribution::accept, 2100);
  a.start = 1500;
  f = t.apply(a);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->direction, Direction::inbound);
  EXPECT_EQ(f->pid, 20);
  EXPECT_EQ(t.live_count(), 2u);

  auto cc = tcp(EventKind::close, "127.0.0.1", 40000, "127.0.0.1", 80, 10, "curl", Attribution::connect, 5000);
  cc.bytes_sent = 3;
  cc.bytes_received = 4;
  f = t.apply(cc);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->state, SockState::closed);
  ASSERT_TRUE(f->duration_ns);
  EXPECT_EQ(*f->duration_ns, 4000);
  EXPECT_EQ(f->bytes_sent, 3u);
  EXPECT_EQ(*f->connect_latency_ns, 50);  // kept from connect
  EXPECT_EQ(t.live_count(), 1u);
  EXPECT_EQ(t.closed_count(), 1u);
  EXPECT_EQ(t.flows().size(), 2u);
  t.prune_closed();
  EXPECT_EQ(t.flows().size(), 1u);
}

TEST(LiveTable, AFlowNeverEndsBeforeItStarts) {
  LiveTable t;
  // A record whose kernel start is later than its own time, opening a flow and then
  // giving an existing startless one its start.
  auto c = tcp(EventKind::connect, "127.0.0.1", 40000, "127.0.0.1", 80, 10, "cli", Attribution::connect, 2000);
  c.start = 2500;
  const Flow* f = t.apply(c);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->first_seen, 2500);
  EXPECT_GE(f->last_seen, f->first_seen);
  auto a = tcp(EventKind::accept, "127.0.0.1", 80, "127.0.0.1", 40000, 20, "srv", Attribution::accept, 3000);
  f = t.apply(a);
  ASSERT_TRUE(f);
  a.start = 3600;
  f = t.apply(a);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->first_seen, 3600);
  EXPECT_GE(f->last_seen, f->first_seen);
  auto cl = tcp(EventKind::close, "127.0.0.1", 80, "127.0.0.1", 40000, 20, "srv", Attribution::accept, 3100);
  cl.start = 3600;
  f = t.apply(cl);
  ASSERT_TRUE(f);
  EXPECT_GE(f->last_seen, f->first_seen);
  EXPECT_GE(*f->duration_ns, 0);
}

TEST(LiveTable, EventsWinOverScanForTheSameSocket) {
  ScanResult scan;
  scan.flows.push_back(scan_flow(40000, 80, 10, "old"));
  LiveTable t;
  t.seed(scan);
  ASSERT_EQ(t.flows().size(), 1u);
  EXPECT_EQ(t.flows()[0].attribution, Attribution::scan);
  auto c = tcp(EventKind::connect, "127.0.0.1", 40000, "127.0.0.1", 80, 11, "new", Attribution::connect, 200);
  c.start = 150;
  const Flow* f = t.apply(c);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->pid, 11);
  EXPECT_EQ(f->attribution, Attribution::connect);
  EXPECT_EQ(t.live_count(), 1u);
}

// The scan found a connection that was closing: its owner's fd was already gone, and the
// events traced during the scan name it. The seeded flows written then must not list it.
TEST(LiveTable, SeededLiveLeavesOutWhatTheEventsDuringTheScanClosed) {
  ScanResult scan;
  scan.flows.push_back(scan_flow(40001, 80, 12, "kept"));
  scan.flows.push_back(scan_flow(40000, 80, 0, ""));
  scan.flows.push_back(scan_flow(40002, 80, 0, ""));
  LiveTable t;
  t.seed(scan);
  ASSERT_EQ(t.seeded_live().size(), 3u);
  auto c = tcp(EventKind::connect, "127.0.0.1", 40000, "127.0.0.1", 80, 11, "cli", Attribution::connect, 90);
  c.start = 80;
  t.apply(c);
  t.apply(tcp(EventKind::close, "127.0.0.1", 40000, "127.0.0.1", 80, 11, "cli", Attribution::connect, 120));
  t.apply(tcp(EventKind::connect, "127.0.0.1", 40002, "127.0.0.1", 80, 13, "other", Attribution::connect, 95));
  t.apply(tcp(EventKind::connect, "127.0.0.1", 40003, "127.0.0.1", 80, 14, "new", Attribution::connect, 130));
  auto seeded = t.seeded_live();
  ASSERT_EQ(seeded.size(), 2u);  // 40001 and 40002 in scan order; 40003 is no scan flow
  EXPECT_EQ(seeded[0]->local.port, 40001u);
  EXPECT_EQ(seeded[0]->comm, "kept");
  EXPECT_EQ(seeded[1]->local.port, 40002u);
  EXPECT_EQ(seeded[1]->comm, "other");  // the owner the event gave it, not none
}

TEST(LiveTable, CloseOfAScanFlowKeepsTheScanOwner) {
  ScanResult scan;
  scan.flows.push_back(scan_flow(40000, 80, 10, "client"));
  LiveTable t;
  t.seed(scan);
  // The kernel never saw this socket open: no owner in the event.
  auto cl = tcp(EventKind::close, "127.0.0.1", 40000, "127.0.0.1", 80, 0, "", Attribution::none, 900);
  const Flow* f = t.apply(cl);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->pid, 10);
  EXPECT_EQ(f->attribution, Attribution::scan);
  EXPECT_EQ(f->state, SockState::closed);
  EXPECT_FALSE(f->duration_ns);  // its real start is unknown
  EXPECT_EQ(f->last_seen, 900);
}

TEST(LiveTable, UnacceptedConnectionGoesToTheListener) {
  ScanResult scan;
  Socket l;
  l.proto = Proto::tcp;
  l.family = Family::ipv4;
  l.local = {"0.0.0.0", 8080};
  l.state = SockState::listen;
  l.netns = kNs;
  l.owners.push_back({30, "nginx", 3});
  scan.sockets.push_back(l);
  LiveTable t;
  t.seed(scan);
  // Kernel knew of no owner (listener older than the trace).
  auto cl = tcp(EventKind::close, "127.0.0.1", 8080, "127.0.0.1", 50000, 0, "", Attribution::listener, 700);
  cl.start = 600;
  const Flow* f = t.apply(cl);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->pid, 30);
  EXPECT_EQ(f->comm, "nginx");
  EXPECT_EQ(f->attribution, Attribution::listener);
  EXPECT_EQ(f->direction, Direction::inbound);
  EXPECT_EQ(*f->duration_ns, 100);
}

TEST(LiveTable, OwnerlessCloseIsUnknownAndSaysSo) {
  LiveTable t;
  auto cl = tcp(EventKind::close, "127.0.0.1", 50000, "127.0.0.1", 9, 0, "", Attribution::none, 700);
  const Flow* f = t.apply(cl);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->attribution, Attribution::unknown);
  EXPECT_EQ(f->pid, 0);
  EXPECT_EQ(f->direction, Direction::outbound);
}

TEST(LiveTable, ListenEventsTeachListenerOwners) {
  LiveTable t;
  auto l = tcp(EventKind::listen, "0.0.0.0", 9000, "0.0.0.0", 0, 40, "srv", Attribution::bind, 10);
  EXPECT_EQ(t.apply(l), nullptr);
  ASSERT_EQ(t.traced_listeners().size(), 1u);
  auto cl = tcp(EventKind::close, "127.0.0.1", 9000, "127.0.0.1", 50001, 0, "", Attribution::none, 20);
  const Flow* f = t.apply(cl);
  EXPECT_EQ(f->pid, 40);
  EXPECT_EQ(f->attribution, Attribution::listener);
}

TEST(LiveTable, ExecRenamesLiveFlowsExitKeepsThem) {
  LiveTable t;
  t.apply(tcp(EventKind::connect, "127.0.0.1", 40000, "127.0.0.1", 80, 10, "sh", Attribution::connect, 1));
  TraceEvent ex;
  ex.kind = EventKind::exec;
  ex.pid = 10;
  ex.comm = "curl";
  t.apply(ex);
  ASSERT_EQ(t.flows().size(), 1u);
  EXPECT_EQ(t.flows()[0].comm, "curl");
  EXPECT_EQ(t.processes().at(10).process.comm, "curl");
  TraceEvent gone;
  gone.kind = EventKind::exit;
  gone.pid = 10;
  t.apply(gone);
  EXPECT_TRUE(t.processes().at(10).exited);
  // The kernel closes the socket later, with no process around.
  const Flow* f =
      t.apply(tcp(EventKind::close, "127.0.0.1", 40000, "127.0.0.1", 80, 10, "sh", Attribution::connect, 9));
  EXPECT_EQ(f->pid, 10);
  EXPECT_EQ(f->comm, "curl");
}

TEST(LiveTable, UdpFlowsAreOnePerSocketWhoeverOwnsIt) {
  LiveTable t;
  TraceEvent u;
  u.kind = EventKind::udp;
  u.time = 10;
  u.start = 10;
  u.sk = 77;  // the socket's cookie
  u.proto = Proto::udp;
  u.family = Family::ipv4;
  u.local = {"0.0.0.0", 5353};
  u.remote = {"127.0.0.1", 53};
  u.netns = kNs;
  u.pid = 5;
  u.comm = "dig";
  u.attribution = Attribution::udp_send;
  const Flow* f = t.apply(u);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->packets, 1u);
  EXPECT_EQ(f->direction, Direction::outbound);
  u.sk = 78;  // another socket, same tuple: another flow
  u.pid = 6;
  t.apply(u);
  EXPECT_EQ(t.live_count(), 2u);

  UdpCount c;
  c.key.sock = 77;
  c.key.proto = Proto::udp;
  c.key.local = {"0.0.0.0", 5353};
  c.key.remote = {"127.0.0.1", 53};
  c.pid = 5;
  c.netns = kNs;
  c.family = Family::ipv4;
  c.comm = "dig";
  c.attribution = Attribution::udp_send;
  c.first_seen = 10;
  c.last_seen = 90;
  c.sent = 3;
  c.received = 3;
  f = t.apply(c);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->packets, 6u);
  EXPECT_EQ(f->last_seen, 90);
  EXPECT_EQ(f->pid, 5);
  EXPECT_EQ(t.live_count(), 2u);
}

// A UDP server older than the trace (dnsmasq): its first datagram from a new client comes
// before the server used the socket in process context, so the kernel knows no owner. The
// scan's owner of that socket (by cookie) takes it, and the reply is the same flow.
TEST(LiveTable, UdpToASocketOlderThanTheTraceTakesTheScanOwner) {
  LiveTable t;
  ScanResult scan;
  Socket s;
  s.proto = Proto::udp;
  s.family = Family::ipv4;
  s.local = {"127.0.0.1", 5353};
  s.state = SockState::unconn;
  s.netns = kNs;
  s.cookie = 4242;
  s.owners.push_back({700, "dnsmasq", 4});
  scan.sockets.push_back(s);
  t.seed(scan);

  TraceEvent q;
  q.kind = EventKind::udp;
  q.time = 10;
  q.start = 10;
  q.sk = 4242;
  q.proto = Proto::udp;
  q.family = Family::ipv4;
  q.local = {"127.0.0.1", 5353};
  q.remote = {"127.0.0.1", 40000};
  q.attribution = Attribution::udp_recv;  // pid 0, netns 0: no owner known in the kernel
  const Flow* f = t.apply(q);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->pid, 700);
  EXPECT_EQ(f->comm, "dnsmasq");
  EXPECT_EQ(f->netns, kNs);
  EXPECT_EQ(f->attribution, Attribution::scan);
  EXPECT_EQ(f->direction, Direction::inbound);

  UdpCount reply;  // the kernel learnt the owner at its recvmsg: one flow still
  reply.key.sock = 4242;
  reply.key.proto = Proto::udp;
  reply.key.local = q.local;
  reply.key.remote = q.remote;
  reply.pid = 700;
  reply.netns = kNs;
  reply.comm = "dnsmasq";
  reply.attribution = Attribution::udp_recv;
  reply.first_seen = 10;
  reply.last_seen = 20;
  reply.sent = 1;
  reply.received = 1;
  f = t.apply(reply);
  ASSERT_TRUE(f);
  EXPECT_EQ(t.live_count(), 1u);
  EXPECT_EQ(f->packets, 2u);
  EXPECT_EQ(f->pid, 700);

  q.sk = 999;  // a socket nobody knows: pid 0 until the kernel learns its owner
  q.remote = {"127.0.0.1", 40001};
  f = t.apply(q);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->attribution, Attribution::unknown);
  UdpCount later = reply;
  later.key.sock = 999;
  later.key.remote = q.remote;
  later.pid = 701;
  later.comm = "socat";
  f = t.apply(later);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->pid, 701);
  EXPECT_EQ(f->netns, kNs);
  EXPECT_EQ(f->attribution, Attribution::udp_recv);
  EXPECT_EQ(t.live_count(), 2u);
}

// A server that answers by connect()ing to a peer that spoke first (iperf3 -u): the kernel
// folds the first datagrams into the connected flow and flags it inbound.
TEST(LiveTable, ConnectedUdpServerIsInbound) {
  LiveTable t;
  TraceEvent c;
  c.kind = EventKind::connect;
  c.time = 10;
  c.start = 10;
  c.sk = 5;
  c.proto = Proto::udp;
  c.family = Family::ipv4;
  c.local = {"127.0.0.1", 5201};
  c.remote = {"127.0.0.1", 40000};
  c.netns = kNs;
  c.pid = 9;
  c.comm = "iperf3";
  c.attribution = Attribution::connect;
  c.inbound = true;
  const Flow* f = t.apply(c);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->direction, Direction::inbound);
  c.inbound = false;
  c.sk = 6;
  c.local.port = 40001;
  c.remote.port = 5201;
  f = t.apply(c);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->direction, Direction::outbound);
}

// PostgreSQL: the postmaster accepts, forks a backend, closes its copy; the backend serves
// and closes. The close (inside the backend's close()) names the backend.
TEST(LiveTable, HandedOffConnectionEndsOnTheProcessThatServedIt) {
  for (bool streaming : {false, true}) {
    LiveTable t;
    t.set_streaming(streaming);
    if (streaming) {
      auto a = tcp(EventKind::accept, "127.0.0.1", 5432, "127.0.0.1", 40000, 300, "postgres",
                   Attribution::accept, 1000);
      a.start = 900;
      ASSERT_TRUE(t.apply(a));
    }
    auto cl = tcp(EventKind::close, "127.0.0.1", 5432, "127.0.0.1", 40000, 301, "postgres",
                  Attribution::handoff, 2000);
    cl.start = 900;
    cl.prev_pid = 300;
    cl.prev_comm = "postgres";
    cl.prev_attribution = Attribution::accept;
    const Flow* f = t.apply(cl);
    ASSERT_TRUE(f) << streaming;
    EXPECT_EQ(f->pid, 301) << streaming;
    EXPECT_EQ(f->attribution, Attribution::handoff) << streaming;
    EXPECT_EQ(f->direction, Direction::inbound) << streaming;
    ASSERT_TRUE(f->handed_from) << streaming;
    EXPECT_EQ(f->handed_from->pid, 300) << streaming;
    EXPECT_EQ(f->state, SockState::closed) << streaming;
    EXPECT_EQ(*f->duration_ns, 1100) << streaming;
  }
}

TEST(LiveTable, BoundedAndCountsWhatItRefused) {
  LiveTable t(2);
  t.apply(tcp(EventKind::connect, "127.0.0.1", 1, "127.0.0.1", 80, 1, "a", Attribution::connect, 1));
  t.apply(tcp(EventKind::connect, "127.0.0.1", 2, "127.0.0.1", 80, 1, "a", Attribution::connect, 1));
  EXPECT_EQ(t.apply(tcp(EventKind::connect, "127.0.0.1", 3, "127.0.0.1", 80, 1, "a", Attribution::connect, 1)),
            nullptr);
  EXPECT_EQ(t.refused(), 1u);
  EXPECT_EQ(t.live_count(), 2u);
}

TEST(LiveTable, ProcessesWithoutFlowsAreForgottenAtExit) {
  LiveTable t;
  TraceEvent fork;
  fork.kind = EventKind::fork;
  fork.pid = 50;
  fork.ppid = 1;
  fork.comm = "sh";
  t.apply(fork);
  EXPECT_EQ(t.processes().count(50), 1u);
  TraceEvent gone;
  gone.kind = EventKind::exit;
  gone.pid = 50;
  t.apply(gone);
  EXPECT_EQ(t.processes().count(50), 0u);
}

TEST(LiveTable, RepeatedKernelReportAfterCloseDoesNotReopenTheFlow) {
  LiveTable t;
  auto c = tcp(EventKind::connect, "127.0.0.1", 40000, "127.0.0.1", 80, 10, "curl", Attribution::connect, 2000);
  c.start = 1000;
  c.sk = 0xffff0001;
  auto x = c;
  x.kind = EventKind::close;
  x.time = 3000;
  ASSERT_TRUE(t.apply(c));
  ASSERT_TRUE(t.apply(x));
  EXPECT_EQ(t.apply(c), nullptr);  // the same connect reported again, after its close
  EXPECT_EQ(t.apply(x), nullptr);
  auto bare = x;  // a repeated close whose first copy took the kernel's record: no owner, no start
  bare.start.reset();
  bare.pid = 0;
  EXPECT_EQ(t.apply(bare), nullptr);
  EXPECT_EQ(t.live_count(), 0u);
  EXPECT_EQ(t.closed_count(), 1u);
  EXPECT_EQ(t.duplicates(), 3u);
  // A later connection on the same 4-tuple and even the same sk is another flow.
  auto next = c;
  next.start = 5000;
  next.time = 5100;
  ASSERT_TRUE(t.apply(next));
  EXPECT_EQ(t.live_count(), 1u);
}

TEST(LiveTable, ACloseWithAnotherStartEndsTheOpenFlowOfItsFourTupleAndCountsIt) {
  // A capture gets no connect events: the old connection (its close never reported) shows up
  // as a stale record's connect, the next one on the same 4-tuple only as its close.
  LiveTable t;
  auto stale = tcp(EventKind::connect, "127.0.0.1", 40000, "127.0.0.1", 80, 10, "curl", Attribution::connect, 2000);
  stale.start = 1000;
  stale.sk = 0xffff0001;
  ASSERT_TRUE(t.apply(stale));
  auto x = stale;
  x.kind = EventKind::close;
  x.start = 9000;
  x.time = 9500;
  const Flow* f = t.apply(x);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->first_seen, 9000);
  ASSERT_TRUE(f->duration_ns);
  EXPECT_EQ(*f->duration_ns, 500);
  EXPECT_EQ(t.closes_not_reported(), 1u);
  EXPECT_EQ(t.live_count(), 0u);
  auto flows = t.flows();
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[0].first_seen, 1000);
  EXPECT_FALSE(flows[0].duration_ns);
  // Its own close (the same start) ends a flow as usual, nothing counted.
  LiveTable u;
  ASSERT_TRUE(u.apply(stale));
  auto own = stale;
  own.kind = EventKind::close;
  own.time = 3000;
  f = u.apply(own);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->first_seen, 1000);
  EXPECT_EQ(u.closes_not_reported(), 0u);
}

TEST(LiveTable, NewConnectionOnAFourTupleStillOpenEndsTheOldOneAndCountsIt) {
  // The kernel never reported the first connection's close; the next connection on the same
  // 4-tuple (another start) must not merge into it.
  LiveTable t;
  auto c1 = tcp(EventKind::connect, "127.0.0.1", 40000, "127.0.0.1", 80, 10, "curl", Attribution::connect, 2000);
  c1.start = 1000;
  c1.sk = 0xffff0001;
  ASSERT_TRUE(t.apply(c1));
  auto again = c1;  // the same connection reported twice: not a new one
  again.time = 2050;
  ASSERT_TRUE(t.apply(again));
  EXPECT_EQ(t.closes_not_reported(), 0u);
  auto c2 = c1;
  c2.start = 9000;
  c2.time = 9100;
  const Flow* f = t.apply(c2);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->first_seen, 9000);
  EXPECT_EQ(t.closes_not_reported(), 1u);
  EXPECT_EQ(t.live_count(), 1u);
  ASSERT_EQ(t.closed_count(), 1u);
  auto flows = t.flows();
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[0].first_seen, 1000);
  EXPECT_EQ(flows[0].state, SockState::closed);
  EXPECT_FALSE(flows[0].duration_ns);  // when it ended is unknown
  auto x2 = c2;
  x2.kind = EventKind::close;
  x2.time = 9500;
  f = t.apply(x2);
  ASSERT_TRUE(f);
  EXPECT_EQ(*f->duration_ns, 500);
  // A scan flow has no kernel start to compare: a traced connect takes it over as before.
  LiveTable s;
  ScanResult scan;
  scan.flows.push_back(scan_flow(40000, 80, 10, "curl"));
  s.seed(scan);
  ASSERT_TRUE(s.apply(c1));
  EXPECT_EQ(s.closes_not_reported(), 0u);
  EXPECT_EQ(s.live_count(), 1u);
}

TEST(LiveTable, StreamingForgetsExitedProcessesOnceTheirFlowsClosed) {
  // A capture keeps every process of its flows; a stream writes as it goes and must stay
  // bounded under process churn.
  for (bool streaming : {false, true}) {
    LiveTable t;
    t.set_streaming(streaming);
    auto c = tcp(EventKind::connect, "127.0.0.1", 40000, "127.0.0.1", 80, 10, "curl", Attribution::connect, 2000);
    c.start = 1000;
    ASSERT_TRUE(t.apply(c));
    TraceEvent exit_ev;
    exit_ev.kind = EventKind::exit;
    exit_ev.pid = 10;
    exit_ev.comm = "curl";
    exit_ev.time = 2500;
    t.apply(exit_ev);
    EXPECT_EQ(t.processes().count(10), 1u) << "its flow is still open";
    auto x = c;
    x.kind = EventKind::close;
    x.time = 3000;
    const Flow* f = t.apply(x);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->pid, 10);  // the flow keeps its owner either way
    EXPECT_EQ(t.processes().count(10), streaming ? 0u : 1u);
    TraceEvent listen_ev = c;
    listen_ev.kind = EventKind::listen;
    listen_ev.pid = 11;
    t.apply(listen_ev);
    EXPECT_EQ(t.traced_listeners().size(), streaming ? 0u : 1u);
  }
}

// The kernel hands an exited process's pid to a new one: the old process's flow still open
// keeps its name through the new process's exec, and the pid's details are the new one's.
TEST(LiveTable, ReusedPidDoesNotInheritAnotherProcessesFlows) {
  LiveTable t;
  auto c = tcp(EventKind::connect, "127.0.0.1", 40000, "127.0.0.1", 80, 10, "alpha", Attribution::connect, 100);
  c.start = 100;
  ASSERT_TRUE(t.apply(c));
  TraceEvent gone;
  gone.kind = EventKind::exit;
  gone.pid = 10;
  gone.time = 150;
  t.apply(gone);  // its socket lives on (passed on, or closed by the kernel later)
  TraceEvent fork;
  fork.kind = EventKind::fork;
  fork.pid = 10;
  fork.ppid = 1;
  fork.comm = "sh";
  fork.time = 200;
  t.apply(fork);
  TraceEvent ex;
  ex.kind = EventKind::exec;
  ex.pid = 10;
  ex.comm = "beta";
  ex.time = 210;
  t.apply(ex);
  auto n = tcp(EventKind::connect, "127.0.0.1", 40001, "127.0.0.1", 80, 10, "beta", Attribution::connect, 300);
  n.start = 300;
  ASSERT_TRUE(t.apply(n));

  std::map<uint32_t, std::string> comm_by_port;
  for (const auto& f : t.flows()) comm_by_port[f.local.port] = f.comm;
  EXPECT_EQ(comm_by_port[40000], "alpha");
  EXPECT_EQ(comm_by_port[40001], "beta");
  const auto& p = t.processes().at(10);
  EXPECT_EQ(p.process.comm, "beta");
  EXPECT_EQ(p.process.ppid, 1);
  EXPECT_FALSE(p.exited);
  EXPECT_EQ(t.pids_reused(), 1u);

  // The old flow's close, reported with the pid but no process behind it, keeps the old name.
  auto x = tcp(EventKind::close, "127.0.0.1", 40000, "127.0.0.1", 80, 10, "alpha", Attribution::connect, 400);
  x.start = 100;
  const Flow* f = t.apply(x);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->comm, "alpha");
}

// The served process exits before the connection's close reaches the table (the exit is in
// the ring before the close's event): the flow still ends on it, by pid and name.
TEST(LiveTable, ServedProcessExitingBeforeTheCloseKeepsTheFlow) {
  for (bool streaming : {false, true}) {
    LiveTable t;
    t.set_streaming(streaming);
    auto a = tcp(EventKind::accept, "127.0.0.1", 5432, "127.0.0.1", 40000, 300, "postmaster",
                 Attribution::accept, 1000);
    a.start = 900;
    ASSERT_TRUE(t.apply(a));
    TraceEvent fork;
    fork.kind = EventKind::fork;
    fork.pid = 301;
    fork.ppid = 300;
    fork.comm = "backend";
    fork.time = 1100;
    t.apply(fork);
    TraceEvent gone;
    gone.kind = EventKind::exit;
    gone.pid = 301;
    gone.time = 1900;
    t.apply(gone);
    auto cl = tcp(EventKind::close, "127.0.0.1", 5432, "127.0.0.1", 40000, 301, "backend",
                  Attribution::handoff, 2000);
    cl.start = 900;
    cl.prev_pid = 300;
    cl.prev_comm = "postmaster";
    cl.prev_attribution = Attribution::accept;
    const Flow* f = t.apply(cl);
    ASSERT_TRUE(f) << streaming;
    EXPECT_EQ(f->pid, 301) << streaming;
    EXPECT_EQ(f->comm, "backend") << streaming;
    EXPECT_EQ(f->attribution, Attribution::handoff) << streaming;
    ASSERT_TRUE(f->handed_from) << streaming;
    EXPECT_EQ(f->handed_from->pid, 300) << streaming;
    EXPECT_EQ(f->handed_from->comm, "postmaster") << streaming;
    if (!streaming) {
      ASSERT_EQ(t.processes().count(301), 1u);  // the capture describes the served process
      EXPECT_EQ(t.processes().at(301).process.comm, "backend");
    }
  }
}

TEST(LiveTable, FlowsCarryTheirOwnersServiceAndAGoneChildItsParents) {
  LiveTable t;
  t.on_new_process = [](Process& p) {
    if (p.pid == 300) p.cgroup = "/system.slice/postgresql.service";
    if (p.pid == 10) p.cgroup = "/user.slice/user-1000.slice/session-2.scope";
    // 301: gone before /proc could be read, cgroup unknown.
  };
  auto a = tcp(EventKind::accept, "127.0.0.1", 5432, "127.0.0.1", 40000, 300, "postgres",
               Attribution::accept, 1000);
  const Flow* f = t.apply(a);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->service, "postgresql.service");
  f = t.apply(tcp(EventKind::connect, "127.0.0.1", 40000, "127.0.0.1", 5432, 10, "psql",
                  Attribution::connect, 1000));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->service, "session-2.scope");
  auto cl = tcp(EventKind::close, "127.0.0.1", 5432, "127.0.0.1", 40000, 301, "postgres",
                Attribution::handoff, 2000);
  cl.prev_pid = 300;
  cl.prev_comm = "postgres";
  cl.prev_attribution = Attribution::accept;
  cl.ppid = 300;
  f = t.apply(cl);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->pid, 301);
  EXPECT_EQ(f->service, "postgresql.service");
  // No cgroup and no known parent: no service.
  f = t.apply(tcp(EventKind::connect, "127.0.0.1", 40001, "127.0.0.1", 80, 77, "curl", Attribution::connect,
                  3000));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->service, "");
}
