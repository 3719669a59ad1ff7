// Output safety of the real binaries run as root (issue 5): -o never follows a planted
// symlink and leaves no temporary file behind, --no-cmdline keeps command lines out,
// SIGINT/SIGTERM still write a complete document, a closed stdout pipe ends the tracer
// quietly, and kill -9 leaves no BPF program or link behind.
#include <sys/stat.h>

#include "trace_test_util.h"

namespace {

using nvt::fail;

std::vector<std::string> dir_entries(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string join_names(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
  return s;
}

// Regular file (not a link), mode 0600.
void expect_private_regular_file(const std::string& path) {
  struct stat st {};
  ASSERT_EQ(lstat(path.c_str(), &st), 0) << path << " missing";
  EXPECT_TRUE(S_ISREG(st.st_mode)) << path << " is not a regular file";
  EXPECT_EQ(st.st_mode & 07777, 0600u) << path << std::oct << " has mode " << (st.st_mode & 07777);
}

void write_file(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  chmod(path.c_str(), mode);
}

// Runs a command to the end with its output in dir; returns the exit code.
int run_to_end(const nvt::TempDir& logs, const std::string& name, std::vector<std::string> argv,
               double timeout_s = 60) {
  nvt::Child c(argv, logs.file(name + ".out"), logs.file(name + ".err"));
  return c.wait_or_fail(timeout_s);
}

// A symlink at the -o path (planted, or /dev/stdout) is refused, never followed nor
// replaced (src/util/atomic_file.h). The tracer must say so before it traces: a refusal at
// the end would throw away the whole run.
TEST(HardeningOutput, TraceRefusesPlantedSymlinkBeforeTracing) {
  nvt::TempDir dir, logs;
  std::string victim = dir.file("victim");
  write_file(victim, "precious\n", 0644);
  std::string out = dir.file("capture.json");
  ASSERT_EQ(symlink(victim.c_str(), out.c_str()), 0);
  // A dangling link too: following it would create a file elsewhere.
  std::string elsewhere = dir.file("created-through-link");
  std::string out2 = dir.file("capture2.json");
  ASSERT_EQ(symlink(elsewhere.c_str(), out2.c_str()), 0);

  struct Case {
    std::string what, path;
    std::vector<std::string> argv;
  };
  std::vector<Case> cases = {
      {"trace", out, {nvt::trace_bin(), "--duration", "10", "-o", out}},
      {"trace, dangling link", out2, {nvt::trace_bin(), "--duration", "10", "-o", out2}},
      {"snapshot", out, {nvt::trace_bin(), "--snapshot", "-o", out}},
  };
  for (const auto& c : cases) {
    double t0 = nvt::mono_now();
    EXPECT_EQ(run_to_end(logs, "t", c.argv), 2) << c.what << ": " << nvt::slurp(logs.file("t.err"));
    std::string err = nvt::slurp(logs.file("t.err"));
    EXPECT_EQ(err.find("netviz-trace: tracing"), std::string::npos)
        << c.what << ": refused only after tracing (the run would be lost): " << err;
    EXPECT_LT(nvt::mono_now() - t0, 8.0) << c.what << ": not refused before --duration ran out";
    EXPECT_NE(err.find(c.path), std::string::npos) << c.what << ": " << err;
    EXPECT_EQ(nvt::slurp(victim), "precious\n") << c.what << ": the link's target was written";
    EXPECT_FALSE(std::filesystem::exists(elsewhere)) << c.what << ": the dangling link was followed";
    EXPECT_TRUE(std::filesystem::is_symlink(c.path)) << c.what << ": the link was replaced";
    EXPECT_EQ(join_names(dir_entries(dir.path())), "capture.json capture2.json victim")
        << c.what << ": files left behind";
  }
}

TEST(HardeningOutput, StitchRefusesPlantedSymlink) {
  nvt::TempDir dir, logs;
  std::string fixtures = std::string(NETVIZ_SOURCE_DIR) + "/tests/fixtures/stitch/";
  std::string victim = dir.file("victim");
  write_file(victim, "precious\n", 0644);
  std::string out = dir.file("graph.dot");
  ASSERT_EQ(symlink(victim.c_str(), out.c_str()), 0);
  EXPECT_EQ(run_to_end(logs, "s", {NETVIZ_STITCH_BIN, fixtures + "web1.json",
                                   fixtures + "db1.json", "-o", out}),
            2)
      << nvt::slurp(logs.file("s.err"));
  EXPECT_EQ(nvt::slurp(victim), "precious\n") << "the link's target was written";
  EXPECT_TRUE(std::filesystem::is_symlink(out));
  EXPECT_EQ(join_names(dir_entries(dir.path())), "graph.dot victim");
  // A regular output: a new regular file, nobody but root may write it (graphs hold no
  // command lines and are written 0644 on purpose).
  std::string good = dir.file("graph.json");
  ASSERT_EQ(run_to_end(logs, "s2", {NETVIZ_STITCH_BIN, fixtures + "web1.json",
                                    fixtures + "db1.json", "--format", "json", "-o", good}),
            0)
      << nvt::slurp(logs.file("s2.err"));
  struct stat st {};
  ASSERT_EQ(lstat(good.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 022, 0u) << std::oct << (st.st_mode & 07777);
}

// The document of a normal run: a regular file, mode 0600, over an existing file too.
TEST(HardeningOutput, DocumentIsPrivateRegularFile) {
  nvt::TempDir dir, logs;
  std::string out = dir.file("capture.json");
  write_file(out, "old\n", 0644);
  ASSERT_EQ(run_to_end(logs, "t", {nvt::trace_bin(), "--duration", "1", "-o", out}), 0)
      << nvt::slurp(logs.file("t.err"));
  expect_private_regular_file(out);
  nvt::read_capture(out);
  EXPECT_EQ(join_names(dir_entries(dir.path())), "capture.json");
}

TEST(HardeningOutput, NoTemporaryFileLeftAfterFailures) {
  nvt::TempDir dir, logs;
  std::string out = dir.file("capture.json");
  std::string fixtures = std::string(NETVIZ_SOURCE_DIR) + "/tests/fixtures/stitch/";
  struct Case {
    const char* what;
    std::vector<std::string> argv;
  };
  std::vector<Case> cases = {
      {"bad option value", {nvt::trace_bin(), "--format", "nope", "-o", out}},
      {"unknown namespace",
       {nvt::trace_bin(), "--netns", "nvt-h-none-" + std::to_string(getpid()), "-o", out}},
      {"snapshot, unknown namespace",
       {nvt::trace_bin(), "--snapshot", "--netns", "nvt-h-none-" + std::to_string(getpid()), "-o",
        out}},
      {"stitch, bad input", {NETVIZ_STITCH_BIN, fixtures + "bad/truncated.json", "-o", out}},
      {"stitch, missing input", {NETVIZ_STITCH_BIN, dir.file("no-such-input.json"), "-o", out}},
  };
  for (const auto& c : cases) {
    int rc = run_to_end(logs, "case", c.argv);
    EXPECT_EQ(rc, 2) << c.what << ": " << nvt::slurp(logs.file("case.err"));
    auto err = nvt::split_lines(nvt::slurp(logs.file("case.err")));
    EXPECT_EQ(err.size(), 1u) << c.what << ": one line on stderr, got: "
                              << nvt::slurp(logs.file("case.err"));
    EXPECT_TRUE(dir_entries(dir.path()).empty())
        << c.what << ": left " << join_names(dir_entries(dir.path()));
  }
  // Into a directory that does not exist: an error naming the path, nothing created.
  std::string missing = dir.file("no/such/dir/out.json");
  EXPECT_EQ(run_to_end(logs, "nodir", {nvt::trace_bin(), "--snapshot", "-o", missing}), 2);
  EXPECT_NE(nvt::slurp(logs.file("nodir.err")).find(missing), std::string::npos)
      << nvt::slurp(logs.file("nodir.err"));
  EXPECT_TRUE(dir_entries(dir.path()).empty()) << join_names(dir_entries(dir.path()));

  // Killed while tracing: no document, no temporary file.
  {
    nvt::Tracer tracer(logs, {"--duration", "30", "-o", out});
    EXPECT_EQ(tracer.stop(SIGKILL), 128 + SIGKILL);
  }
  EXPECT_TRUE(dir_entries(dir.path()).empty()) << join_names(dir_entries(dir.path()));
}

// A listening process started before the tracer, its argv[0] a marker that can only reach
// the document through a command line.
class MarkedServer {
 public:
  MarkedServer(const nvt::TempDir& logs, const std::string& marker)
      : child_({"bash", "-c",
                std::string("exec -a ") + marker + " " + nvt::peer_bin() +
                    " tcp-server --port 0 --count 1000 --timeout 60 --comm nvt_h_marked"},
               logs.file("marked.out"), logs.file("marked.err")) {
    if (!nvt::wait_until([&] { return !nvt::records_of(nvt::peer_records(child_.out_text()), "ready").empty() || child_.exited(); }, 10))
      fail("marked server not ready: " + child_.err_text());
    if (child_.exited()) fail("marked server exited: " + child_.err_text());
  }

 private:
  nvt::Child child_;
};

TEST(HardeningOutput, NoCmdlineLeavesCommandLinesOut) {
  nvt::TempDir dir, logs;
  std::string marker = "nvt-secret-" + std::to_string(getpid());
  MarkedServer server(logs, marker);
  std::string with = dir.file("with.json"), without = dir.file("without.json");
  ASSERT_EQ(run_to_end(logs, "with", {nvt::trace_bin(), "--duration", "1", "-o", with}), 0)
      << nvt::slurp(logs.file("with.err"));
  ASSERT_EQ(run_to_end(logs, "without",
                       {nvt::trace_bin(), "--duration", "1", "--no-cmdline", "-o", without}),
            0)
      << nvt::slurp(logs.file("without.err"));
  // Without the option the marker is there: the check below can fail.
  EXPECT_NE(nvt::slurp(with).find(marker), std::string::npos)
      << "the marked server's command line is missing from the default document";
  EXPECT_EQ(nvt::slurp(without).find(marker), std::string::npos)
      << "--no-cmdline: a command line reached the document";
  auto doc = nvt::read_capture(without);
  ASSERT_TRUE(doc.raw.contains("processes"));
  for (const auto& p : doc.raw["processes"])
    EXPECT_FALSE(p.contains("cmdline")) << p.dump();
  // The same for the snapshot and for JSON lines.
  ASSERT_EQ(run_to_end(logs, "snap", {nvt::trace_bin(), "--snapshot", "--no-cmdline", "-o", without}), 0);
  EXPECT_EQ(nvt::slurp(without).find(marker), std::string::npos) << "--snapshot --no-cmdline";
  ASSERT_EQ(run_to_end(logs, "jsonl", {nvt::trace_bin(), "--duration", "1", "--no-cmdline",
                                       "--format", "json"}),
            0);
  EXPECT_EQ(nvt::slurp(logs.file("jsonl.out")).find(marker), std::string::npos)
      << "--no-cmdline, JSON lines";
}

void signal_during_duration(int sig) {
  nvt::TempDir dir, logs;
  std::string cap = dir.file("capture.json");
  nvt::Tracer tracer(logs, {"--duration", "30", "-o", cap});
  nvt::Peer server(logs, "server", {"tcp-server", "--port", "0", "--count", "5", "--comm", "nvt_h_srv"});
  int port = server.wait_ready();
  nvt::Peer client(logs, "client",
                   {"tcp-client", "--addr", "127.0.0.1", "--port", std::to_string(port), "--count",
                    "5", "--print-ports", "--comm", "nvt_h_cli"});
  auto lports = nvt::client_ports(client.finish(10));
  server.finish(10);
  double t0 = nvt::mono_now();
  ASSERT_EQ(tracer.stop(sig, 15), 0) << strsignal(sig) << ": " << tracer.err_text();
  EXPECT_LT(nvt::mono_now() - t0, 10.0) << "stopped promptly";
  expect_private_regular_file(cap);
  EXPECT_EQ(dir_entries(dir.path()), std::vector<std::string>{"capture.json"})
      << join_names(dir_entries(dir.path()));
  auto doc = nvt::read_capture(cap);
  ASSERT_TRUE(doc.raw.contains("stats")) << "incomplete document";
  ASSERT_EQ(lports.size(), 5u);
  for (int lp : lports)
    EXPECT_EQ(nvt::flows_between(doc.cap, Proto::tcp, lp, port).size(), 1u)
        << strsignal(sig) << ": client port " << lp << " missing";
}

TEST(HardeningOutput, SigintDuringDurationWritesCompleteDocument) { signal_during_duration(SIGINT); }
TEST(HardeningOutput, SigtermDuringDurationWritesCompleteDocument) { signal_during_duration(SIGTERM); }

// `netviz-trace | head -1`: the reader takes one line and closes the pipe.
struct HeadResult {
  std::string first_line;
  double exit_after_close = -1;  // seconds from the close to the tracer's exit, -1: never
  int status = -1;
  std::string err;
};

HeadResult head_one(const nvt::TempDir& logs, std::vector<std::string> args,
                    const std::function<void()>& after_close) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) fail("pipe2");
  std::string err_file = logs.file("head.err");
  args.insert(args.begin(), nvt::trace_bin());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int err = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(p[1], 1);
    dup2(err, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(p[1]);
  HeadResult r;
  char c;
  while (read(p[0], &c, 1) == 1 && c != '\n') r.first_line += c;
  close(p[0]);
  double closed = nvt::mono_now();
  after_close();
  int st = 0;
  bool done = nvt::wait_until([&] { return waitpid(pid, &st, WNOHANG) == pid; }, 10);
  if (!done) {
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
  } else {
    r.exit_after_close = nvt::mono_now() - closed;
  }
  r.status = st;
  r.err = nvt::slurp(err_file);
  return r;
}

void expect_quiet_prompt_end(const HeadResult& r, const char* what) {
  EXPECT_NE(r.first_line.find("\"event\":\"host\""), std::string::npos) << what << ": " << r.first_line;
  ASSERT_GE(r.exit_after_close, 0) << what << ": still running 10 s after the pipe closed";
  EXPECT_LT(r.exit_after_close, 2.5) << what << ": took " << r.exit_after_close << " s to end";
  EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0)
      << what << ": status " << r.status;
  for (const auto& l : nvt::split_lines(r.err))
    EXPECT_EQ(l.rfind("netviz-trace: tracing", 0), 0u) << what << ": unexpected stderr: " << l;
}

TEST(HardeningOutput, ClosedPipeEndsTracerQuietlyAndPromptly) {
  nvt::TempDir logs;
  // With traffic after the close: the next write finds the pipe closed.
  auto busy = head_one(logs, {"--format", "json", "--duration", "60"}, [&] {
    nvt::Peer server(logs, "server", {"tcp-server", "--port", "0", "--count", "3"});
    int port = server.wait_ready();
    nvt::Peer client(logs, "client", {"tcp-client", "--addr", "127.0.0.1", "--port",
                                      std::to_string(port), "--count", "3"});
    client.finish(10);
    server.finish(10);
  });
  expect_quiet_prompt_end(busy, "with traffic");
  // Nothing to write (a port nobody uses): the tracer still notices the closed pipe.
  auto idle = head_one(logs, {"--format", "json", "--duration", "60", "--port", "9"}, [] {});
  expect_quiet_prompt_end(idle, "idle");
}

TEST(HardeningOutput, Kill9LeavesNoBpfProgramLinkOrFile) {
  nvt::TempDir dir, logs;
  nvt::BpfHeld held;
  {
    nvt::Tracer tracer(logs, {"--duration", "60", "-o", dir.file("capture.json")});
    held = nvt::bpf_held_by(tracer.pid());
    ASSERT_FALSE(held.progs.empty()) << "no BPF program among the tracer's fds";
    ASSERT_FALSE(held.links.empty()) << "no BPF link among the tracer's fds";
    EXPECT_EQ(tracer.stop(SIGKILL), 128 + SIGKILL);
  }
  auto progs = nvt::bpf_ids_remaining("prog", held.progs, 5);
  auto links = nvt::bpf_ids_remaining("link", held.links, 5);
  EXPECT_TRUE(progs.empty()) << "programs left: " << nvt::ids_str(progs);
  EXPECT_TRUE(links.empty()) << "links left: " << nvt::ids_str(links);
  EXPECT_TRUE(dir_entries(dir.path()).empty()) << join_names(dir_entries(dir.path()));
}

}  // namespace
