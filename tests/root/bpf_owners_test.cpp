// The BPF owner walk against sockets held by child processes: exact (pid, fd) holders, the
// right namespaces, and the same answer as the /proc walk.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "scan/bpf_iter_owners.h"
#include "scan/bpf_iter_sock_files.h"
#include "scan/owners.h"
#include "scan/scan.h"

namespace netviz {
namespace {

using PidFd = std::pair<int32_t, int32_t>;

struct Held {
  int32_t pid;
  int32_t fd;
  uint64_t ino;
};

uint64_t inode_of(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return 0;
  return st.st_ino;
}

uint64_t fd_inode(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return 0;
  return st.st_ino;
}

int tcp_listener() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (s < 0 || bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(s, 4) != 0)
    _exit(90);
  return s;
}

// A test netns named nvt-s2-<pid>, with lo up; deleted on destruction.
class TestNetns {
 public:
  TestNetns() : name_("nvt-s2-" + std::to_string(getpid())) {
    std::system(("ip netns del " + name_ + " 2>/dev/null").c_str());
    ok_ = std::system(("ip netns add " + name_ + " && ip -n " + name_ + " link set lo up").c_str()) == 0;
  }
  ~TestNetns() { std::system(("ip netns del " + name_ + " 2>/dev/null").c_str()); }
  bool ok() const { return ok_; }
  std::string path() const { return "/run/netns/" + name_; }
  uint64_t inode() const { return inode_of(path()); }

 private:
  std::string name_;
  bool ok_ = false;
};

void enter_netns(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) _exit(91);
  close(fd);
}

// Child processes that open sockets, report (pid, fd, inode) through a pipe and then wait to
// be killed. Every process reports a sentinel {0,0,0} once it is done.
class Holders {
 public:
  ~Holders() {
    for (auto it = pids_.rbegin(); it != pids_.rend(); ++it) kill(*it, SIGKILL);
    for (pid_t p : direct_) waitpid(p, nullptr, 0);
  }

  // Runs body(report) in a child named comm; body may fork further reporters (procs counts
  // every process that will send a sentinel). Returns false when a child failed.
  bool spawn(const char* comm, int procs, const std::function<void(int report_fd)>& body) {
    int p[2];
    if (pipe(p) != 0) return false;
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
      close(p[0]);
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      prctl(PR_SET_NAME, comm);
      body(p[1]);
      Held done{0, 0, 0};
      if (write(p[1], &done, sizeof done) != sizeof done) _exit(92);
      for (;;) pause();
    }
    close(p[1]);
    direct_.push_back(pid);
    pids_.push_back(pid);
    int sentinels = 0;
    Held h{};
    while (sentinels < procs) {
      ssize_t n = read(p[0], &h, sizeof h);
      if (n != sizeof h) {
        close(p[0]);
        return false;
      }
      if (h.pid == 0) {
        ++sentinels;
        continue;
      }
      if (h.pid != pid) pids_.push_back(h.pid);
      expected_[h.ino].insert({h.pid, h.fd});
      comm_of_[h.pid] = comm;
    }
    close(p[0]);
    return true;
  }

  static void report(int report_fd, int fd) {
    Held h{getpid(), fd, fd_inode(fd)};
    if (write(report_fd, &h, sizeof h) != sizeof h) _exit(93);
  }

  const std::map<uint64_t, std::set<PidFd>>& expected() const { return expected_; }
  const std::map<int32_t, std::string>& comms() const { return comm_of_; }

 private:
  std::vector<pid_t> direct_;
  std::vector<pid_t> pids_;
  std::map<uint64_t, std::set<PidFd>> expected_;
  std::map<int32_t, std::string> comm_of_;
};

std::set<PidFd> holders_of(const OwnerIndex& idx, uint64_t ino) {
  std::set<PidFd> s;
  auto it = idx.by_inode.find(ino);
  if (it == idx.by_inode.end()) return s;
  for (const auto& o : it->second) s.insert({o.pid, o.fd});
  return s;
}

void* park(void*) {
  for (;;) pause();
  return nullptr;
}

class BpfOwnersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0u) << "tests/root must run as root (they load real BPF programs)";
    ASSERT_TRUE(ns_.ok()) << "ip netns add failed";
    host_ns_ = inode_of("/proc/self/ns/net");
    test_ns_ = ns_.inode();
    ASSERT_NE(test_ns_, 0u);
    ASSERT_NE(test_ns_, host_ns_);
    const std::string nspath = ns_.path();

    // One process, two sockets, one of them dup'ed: three fds.
    ASSERT_TRUE(holders_.spawn("nvt-s2-plain", 1, [](int rep) {
      int l = tcp_listener();
      int u = socket(AF_INET6, SOCK_DGRAM, 0);
      int d = dup(l);
      Holders::report(rep, l);
      Holders::report(rep, u);
      Holders::report(rep, d);
    }));
    // A socket shared after fork: parent and child hold the same inode.
    ASSERT_TRUE(holders_.spawn("nvt-s2-forked", 2, [](int rep) {
      int l = tcp_listener();
      Holders::report(rep, l);
      pid_t c = fork();
      if (c == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int extra = dup(l);
        Holders::report(rep, l);
        Holders::report(rep, extra);
        Held done{0, 0, 0};
        if (write(rep, &done, sizeof done) != sizeof done) _exit(92);
        for (;;) pause();
      }
    }));
    // A process living in the test namespace.
    ASSERT_TRUE(holders_.spawn("nvt-s2-netns", 1, [nspath](int rep) {
      enter_netns(nspath);
      Holders::report(rep, tcp_listener());
      Holders::report(rep, socket(AF_INET, SOCK_DGRAM, 0));
    }));
    // A host-namespace process holding a socket made in the test namespace.
    ASSERT_TRUE(holders_.spawn("nvt-s2-foreign", 1, [nspath](int rep) {
      int home = open("/proc/self/ns/net", O_RDONLY);
      enter_netns(nspath);
      int s = tcp_listener();
      if (setns(home, CLONE_NEWNET) != 0) _exit(94);
      Holders::report(rep, s);
    }));
    // Threads share the leader's file table: the socket must show up once.
    ASSERT_TRUE(holders_.spawn("nvt-s2-threads", 1, [](int rep) {
      int s = socket(AF_INET, SOCK_STREAM, 0);
      for (int i = 0; i < 3; ++i) {
        pthread_t t;
        if (pthread_create(&t, nullptr, park, nullptr) != 0) _exit(95);
      }
      Holders::report(rep, s);
    }));
    ASSERT_GE(holders_.expected().size(), 7u);
  }

  TestNetns ns_;
  Holders holders_;
  uint64_t host_ns_ = 0;
  uint64_t test_ns_ = 0;
};

TEST_F(BpfOwnersTest, FindsEveryHolderWithItsFdsCommAndNetns) {
  Stats stats;
  auto idx = walk_owners_bpf(stats);
  ASSERT_TRUE(idx.has_value()) << (stats.notes.empty() ? "" : stats.notes.back());
  EXPECT_GT(stats.counters["bpf_owner_records"], 0);

  for (const auto& [ino, want] : holders_.expected()) {
    EXPECT_EQ(holders_of(*idx, ino), want) << "socket inode " << ino;
    auto it = idx->by_inode.find(ino);
    if (it == idx->by_inode.end()) continue;
    // Exactly the expected entries: no duplicates from threads.
    EXPECT_EQ(it->second.size(), want.size()) << "socket inode " << ino;
    for (const auto& o : it->second) EXPECT_EQ(o.comm, holders_.comms().at(o.pid));
  }
  for (const auto& [pid, comm] : holders_.comms()) {
    uint64_t want = comm == "nvt-s2-netns" ? test_ns_ : host_ns_;
    ASSERT_TRUE(idx->netns_of_pid.count(pid)) << comm << " pid " << pid;
    EXPECT_EQ(idx->netns_of_pid.at(pid), want) << comm << " pid " << pid;
  }
}

TEST_F(BpfOwnersTest, EqualsTheProcWalkOnTheSameSockets) {
  Stats bs, ps;
  auto bpf = walk_owners_bpf(bs);
  ASSERT_TRUE(bpf.has_value()) << (bs.notes.empty() ? "" : bs.notes.back());
  OwnerIndex proc = walk_owners_proc("/proc", ps);
  for (const auto& [ino, want] : holders_.expected()) {
    EXPECT_EQ(holders_of(*bpf, ino), holders_of(proc, ino)) << "socket inode " << ino;
    auto b = bpf->by_inode.find(ino);
    auto p = proc.by_inode.find(ino);
    ASSERT_TRUE(b != bpf->by_inode.end() && p != proc.by_inode.end()) << "inode " << ino;
    std::set<std::tuple<int32_t, int32_t, std::string>> bo, po;
    for (const auto& o : b->second) bo.insert({o.pid, o.fd, o.comm});
    for (const auto& o : p->second) po.insert({o.pid, o.fd, o.comm});
    EXPECT_EQ(bo, po) << "socket inode " << ino;
  }
  for (const auto& [pid, comm] : holders_.comms())
    EXPECT_EQ(bpf->netns_of_pid[pid], proc.netns_of_pid[pid]) << comm << " pid " << pid;
}

TEST_F(BpfOwnersTest, RecordsCarryTheSocketsOwnNamespace) {
  SockFileIter iter(/*with_sock_netns=*/true);
  std::vector<nv_snap_sock_file> recs;
  iter.read_each([&](const nv_snap_sock_file* r, size_t n) { recs.insert(recs.end(), r, r + n); });
  int32_t foreign = 0;
  for (const auto& [pid, comm] : holders_.comms())
    if (comm == "nvt-s2-foreign") foreign = pid;
  ASSERT_NE(foreign, 0);
  int seen = 0;
  for (const auto& r : recs) {
    if (static_cast<int32_t>(r.tgid) != foreign) continue;
    if (!holders_.expected().count(r.sock_ino)) continue;  // stdio etc. are not sockets
    ++seen;
    EXPECT_EQ(r.sock_netns, test_ns_) << "the socket was created in the test namespace";
    EXPECT_EQ(r.task_netns, host_ns_) << "its holder went back to the host namespace";
  }
  EXPECT_EQ(seen, 1);
}

