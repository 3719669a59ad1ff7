#pragma once
// Shared helpers of the tracing root tests (tests/root/trace_*_test.cpp): child processes
// with their output in files or a pipe, nv_peer traffic, a running netviz-trace, captures and
// BPF object ids. Helpers throw std::runtime_error on anything unexpected, so a test fails
// (never skips) with the reason in the message.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "format/capture_json.h"
#include "format/event_json.h"
#include "format/kind_names.h"
#include "../support/json_tree.h"
#include "model/capture.h"

using netviz::Attribution;
using netviz::Direction;
using netviz::Family;
using netviz::Proto;
using netviz::SockState;

namespace nvt {

inline const char* trace_bin() { return NETVIZ_TRACE_BIN; }
inline const char* peer_bin() { return NV_PEER_BIN; }

[[noreturn]] inline void fail(const std::string& what) { throw std::runtime_error(what); }

inline double mono_now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

inline void sleep_s(double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); }

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string l; std::getline(ss, l);) out.push_back(l);
  return out;
}

// A private directory under /tmp, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/nvt-trace-XXXXXX";
    if (!mkdtemp(tmpl)) fail("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    // NVT_KEEP=1 keeps every test directory (captures, peer output) for a look afterwards.
    const char* keep = getenv("NVT_KEEP");
    if (keep && *keep == '1') {
      std::fprintf(stderr, "kept %s\n", path_.c_str());
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A child process. stdout and stderr go to files, or stdout to a pipe whose lines a thread
// collects with their arrival time. The destructor kills and reaps a child still running.
class Child {
 public:
  struct Line {
    double at;  // mono_now() when the line arrived
    std::string text;
  };

  Child(const std::vector<std::string>& argv, const std::string& out_file,
        const std::string& err_file, bool pipe_stdout = false)
      : argv_(argv), out_file_(out_file), err_file_(err_file) {
    int pfd[2] = {-1, -1};
    if (pipe_stdout && pipe2(pfd, O_CLOEXEC) < 0) fail("pipe2 failed");
    std::vector<char*> args;
    for (const auto& a : argv_) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_ = fork();
    if (pid_ < 0) fail("fork failed");
    if (pid_ == 0) {
      int out = pipe_stdout ? pfd[1] : open(out_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int err = open(err_file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int in = open("/dev/null", O_RDONLY);
      if (out < 0 || err < 0 || in < 0) _exit(126);
      dup2(in, 0);
      dup2(out, 1);
      dup2(err, 2);
      execvp(args[0], args.data());
      _exit(127);
    }
    if (pipe_stdout) {
      close(pfd[1]);
      int rfd = pfd[0];
      reader_ = std::thread([this, rfd] { read_pipe(rfd); });
    }
  }
  ~Child() {
    if (!status_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (reader_.joinable()) reader_.join();
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) {
    if (!status_) kill(pid_, sig);
  }

  // True once the child has exited (reaps it).
  bool exited() {
    if (status_) return true;
    int st;
    pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) status_ = st;
    return status_.has_value();
  }

  // Exit code (128+signal when killed), or nullopt when still running after timeout_s.
  std::optional<int> wait(double timeout_s) {
    double end = mono_now() + timeout_s;
    while (!exited()) {
      if (mono_now() > end) return std::nullopt;
      sleep_s(0.01);
    }
    if (reader_.joinable()) reader_.join();
    return WIFEXITED(*status_) ? WEXITSTATUS(*status_) : 128 + WTERMSIG(*status_);
  }

  // Waits for the exit; a child still running after timeout_s is killed and the test fails.
  int wait_or_fail(double timeout_s) {
    auto rc = wait(timeout_s);
    if (!rc) {
      kill(pid_, SIGKILL);
      wait(5);
      fail(describe() + " still running after " + std::to_string(timeout_s) + " s; stderr: " +
           slurp(err_file_));
    }
    return *rc;
  }

  std::string out_text() const { return slurp(out_file_); }
  std::string err_text() const { return slurp(err_file_); }
  std::string describe() const {
    std::string s;
    for (const auto& a : argv_) s += (s.empty() ? "" : " ") + a;
    return s;
  }

  std::vector<Line> lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

 private:
  void read_pipe(int fd) {
    std::string buf;
    char chunk[65536];
    for (;;) {
      ssize_t n = read(fd, chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      double at = mono_now();
      buf.append(chunk, n);
      size_t pos;
      while ((pos = buf.find('\n')) != std::string::npos) {
        std::lock_guard<std::mutex> lock(mu_);
        lines_.push_back({at, buf.substr(0, pos)});
        buf.erase(0, pos + 1);
      }
    }
    if (!buf.empty()) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.push_back({mono_now(), buf});
    }
    close(fd);
  }

  std::vector<std::string> argv_;
  std::string out_file_, err_file_;
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::thread reader_;
  std::mutex mu_;
  std::vector<Line> lines_;
};

// Polls until pred() holds; false after timeout_s.
inline bool wait_until(const std::function<bool()>& pred, double timeout_s) {
  double end = mono_now() + timeout_s;
  while (!pred()) {
    if (mono_now() > end) return false;
    sleep_s(0.01);
  }
  return true;
}

// Runs a shell command; returns its stdout. Fails on a nonzero exit.
inline std::string run(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) fail("popen failed: " + cmd);
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int st = pclose(p);
  if (st != 0) fail("command failed (" + std::to_string(st) + "): " + cmd);
  return out;
}

// ---- nv_peer ----

// One "nv_peer <what> key=value ..." line.
struct PeerRecord {
  std::string what;
  std::map<std::string, std::string> kv;
  long num(const std::string& key) const {
    auto it = kv.find(key);
    if (it == kv.end()) fail("nv_peer record '" + what + "' has no " + key);
    return std::stol(it->second);
  }
};

inline std::vector<PeerRecord> peer_records(const std::string& text) {
  std::vector<PeerRecord> out;
  for (const auto& line : split_lines(text)) {
    std::stringstream ss(line);
    std::string tag;
    if (!(ss >> tag) || tag != "nv_peer") continue;
    PeerRecord r;
    ss >> r.what;
    for (std::string tok; ss >> tok;) {
      auto eq = tok.find('=');
      if (eq != std::string::npos) r.kv[tok.substr(0, eq)] = tok.substr(eq + 1);
    }
    out.push_back(std::move(r));
  }
  return out;
}

inline std::vector<PeerRecord> records_of(const std::vector<PeerRecord>& all,
                                          const std::string& what) {
  std::vector<PeerRecord> out;
  for (const auto& r : all)
    if (r.what == what) out.push_back(r);
  return out;
}

// An nv_peer process; name picks its output files in dir.
class Peer {
 public:
  // prefix: a command that runs nv_peer in place, e.g. {"ip", "netns", "exec", NAME}.
  Peer(const TempDir& dir, const std::string& name, std::vector<std::string> args,
       const std::vector<std::string>& prefix = {})
      : child_(with_bin(std::move(args), prefix), dir.file(name + ".out"),
               dir.file(name + ".err")) {}

  Child& child() { return child_; }
  pid_t pid() const { return child_.pid(); }
  std::vector<PeerRecord> records() const { return peer_records(child_.out_text()); }

  // Waits for `count` records named `what`; fails when the peer exits or time runs out.
  std::vector<PeerRecord> wait_records(const std::string& what, size_t count, double timeout_s) {
    std::vector<PeerRecord> got;
    bool ok = wait_until(
        [&] {
          got = records_of(records(), what);
          return got.size() >= count || child_.exited();
        },
        timeout_s);
    got = records_of(records(), what);
    if (!ok || got.size() < count)
      fail(child_.describe() + ": expected " + std::to_string(count) + " '" + what +
           "' lines, got " + std::to_string(got.size()) + "; stderr: " + child_.err_text());
    return got;
  }

  // A server's port, from its "ready" line.
  int wait_ready(double timeout_s = 10) {
    return static_cast<int>(wait_records("ready", 1, timeout_s)[0].num("port"));
  }

  // Waits for a clean exit and returns every record.
  std::vector<PeerRecord> finish(double timeout_s) {
    int rc = child_.wait_or_fail(timeout_s);
    if (rc != 0)
      fail(child_.describe() + " exited " + std::to_string(rc) + "; stderr: " + child_.err_text());
    return records();
  }

 private:
  static std::vector<std::string> with_bin(std::vector<std::string> args,
                                           const std::vector<std::string>& prefix) {
    args.insert(args.begin(), peer_bin());
    args.insert(args.begin(), prefix.begin(), prefix.end());
    return args;
  }
  Child child_;
};

// A network namespace of this test (named nvt-t2-<tag>-<pid>, loopback up), always deleted.
class Netns {
 public:
  explicit Netns(const std::string& tag)
      : name_("nvt-t2-" + tag + "-" + std::to_string(getpid())) {
    run("ip netns add " + name_ + " && ip -n " + name_ + " link set lo up");
  }
  ~Netns() { (void)!system(("ip netns del " + name_ + " 2>/dev/null").c_str()); }
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
  const std::string& name() const { return name_; }
  std::vector<std::string> exec_prefix() const { return {"ip", "netns", "exec", name_}; }
  uint64_t inode() const {
    return std::filesystem::exists("/run/netns/" + name_)
               ? std::stoull(run("stat -L -c %i /run/netns/" + name_))
               : 0;
  }

 private:
  std::string name_;
};

// ---- netviz-trace ----

// A running netviz-trace. Starting waits for its "tracing" line on stderr: every hook is
// attached and the scan is done. pipe_stdout: read its JSON lines from a pipe.
class Tracer {
 public:
  Tracer(const TempDir& dir, std::vector<std::string> args, bool pipe_stdout = false,
         double ready_timeout_s = 30)
      : child_(with_bin(std::move(args)), dir.file("trace.out"), dir.file("trace.err"),
               pipe_stdout) {
    bool ok = wait_until([&] { return is_ready() || child_.exited(); }, ready_timeout_s);
    if (!ok || !is_ready())
      fail(child_.describe() + ": no 'netviz-trace: tracing' line on stderr within " +
           std::to_string(ready_timeout_s) + " s (" +
           (child_.exited() ? "it exited" : "still running") + "); stderr: " + child_.err_text());
  }

  Child& child() { return child_; }
  pid_t pid() const { return child_.pid(); }
  std::string err_text() const { return child_.err_text(); }

  // Signals it and returns its exit code; fails when it does not exit within timeout_s.
  int stop(int sig = SIGINT, double timeout_s = 20) {
    child_.signal(sig);
    return child_.wait_or_fail(timeout_s);
  }

 private:
  bool is_ready() const {
    for (const auto& l : split_lines(child_.err_text()))
      if (l.rfind("netviz-trace: tracing", 0) == 0) return true;
    return false;
  }
  static std::vector<std::string> with_bin(std::vector<std::string> args) {
    args.insert(args.begin(), trace_bin());
    return args;
  }
  Child child_;
};

// A capture document: the raw JSON and the model read through the project's own reader.
struct Doc {
  nlohmann::json raw;
  netviz::Capture cap;
};

inline Doc read_capture(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("no capture document at " + path);
  Doc d;
  try {
    d.raw = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    fail(path + ": not JSON: " + e.what());
  }
  d.cap = netviz::capture_from_json(d.raw, path);  // throws on an invalid document
  if (!d.raw.contains("stats") || !d.raw["stats"].contains("lost_events"))
    fail(path + ": stats.lost_events missing");
  return d;
}

// Every line of a JSON-lines stream, parsed by the project's own reader.
inline std::vector<netviz::StreamLine> parse_stream(const std::vector<std::string>& lines,
                                                    const std::string& source) {
  std::vector<netviz::StreamLine> out;
  for (size_t i = 0; i < lines.size(); ++i)
    if (!lines[i].empty()) out.push_back(netviz::parse_stream_line(lines[i], source, i + 1));
  return out;
}

// ---- flows ----

inline std::string flow_str(const netviz::Flow& f) {
  return netviz::to_json(f).dump();
}

inline std::vector<const netviz::Flow*> flows_where(
    const netviz::Capture& c, const std::function<bool(const netviz::Flow&)>& pred) {
  std::vector<const netviz::Flow*> out;
  for (const auto& f : c.flows)
    if (pred(f)) out.push_back(&f);
  return out;
}

// The flows of one connection seen from one end: local port lport, remote port rport.
inline std::vector<const netviz::Flow*> flows_between(const netviz::Capture& c,
                                                      netviz::Proto proto, uint32_t lport,
                                                      uint32_t rport) {
  return flows_where(c, [&](const netviz::Flow& f) {
    return f.proto == proto && f.local.port == lport && f.remote && f.remote->port == rport;
  });
}

// What both ends of each TCP connection to a server port should look like.
struct Ends {
  netviz::Family family = netviz::Family::ipv4;
  int server_port = 0;
  std::vector<int> client_ports;  // one connection each
  pid_t client_pid = 0;
  std::string client_comm;
  std::function<pid_t(int)> server_pid_of;  // by client port
  std::string server_comm;
  std::set<netviz::Attribution> client_attribution{netviz::Attribution::connect};
  std::set<netviz::Attribution> server_attribution{netviz::Attribution::accept};
};

struct EndsReport {
  size_t client_ok = 0, server_ok = 0;
  std::vector<std::string> problems;  // the first few
};

// Per connection, one outbound flow (the client's) and one inbound flow (the server's), each
// with the expected pid, comm, family and attribution. A fast storm may reuse a client port
// (TIME_WAIT reuse on loopback): a port used k times must have k flows at each end.
inline EndsReport check_tcp_ends(const netviz::Capture& c, const Ends& e, size_t limit = 10) {
  EndsReport r;
  auto problem = [&](const std::string& s) {
    if (r.problems.size() < limit) r.problems.push_back(s);
  };
  const auto sport = static_cast<uint32_t>(e.server_port);
  std::multimap<uint32_t, const netviz::Flow*> out_by_lport, in_by_rport;
  for (const auto& f : c.flows) {
    if (f.proto != Proto::tcp || !f.remote) continue;
    if (f.remote->port == sport && f.local.port != sport) out_by_lport.emplace(f.local.port, &f);
    if (f.local.port == sport) in_by_rport.emplace(f.remote->port, &f);
  }
  std::map<int, size_t> uses;
  for (int lp : e.client_ports) ++uses[lp];
  for (const auto& [lp, k] : uses) {
    auto [ob, oe] = out_by_lport.equal_range(lp);
    auto n = static_cast<size_t>(std::distance(ob, oe));
    if (n != k)
      problem("client port " + std::to_string(lp) + ": " + std::to_string(n) +
              " client-side flows, expected " + std::to_string(k));
    for (auto it = ob; it != oe; ++it) {
      const auto& f = *it->second;
      if (f.pid != e.client_pid || f.comm != e.client_comm || f.direction != Direction::outbound ||
          f.family != e.family || !e.client_attribution.count(f.attribution))
        problem("client end: expected pid " + std::to_string(e.client_pid) + " comm " +
                e.client_comm + " outbound " + to_text(e.family) + " attribution " +
                to_text(*e.client_attribution.begin()) + ", got " + flow_str(f));
      else if (n == k)
        ++r.client_ok;
    }
    auto [ib, ie] = in_by_rport.equal_range(lp);
    n = static_cast<size_t>(std::distance(ib, ie));
    pid_t want = e.server_pid_of(lp);
    if (n != k)
      problem("server end for client port " + std::to_string(lp) + ": " + std::to_string(n) +
              " server-side flows, expected " + std::to_string(k));
    for (auto it = ib; it != ie; ++it) {
      const auto& f = *it->second;
      if (f.pid != want || f.comm != e.server_comm || f.direction != Direction::inbound ||
          f.family != e.family || !e.server_attribution.count(f.attribution))
        problem("server end: expected pid " + std::to_string(want) + " comm " + e.server_comm +
                " inbound " + to_text(e.family) + " attribution " + to_text(*e.server_attribution.begin()) +
                ", got " + flow_str(f));
      else if (n == k)
        ++r.server_ok;
    }
  }
  return r;
}

inline std::string join(const std::vector<std::string>& v, const std::string& sep = "\n  ") {
  std::string s;
  for (const auto& x : v) s += sep + x;
  return s;
}

inline std::vector<int> client_ports(const std::vector<PeerRecord>& recs) {
  std::vector<int> out;
  for (const auto& r : records_of(recs, "conn")) out.push_back(static_cast<int>(r.num("lport")));
  return out;
}

// ---- commands and BPF objects ----

// ids of every BPF program ("prog") or link ("link") on the system, from bpftool.
inline std::set<uint32_t> bpf_ids(const std::string& kind) {
  auto j = nlohmann::json::parse(run("bpftool -j " + kind + " show 2>/dev/null"));
  std::set<uint32_t> ids;
  for (const auto& o : j)
    if (o.contains("id")) ids.insert(o["id"].get<uint32_t>());
  return ids;
}

// The BPF programs and links a process holds through its fds (/proc/PID/fdinfo: prog_id,
// link_id), so programs loaded by other tests running at the same time do not count.
struct BpfHeld {
  std::set<uint32_t> progs, links;
};

inline BpfHeld bpf_held_by(pid_t pid) {
  BpfHeld h;
  std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo";
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    for (const auto& line : split_lines(slurp(e.path().string()))) {
      auto take = [&](const char* key, std::set<uint32_t>& into) {
        std::string k = std::string(key) + ":";
        if (line.rfind(k, 0) == 0) into.insert(std::stoul(line.substr(k.size())));
      };
      take("prog_id", h.progs);
      take("link_id", h.links);
    }
  }
  return h;
}

// Of the given ids, those still present after waiting up to timeout_s for them to go.
inline std::set<uint32_t> bpf_ids_remaining(const std::string& kind,
                                            const std::set<uint32_t>& ids, double timeout_s) {
  std::set<uint32_t> left;
  wait_until(
      [&] {
        left.clear();
        auto now = bpf_ids(kind);
        for (auto id : ids)
          if (now.count(id)) left.insert(id);
        return left.empty();
      },
      timeout_s);
  return left;
}

inline std::string ids_str(const std::set<uint32_t>& ids) {
  std::string s;
  for (auto id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
  return s;
}

}  // namespace nvt

namespace nvt {

// A traced storm of short-lived TCP connections between two nv_peer processes: the tracer
// starts first, the client makes `count` connections to the server, the tracer is stopped
// with SIGINT once both peers are done and its capture document is read back.
struct Storm {
  Doc doc;
  int port = 0;
  std::vector<int> lports;
  pid_t client_pid = 0, server_pid = 0;
  std::vector<PeerRecord> server_records;
  std::string tracer_stderr;
};

inline Storm traced_storm(const TempDir& dir, const std::string& addr, int count,
                          const std::string& client_comm, const std::string& server_comm,
                          std::vector<std::string> client_extra = {},
                          std::vector<std::string> server_extra = {}) {
  Storm s;
  std::string cap = dir.file("capture.json");
  Tracer tracer(dir, {"--duration", "120", "-o", cap});
  std::vector<std::string> sargs = {"tcp-server", "--bind", addr, "--port", "0", "--count",
                                    std::to_string(count), "--print-ports", "--comm",
                                    server_comm, "--timeout", "45"};
  sargs.insert(sargs.end(), server_extra.begin(), server_extra.end());
  Peer server(dir, "server", sargs);
  s.port = server.wait_ready();
  std::vector<std::string> cargs = {"tcp-client", "--addr", addr, "--port",
                                    std::to_string(s.port), "--count", std::to_string(count),
                                    "--print-ports", "--comm", client_comm, "--timeout", "40"};
  cargs.insert(cargs.end(), client_extra.begin(), client_extra.end());
  Peer client(dir, "client", cargs);
  auto crecs = client.finish(45);
  s.server_records = server.finish(20);
  s.lports = client_ports(crecs);
  s.client_pid = client.pid();
  s.server_pid = server.pid();
  if (s.lports.size() != static_cast<size_t>(count))
    fail("nv_peer made " + std::to_string(s.lports.size()) + " connections, not " +
         std::to_string(count) + ": " + client.child().err_text());
  int rc = tracer.stop(SIGINT);
  s.tracer_stderr = tracer.err_text();
  if (rc != 0) fail("netviz-trace exited " + std::to_string(rc) + ": " + s.tracer_stderr);
  s.doc = read_capture(cap);
  return s;
}

}  // namespace nvt
