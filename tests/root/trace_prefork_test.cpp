// A prefork server: the parent listens, workers accept. The server end of each connection
// belongs to the worker that accepted it, never to the parent.
#include "trace_test_util.h"

namespace {

TEST(TracePrefork, AcceptingWorkerOwnsTheServerEnd) {
  nvt::TempDir dir;
  constexpr int kCount = 400;
  auto s = nvt::traced_storm(dir, "127.0.0.1", kCount, "nvt_pf_cli", "nvt_pf_srv",
                             {"--send", "64"}, {"--workers", "4", "--reply"});
  std::map<int, pid_t> worker_of;  // client port -> accepting worker
  std::set<pid_t> workers;
  for (const auto& w : nvt::records_of(s.server_records, "worker")) workers.insert(w.num("pid"));
  auto accepts = nvt::records_of(s.server_records, "accept");
  for (const auto& a : accepts)
    worker_of[static_cast<int>(a.num("rport"))] = static_cast<pid_t>(a.num("pid"));
  ASSERT_EQ(workers.size(), 4u);
  ASSERT_EQ(accepts.size(), static_cast<size_t>(kCount));
  ASSERT_FALSE(workers.count(s.server_pid));
  EXPECT_EQ(s.doc.cap.stats.lost_events, 0u) << s.tracer_stderr;

  nvt::Ends e;
  e.server_port = s.port;
  e.client_ports = s.lports;
  e.client_pid = s.client_pid;
  e.client_comm = "nvt_pf_cli";
  e.server_pid_of = [&](int lport) { return worker_of.at(lport); };
  e.server_comm = "nvt_pf_srv";
  auto r = nvt::check_tcp_ends(s.doc.cap, e);
  EXPECT_EQ(r.client_ok, static_cast<size_t>(kCount)) << nvt::join(r.problems);
  EXPECT_EQ(r.server_ok, static_cast<size_t>(kCount)) << nvt::join(r.problems);
  for (const auto& f : s.doc.cap.flows) {
    if (f.local.port == static_cast<uint32_t>(s.port) && f.remote) {
      EXPECT_NE(f.pid, s.server_pid) << "the listening parent never accepted: " << nvt::flow_str(f);
    }
  }

  // Each side sent 64 bytes and received 64: the byte counts are per flow.
  size_t with_bytes = 0;
  for (const auto& f : s.doc.cap.flows)
    if (f.proto == Proto::tcp && f.remote && (f.local.port == static_cast<uint32_t>(s.port) ||
                                         f.remote->port == static_cast<uint32_t>(s.port)))
      if (f.bytes_sent == 64 && f.bytes_received == 64) ++with_bytes;
  EXPECT_EQ(with_bytes, static_cast<size_t>(2 * kCount)) << "flows with 64 bytes each way";
}

}  // namespace
