// A traced unix connection's kernel record (struct nv_unix_conn) into a flow: one flow per
// connection, client end outbound, the listener's name as remote, the server as peer.
#include <gtest/gtest.h>

#include <cstring>

#include "netviz/events.h"
#include "trace/decoder.h"
#include "trace/live_table.h"

using namespace netviz;

namespace {

nv_unix_conn record(const char* path, size_t len) {
  nv_unix_conn c{};
  c.start_ns = 1'000'000'000;
  c.pid = 10;
  c.peer_pid = 20;
  c.netns = 4026531840u;
  c.type = 1;
  std::strcpy(c.comm, "psql");
  std::strcpy(c.peer_comm, "postgres");
  std::memcpy(c.path, path, len);
  c.path_len = static_cast<uint16_t>(len);
  return c;
}

}  // namespace

TEST(TraceUnix, RecordIsOneOutboundFlowWithItsPeer) {
  Decoder d(0);
  const char path[] = "/run/postgresql/.s.PGSQL.5432";  // the kernel keeps its NUL
  nv_unix_conn c = record(path, sizeof path);
  TraceEvent open = d.unix_connection(77, c, EventKind::connect, 1'500'000'000);
  EXPECT_EQ(open.proto, Proto::unix);
  EXPECT_EQ(open.family, Family::unix);
  EXPECT_EQ(open.remote.addr, "/run/postgresql/.s.PGSQL.5432");
  EXPECT_EQ(open.pid, 10);
  EXPECT_EQ(open.comm, "psql");
  ASSERT_TRUE(open.peer.has_value());
  EXPECT_EQ(open.peer->pid, 20);
  EXPECT_EQ(open.peer->comm, "postgres");

  LiveTable t;
  ASSERT_NE(t.apply(open), nullptr);
  const Flow* f = t.apply(d.unix_connection(77, c, EventKind::close, 3'000'000'000));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->direction, Direction::outbound);
  EXPECT_EQ(f->state, SockState::closed);
  EXPECT_EQ(f->duration_ns, 2'000'000'000);
  ASSERT_TRUE(f->peer.has_value());
  EXPECT_EQ(f->peer->pid, 20);
  auto all = t.flows();
  ASSERT_EQ(all.size(), 1u);  // the close ended the flow the connect opened
  EXPECT_EQ(all[0].remote->addr, "/run/postgresql/.s.PGSQL.5432");
}

TEST(TraceUnix, AbstractNameAndTwoConnectionsOnOnePath) {
  Decoder d(0);
  const char name[] = "\0bus\0x";  // abstract: every NUL shows as '@'
  nv_unix_conn c = record(name, sizeof name - 1);
  EXPECT_EQ(d.unix_connection(1, c, EventKind::connect, 2).remote.addr, "@bus@x");
  LiveTable t;
  t.apply(d.unix_connection(1, c, EventKind::connect, 2));
  t.apply(d.unix_connection(2, c, EventKind::connect, 2));  // another client socket
  EXPECT_EQ(t.live_count(), 2u);
}
