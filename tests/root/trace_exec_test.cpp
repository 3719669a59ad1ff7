// A process that execs keeps its pid and takes the new comm: its connections before the exec
// carry the old comm, those after it the new one, and the stream shows the exec event.
#include <cerrno>
#include <cstring>

#include "trace_test_util.h"

namespace {

TEST(TraceExec, ExecKeepsPidAndTakesNewComm) {
  nvt::TempDir dir;
  constexpr int kCount = 20;
  nvt::Tracer tracer(dir, {"--duration", "60", "--format", "json"}, /*pipe_stdout=*/true);
  nvt::Peer server(dir, "server",
                   {"tcp-server", "--port", "0", "--count", std::to_string(2 * kCount),
                    "--comm", "nvt_ec_srv", "--timeout", "30"});
  int port = server.wait_ready();
  // The server closes first (--wait-close): each client socket is fully closed when close()
  // returns, so the flows before the exec are over before it (the table renames flows
  // still open at an exec).
  // kCount connections as nvt_ec_old, then exec (same pid) of nv_peer through a link named
  // nvt_ec_new, which the kernel makes its comm, and kCount more connections.
  std::string link = dir.file("nvt_ec_new");
  ASSERT_EQ(symlink(nvt::peer_bin(), link.c_str()), 0) << strerror(errno);
  nvt::Peer client(dir, "client",
                   {"tcp-client", "--port", std::to_string(port), "--count",
                    std::to_string(kCount), "--print-ports", "--comm", "nvt_ec_old",
                    "--exec", link, "--wait-close", "--timeout", "20"});
  auto crecs = client.finish(25);
  server.finish(20);
  std::map<int, std::string> comm_of;  // client port -> the comm it was made under
  std::string comm = "nvt_ec_old";
  size_t execs = 0;
  for (const auto& r : crecs) {
    if (r.what == "exec") {
      ASSERT_EQ(r.num("pid"), client.pid()) << "nv_peer changed pid across exec";
      comm = "nvt_ec_new";
      ++execs;
    } else if (r.what == "conn") {
      ASSERT_EQ(r.num("pid"), client.pid());
      comm_of[static_cast<int>(r.num("lport"))] = comm;
    }
  }
  ASSERT_EQ(execs, 1u);
  ASSERT_EQ(comm_of.size(), static_cast<size_t>(2 * kCount)) << "client ports reused";
  nvt::sleep_s(0.3);
  ASSERT_EQ(tracer.stop(SIGINT), 0) << tracer.err_text();

  std::vector<std::string> texts;
  for (const auto& l : tracer.child().lines()) texts.push_back(l.text);
  auto parsed = nvt::parse_stream(texts, "stdout");
  ASSERT_FALSE(parsed.empty());
  ASSERT_EQ(parsed.back().kind, netviz::StreamLine::Kind::stats) << texts.back();
  EXPECT_EQ(parsed.back().stats.lost_events, 0u);

  // Each client connection: a connect and a close line, pid unchanged, comm of its time.
  std::map<int, int> connect_ok, close_ok;
  std::vector<std::string> problems;
  for (const auto& p : parsed) {
    if (p.kind != netviz::StreamLine::Kind::flow || p.flow.proto != Proto::tcp || !p.flow.remote ||
        p.flow.remote->port != static_cast<uint32_t>(port))
      continue;
    auto it = comm_of.find(static_cast<int>(p.flow.local.port));
    if (it == comm_of.end()) continue;
    bool ok = p.flow.pid == client.pid() && p.flow.comm == it->second &&
              p.flow.attribution == Attribution::connect;
    if (!ok && problems.size() < 10)
      problems.push_back(p.event + ": expected pid " + std::to_string(client.pid()) + " comm " +
                         it->second + ", got " + nvt::flow_str(p.flow));
    if (ok && p.event == "connect") ++connect_ok[it->first];
    if (ok && p.event == "close") ++close_ok[it->first];
  }
  EXPECT_EQ(connect_ok.size(), comm_of.size()) << nvt::join(problems);
  EXPECT_EQ(close_ok.size(), comm_of.size()) << nvt::join(problems);

  // The exec events of the client's pid: the test's own exec of nv_peer, then nvt_ec_new.
  std::vector<std::string> exec_comms;
  for (const auto& t : texts) {
    auto j = nlohmann::json::parse(t, nullptr, false);
    if (j.is_discarded() || j.value("event", "") != "exec") continue;
    if (j.value("pid", 0) == client.pid()) exec_comms.push_back(j.value("comm", ""));
  }
  ASSERT_FALSE(exec_comms.empty()) << "no exec line for the client's pid";
  EXPECT_EQ(exec_comms.back(), "nvt_ec_new") << "the last exec line of the client's pid";
  EXPECT_LE(exec_comms.size(), 2u);
}

}  // namespace
