// SIGINT in the middle of a --duration run: a clean stop, exit 0, a complete and valid
// capture document holding what was traced so far.
#include "trace_test_util.h"

namespace {

TEST(TraceSignal, SigintMidRunWritesCompleteDocument) {
  nvt::TempDir dir;
  std::string cap = dir.file("capture.json");
  nvt::Tracer tracer(dir, {"--duration", "300", "-o", cap});
  nvt::Peer server(dir, "server",
                   {"tcp-server", "--port", "0", "--count", "20", "--comm", "nvt_sig_srv"});
  int port = server.wait_ready();
  nvt::Peer client(dir, "client",
                   {"tcp-client", "--port", std::to_string(port), "--count", "20",
                    "--print-ports", "--comm", "nvt_sig_cli"});
  auto lports = nvt::client_ports(client.finish(10));
  server.finish(10);
  EXPECT_FALSE(std::filesystem::exists(cap)) << "the document is written at the end";
  double t0 = nvt::mono_now();
  ASSERT_EQ(tracer.stop(SIGINT, 15), 0) << tracer.err_text();
  EXPECT_LT(nvt::mono_now() - t0, 10.0) << "a prompt stop";
  auto doc = nvt::read_capture(cap);  // a valid document, read by the project's reader
  EXPECT_FALSE(doc.cap.host.name.empty());
  EXPECT_EQ(doc.cap.stats.lost_events, 0u);
  ASSERT_TRUE(doc.raw.contains("flows") && doc.raw["flows"].is_array());
  for (int lp : lports) {
    auto f = nvt::flows_between(doc.cap, Proto::tcp, lp, port);
    ASSERT_EQ(f.size(), 1u) << "client port " << lp;
    EXPECT_EQ(f[0]->pid, client.pid());
  }
  // No temporary file left beside the document.
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    if (e.path().filename().string().find("capture") != std::string::npos) ++files;
  EXPECT_EQ(files, 1u);
}

TEST(TraceSignal, SigtermStopsCleanlyToo) {
  nvt::TempDir dir;
  std::string cap = dir.file("capture.json");
  nvt::Tracer tracer(dir, {"-o", cap});
  ASSERT_EQ(tracer.stop(SIGTERM, 15), 0) << tracer.err_text();
  nvt::read_capture(cap);
}

}  // namespace
