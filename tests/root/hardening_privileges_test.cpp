// Once tracing, netviz-trace holds no capability it no longer needs (src/util/privileges.h):
// checked in /proc/PID/status of the running tracer, and it still traces and still writes
// its document afterwards, also into a directory root may only write through
// CAP_DAC_OVERRIDE.
#include <sys/stat.h>

#include "trace_test_util.h"

namespace {

struct ProcCaps {
  uint64_t eff = ~0ull, prm = ~0ull, inh = ~0ull, bnd = ~0ull, amb = ~0ull;
  int no_new_privs = -1;
};

ProcCaps proc_caps(pid_t pid) {
  ProcCaps c;
  for (const auto& l : nvt::split_lines(nvt::slurp("/proc/" + std::to_string(pid) + "/status"))) {
    auto val = [&](const char* k, uint64_t& into) {
      std::string key = std::string(k) + ":";
      if (l.rfind(key, 0) == 0) into = std::stoull(l.substr(key.size()), nullptr, 16);
    };
    val("CapEff", c.eff);
    val("CapPrm", c.prm);
    val("CapInh", c.inh);
    val("CapBnd", c.bnd);
    val("CapAmb", c.amb);
    if (l.rfind("NoNewPrivs:", 0) == 0) c.no_new_privs = std::stoi(l.substr(11));
  }
  return c;
}

constexpr uint64_t bit(int c) { return uint64_t{1} << c; }

// A few loopback connections made while tracing; returns the client ports and server port.
std::pair<std::vector<int>, int> some_connections(const nvt::TempDir& logs) {
  nvt::Peer server(logs, "server", {"tcp-server", "--port", "0", "--count", "3"});
  int port = server.wait_ready();
  nvt::Peer client(logs, "client", {"tcp-client", "--addr", "127.0.0.1", "--port",
                                    std::to_string(port), "--count", "3", "--print-ports"});
  auto lports = nvt::client_ports(client.finish(10));
  server.finish(10);
  return {lports, port};
}

TEST(HardeningPrivileges, StreamingTracerKeepsNoCapability) {
  nvt::TempDir logs;
  nvt::Tracer tracer(logs, {"--format", "json", "--duration", "60"});
  ProcCaps c = proc_caps(tracer.pid());
  EXPECT_EQ(c.eff, 0u);
  EXPECT_EQ(c.prm, 0u);
  EXPECT_EQ(c.inh, 0u);
  EXPECT_EQ(c.amb, 0u);
  EXPECT_EQ(c.bnd, 0u);
  EXPECT_EQ(c.no_new_privs, 1);
  // Still tracing: the connections made after the drop are on stdout.
  auto [lports, port] = some_connections(logs);
  nvt::sleep_s(0.5);
  ASSERT_EQ(tracer.stop(SIGINT), 0) << tracer.err_text();
  std::string out = tracer.child().out_text();
  for (int lp : lports)
    EXPECT_NE(out.find("\"port\":" + std::to_string(lp)), std::string::npos)
        << "client port " << lp << " missing from the stream";
  EXPECT_NE(out.find("\"event\":\"stats\""), std::string::npos) << "no stats line";
}

TEST(HardeningPrivileges, DocumentWriterKeepsOnlyDacOverride) {
  nvt::TempDir logs;
  // A directory of another user, 0755: root writes into it only through CAP_DAC_OVERRIDE.
  char tmpl[] = "/tmp/nvt-h-priv-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  struct RemoveAll {
    std::string path;
    ~RemoveAll() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } cleanup{dir};
  ASSERT_EQ(chown(dir.c_str(), 65534, 65534), 0);
  ASSERT_EQ(chmod(dir.c_str(), 0755), 0);
  std::string cap = dir + "/capture.json";
  {
    nvt::Tracer tracer(logs, {"--duration", "60", "-o", cap});
    ProcCaps c = proc_caps(tracer.pid());
    EXPECT_EQ(c.eff, bit(1)) << "expected CAP_DAC_OVERRIDE alone, CapEff " << std::hex << c.eff;
    EXPECT_EQ(c.prm, bit(1));
    EXPECT_EQ(c.bnd, bit(1));
    EXPECT_EQ(c.no_new_privs, 1);
    auto [lports, port] = some_connections(logs);
    nvt::sleep_s(0.5);
    EXPECT_EQ(tracer.stop(SIGTERM), 0) << tracer.err_text();
    auto doc = nvt::read_capture(cap);
    for (int lp : lports)
      EXPECT_EQ(nvt::flows_between(doc.cap, Proto::tcp, lp, port).size(), 1u) << "client port " << lp;
  }
}

}  // namespace
