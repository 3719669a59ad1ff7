// A capture (-o) gets no connect or accept events from the kernel: each close carries the
// owner record instead. Connections opened while tracing and still open when it stops come
// from those records, read at the end: the client's (connect, with its latency), the
// worker's that accepted it, and one still waiting in the accept queue (the listener's).
#include "trace_test_util.h"

namespace {

TEST(TraceOpenAtEnd, StillOpenConnectionsComeFromTheKernelRecords) {
  nvt::TempDir dir;
  constexpr int kAccepted = 10, kQueued = 1;
  std::string cap = dir.file("capture.json");
  nvt::Tracer tracer(dir, {"--duration", "60", "-o", cap});
  nvt::Peer server(dir, "server",
                   {"tcp-server", "--port", "0", "--count", std::to_string(kAccepted), "--hold",
                    "--print-ports", "--comm", "nvt_oe_srv", "--timeout", "20"});
  int port = server.wait_ready();
  nvt::Peer holder(dir, "holder",
                   {"hold", "--port", std::to_string(port), "--count", std::to_string(kAccepted),
                    "--print-ports", "--comm", "nvt_oe_cli", "--timeout", "20"});
  holder.wait_records("held", 1, 10);
  server.wait_records("accept", kAccepted, 10);
  // The server accepts no more: this one stays in its queue, established.
  nvt::Peer queued(dir, "queued",
                   {"hold", "--port", std::to_string(port), "--count", std::to_string(kQueued),
                    "--print-ports", "--comm", "nvt_oe_que", "--timeout", "20"});
  queued.wait_records("held", 1, 10);
  auto lports = nvt::client_ports(holder.records());
  auto qports = nvt::client_ports(queued.records());
  ASSERT_EQ(lports.size(), static_cast<size_t>(kAccepted));
  ASSERT_EQ(qports.size(), static_cast<size_t>(kQueued));
  ASSERT_EQ(tracer.stop(SIGINT), 0) << tracer.err_text();
  ASSERT_FALSE(holder.child().exited()) << "the connections were held throughout";
  auto doc = nvt::read_capture(cap);
  EXPECT_EQ(doc.cap.stats.lost_events, 0u);

  nvt::Ends e;
  e.server_port = port;
  e.client_ports = lports;
  e.client_pid = holder.pid();
  e.client_comm = "nvt_oe_cli";
  e.server_pid_of = [&](int) { return server.pid(); };
  e.server_comm = "nvt_oe_srv";
  auto r = nvt::check_tcp_ends(doc.cap, e);
  EXPECT_EQ(r.client_ok, static_cast<size_t>(kAccepted)) << nvt::join(r.problems);
  EXPECT_EQ(r.server_ok, static_cast<size_t>(kAccepted)) << nvt::join(r.problems);
  for (int lp : lports) {
    auto out = nvt::flows_between(doc.cap, Proto::tcp, lp, port);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0]->state, SockState::established) << nvt::flow_str(*out[0]);
    EXPECT_FALSE(out[0]->duration_ns) << nvt::flow_str(*out[0]);
    EXPECT_TRUE(out[0]->connect_latency_ns) << nvt::flow_str(*out[0]);
  }
  // Never accepted: the server end belongs to the listener's owner.
  auto in = nvt::flows_between(doc.cap, Proto::tcp, port, qports[0]);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0]->pid, server.pid()) << nvt::flow_str(*in[0]);
  EXPECT_EQ(in[0]->attribution, Attribution::listener) << nvt::flow_str(*in[0]);
  EXPECT_EQ(in[0]->direction, Direction::inbound) << nvt::flow_str(*in[0]);
  auto out = nvt::flows_between(doc.cap, Proto::tcp, qports[0], port);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]->comm, "nvt_oe_que") << nvt::flow_str(*out[0]);
}

}  // namespace
