// JSON lines on a pipe while tracing: the host line first, a connection's events within a
// couple of seconds of the connection (while the tracer still runs), a stats line last.
#include "trace_test_util.h"

namespace {

TEST(TraceStream, JsonLinesArriveWhileTracing) {
  nvt::TempDir dir;
  nvt::Tracer tracer(dir, {"--duration", "60"}, /*pipe_stdout=*/true);
  ASSERT_TRUE(nvt::wait_until([&] { return !tracer.child().lines().empty(); }, 5))
      << "no line on stdout after the tracing line";
  auto first = nlohmann::json::parse(tracer.child().lines()[0].text);
  EXPECT_EQ(first.value("event", ""), "host") << first.dump();

  nvt::Peer server(dir, "server",
                   {"tcp-server", "--port", "0", "--count", "1", "--comm", "nvt_js_srv"});
  int port = server.wait_ready();
  nvt::Peer client(dir, "client",
                   {"tcp-client", "--port", std::to_string(port), "--count", "1",
                    "--print-ports", "--comm", "nvt_js_cli"});
  auto lports = nvt::client_ports(client.finish(10));
  double made = nvt::mono_now();
  ASSERT_EQ(lports.size(), 1u);
  const int lport = lports[0];

  // The client's connect event, and the server's accept event, on the pipe.
  auto seen = [&](const std::string& event, int local, int remote) -> std::optional<double> {
    const std::string tag = "\"" + event + "\"";
    for (const auto& l : tracer.child().lines()) {
      if (l.text.find(tag) == std::string::npos) continue;  // the scan's lines may be many
      auto j = nlohmann::json::parse(l.text, nullptr, false);
      if (j.is_discarded() || j.value("event", "") != event) continue;
      if (!j.contains("local") || !j["local"].is_object() || !j.contains("remote") ||
          !j["remote"].is_object())
        continue;
      if (j["local"].value("port", -1) == local && j["remote"].value("port", -1) == remote)
        return l.at;
    }
    return std::nullopt;
  };
  std::optional<double> connect_at, accept_at;
  nvt::wait_until(
      [&] {
        connect_at = seen("connect", lport, port);
        accept_at = seen("accept", port, lport);
        return connect_at && accept_at;
      },
      2.0);
  bool running = !tracer.child().exited();
  server.finish(10);
  ASSERT_TRUE(connect_at) << "no connect event for local port " << lport << " within 2 s";
  EXPECT_LT(*connect_at - made, 2.0);
  ASSERT_TRUE(accept_at) << "no accept event for the server end within 2 s";
  EXPECT_TRUE(running) << "the tracer must still be running: lines flow before it exits";

  ASSERT_EQ(tracer.stop(SIGINT), 0) << tracer.err_text();
  std::vector<std::string> texts;
  for (const auto& l : tracer.child().lines()) texts.push_back(l.text);
  auto parsed = nvt::parse_stream(texts, "stdout");  // every line valid
  ASSERT_FALSE(parsed.empty());
  EXPECT_EQ(parsed.front().kind, netviz::StreamLine::Kind::host);
  EXPECT_EQ(parsed.back().kind, netviz::StreamLine::Kind::stats) << texts.back();
  EXPECT_EQ(parsed.back().stats.lost_events, 0u);
  // The connect line carries the flow fields: pid and comm of the client.
  bool attributed = false;
  for (const auto& p : parsed)
    if (p.kind == netviz::StreamLine::Kind::flow && p.event == "connect" &&
        p.flow.local.port == static_cast<uint32_t>(lport))
      attributed = p.flow.pid == client.pid() && p.flow.comm == "nvt_js_cli" &&
                   p.flow.direction == Direction::outbound && p.flow.proto == Proto::tcp && p.flow.netns != 0;
  EXPECT_TRUE(attributed) << "connect line with the client's pid, comm, outbound, netns";
}

}  // namespace