// Inside a container's pid namespace (with its own /proc), owners must carry the pids that
// namespace uses, as /proc and ss there show them, not the host's.
TEST(BpfOwnersPidNamespace, PidsAreTheReadersNamespaceNumbers) {
  ASSERT_EQ(geteuid(), 0u) << "tests/root must run as root";
  const std::string out = testing::TempDir() + "nvt-s2-pidns-" + std::to_string(getpid()) + ".json";
  int rep[2];
  ASSERT_EQ(pipe(rep), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (unshare(CLONE_NEWPID | CLONE_NEWNS) != 0) _exit(70);
    pid_t init = fork();  // pid 1 of the new namespace
    if (init < 0) _exit(71);
    if (init > 0) {
      int st = 0;
      waitpid(init, &st, 0);
      _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 72);
    }
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
      _exit(73);
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (l < 0 || bind(l, reinterpret_cast<sockaddr*>(&a), len) != 0 || listen(l, 1) != 0 ||
        getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      _exit(74);
    int32_t facts[3] = {getpid(), l, ntohs(a.sin_port)};
    if (write(rep[1], facts, sizeof facts) != sizeof facts) _exit(75);
    pid_t tracer = fork();
    if (tracer == 0) {
      std::string port = std::to_string(facts[2]);
      execl(NETVIZ_TRACE_BIN, NETVIZ_TRACE_BIN, "--snapshot", "--port", port.c_str(), "-o",
            out.c_str(), static_cast<char*>(nullptr));
      _exit(76);
    }
    int st = 0;
    waitpid(tracer, &st, 0);
    _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 77);
  }
  close(rep[1]);
  int32_t facts[3] = {};
  ssize_t got = read(rep[0], facts, sizeof facts);
  close(rep[0]);
  int st = 0;
  waitpid(child, &st, 0);
  ASSERT_EQ(got, static_cast<ssize_t>(sizeof facts)) << "child exit " << WEXITSTATUS(st);
  ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "exit " << WEXITSTATUS(st);
  EXPECT_EQ(facts[0], 1) << "the holder is the namespace's init";

  std::ifstream in(out);
  ASSERT_TRUE(in) << out;
  auto doc = nlohmann::json::parse(in);
  std::remove(out.c_str());
  EXPECT_EQ(doc["stats"]["scan_path"], "bpf_iter");
  int found = 0;
  for (const auto& sock : doc["sockets"]) {
    if (sock["state"] != "LISTEN" || sock["local"]["port"] != facts[2]) continue;
    ++found;
    ASSERT_EQ(sock["owners"].size(), 1u) << sock.dump();
    EXPECT_EQ(sock["owners"][0]["pid"], facts[0]) << sock.dump();
    EXPECT_EQ(sock["owners"][0]["fd"], facts[1]) << sock.dump();
  }
  EXPECT_EQ(found, 1);
}

class NoBpf : public BpfFeatures {
 public:
  std::string iter_unavailable_reason() const override { return "test probe says no"; }
};

TEST(BpfOwnersProbe, AProbeThatSaysNoGivesNulloptAndOneNote) {
  NoBpf no;
  Stats stats;
  EXPECT_FALSE(walk_owners_bpf(stats, no).has_value());
  ASSERT_EQ(stats.notes.size(), 1u);
  EXPECT_NE(stats.notes[0].find("test probe says no"), std::string::npos);

  ScopedBpfFeatures scoped(no);
  Stats s2;
  EXPECT_FALSE(walk_owners_bpf(s2).has_value());
  ASSERT_EQ(s2.notes.size(), 1u);
}

TEST(BpfOwnersProbe, TheScanFallsBackToProcWhenTheProbeSaysNo) {
  ASSERT_EQ(geteuid(), 0u) << "tests/root must run as root";
  NoBpf no;
  ScopedBpfFeatures scoped(no);
  ScanOptions opts;
  opts.with_cmdline = false;
  ScanResult r = scan_host(opts);
  EXPECT_EQ(r.stats.scan_path, "proc");
  bool said = false;
  for (const auto& n : r.stats.notes) said |= n.find("test probe says no") != std::string::npos;
  EXPECT_TRUE(said) << "the reason belongs in stats.notes";
}

TEST(BpfOwnersProbe, TheHostProbeSaysYesAsRoot) {
  ASSERT_EQ(geteuid(), 0u) << "tests/root must run as root";
  EXPECT_EQ(HostBpfFeatures().iter_unavailable_reason(), "");
}

}  // namespace
}  // namespace netviz
