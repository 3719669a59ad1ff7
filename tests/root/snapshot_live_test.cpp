// scan_host and `netviz-trace --snapshot` against live sockets: forked children open one
// socket of each kind (one child inside a network namespace this test creates, one socket
// shared by a parent and its forked child) and the scan must find each with its owners.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "format/kind_names.h"
#include "scan/scan.h"

using namespace netviz;

namespace {

// One socket a child opened, as it reported it.
struct Rec {
  std::string kind;  // "tcp_listen", "udp_unconn", ...
  uint64_t inode = 0;
  int fd = -1;
  pid_t pid = 0;
  std::string comm;
};

int run(const std::string& cmd) { return system(cmd.c_str()); }

std::string slurp(FILE* f) {
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

class Children {
 public:
  Children() {
    if (pipe(hold_) != 0) abort();
  }
  ~Children() { stop(); }

  // Runs body in a child named comm; body reports sockets with report(kind, fd).
  // The child keeps its sockets until stop().
  void spawn(const std::string& comm, const std::function<void(const std::function<void(
                                          const std::string&, int)>&)>& body) {
    int rep[2];
    if (pipe(rep) != 0) abort();
    pid_t pid = fork();
    if (pid == 0) {
      close(rep[0]);
      close(hold_[1]);
      prctl(PR_SET_NAME, comm.c_str());
      signal(SIGPIPE, SIG_IGN);  // a grandchild may write END after we stopped reading
      FILE* out = fdopen(rep[1], "w");
      auto report = [&](const std::string& kind, int fd) {
        struct stat st {};
        if (fd < 0 || fstat(fd, &st) != 0) {
          fprintf(out, "ERROR %s %d\n", kind.c_str(), errno);
          return;
        }
        fprintf(out, "%s %llu %d %d\n", kind.c_str(), (unsigned long long)st.st_ino, fd, getpid());
        fflush(out);
      };
      body(report);
      fprintf(out, "END\n");
      fclose(out);
      char c;
      while (read(hold_[0], &c, 1) > 0) {
      }
      _exit(0);
    }
    close(rep[1]);
    pids_.push_back(pid);
    FILE* in = fdopen(rep[0], "r");
    char kind[64];
    unsigned long long ino;
    int fd, rpid;
    char line[256];
    while (fgets(line, sizeof line, in)) {
      if (strncmp(line, "END", 3) == 0) break;
      if (sscanf(line, "%63s %llu %d %d", kind, &ino, &fd, &rpid) == 4) {
        recs.push_back(Rec{kind, ino, fd, rpid, comm});
        if (rpid != pid) pids_.push_back(rpid);  // a grandchild
      } else {
        ADD_FAILURE() << "child " << comm << ": " << line;
      }
    }
    fclose(in);
  }

  void stop() {
    if (hold_[1] >= 0) {
      close(hold_[1]);
      hold_[1] = -1;
    }
    for (pid_t p : pids_) kill(p, SIGKILL);
    for (pid_t p : pids_) waitpid(p, nullptr, 0);
    pids_.clear();
  }

  std::vector<Rec> recs;

 private:
  int hold_[2] = {-1, -1};
  std::vector<pid_t> pids_;
};

sockaddr_in loop4(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

uint16_t port_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

// A TCP listener on loopback and one connection to it: listen, client, accepted.
void tcp_pair(const std::function<void(const std::string&, int)>& report, bool v6,
              const std::string& prefix) {
  int l = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  int c = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  if (v6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(l, 8);
    a.sin6_port = htons(port_of(l));
    connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    sockaddr_in a = loop4(0);
    bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(l, 8);
    a.sin_port = htons(port_of(l));
    connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  int s = accept(l, nullptr, nullptr);
  report(prefix + "_listen", l);
  report(prefix + "_client", c);
  report(prefix + "_accepted", s);
}

struct Expect {
  const char* proto;
  const char* family;
  const char* state;
};
const std::map<std::string, Expect> kExpect = {
    {"tcp_listen", {"tcp", "ipv4", "LISTEN"}},       {"tcp_client", {"tcp", "ipv4", "ESTABLISHED"}},
    {"tcp_accepted", {"tcp", "ipv4", "ESTABLISHED"}}, {"tcp6_listen", {"tcp", "ipv6", "LISTEN"}},
    {"tcp6_client", {"tcp", "ipv6", "ESTABLISHED"}},  {"tcp6_accepted", {"tcp", "ipv6", "ESTABLISHED"}},
    {"udp_conn", {"udp", "ipv4", "ESTABLISHED"}},     {"udp_unconn", {"udp", "ipv4", "UNCONN"}},
    {"udp6", {"udp", "ipv6", "UNCONN"}},              {"raw", {"raw", "ipv4", "UNCONN"}},
    {"raw6", {"raw", "ipv6", "UNCONN"}},              {"packet", {"packet", "packet", "UNCONN"}},
    {"unix_listen", {"unix", "unix", "LISTEN"}},      {"unix_client", {"unix", "unix", "ESTABLISHED"}},
    {"unix_accepted", {"unix", "unix", "ESTABLISHED"}}, {"ns_listen", {"tcp", "ipv4", "LISTEN"}},
    {"ns_client", {"tcp", "ipv4", "ESTABLISHED"}},    {"ns_accepted", {"tcp", "ipv4", "ESTABLISHED"}},
    {"shared", {"udp", "ipv4", "UNCONN"}},
};

uint64_t netns_inode(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return 0;
  return st.st_ino;
}

class SnapshotLive : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_EQ(geteuid(), 0u) << "root tests must run as root";
    ns_name_ = "nvt-s1-" + std::to_string(getpid());
    empty_ns_ = ns_name_ + "-e";
    run("ip netns del " + ns_name_ + " 2>/dev/null; ip netns del " + empty_ns_ + " 2>/dev/null");
    ASSERT_EQ(run("ip netns add " + ns_name_), 0);
    ASSERT_EQ(run("ip -n " + ns_name_ + " link set lo up"), 0);
    ASSERT_EQ(run("ip netns add " + empty_ns_), 0);
    ASSERT_EQ(run("ip -n " + empty_ns_ + " link set lo up"), 0);
    ns_ino_ = netns_inode("/run/netns/" + ns_name_);
    empty_ino_ = netns_inode("/run/netns/" + empty_ns_);
    own_ino_ = netns_inode("/proc/self/ns/net");
    ASSERT_NE(ns_ino_, 0u);
    ASSERT_NE(ns_ino_, own_ino_);

    // A connection closed inside the process-less namespace leaves a TIME_WAIT socket
    // there: only entering it through /run/netns can find it.
    std::string empty_path = "/run/netns/" + empty_ns_;
    pid_t tw = fork();
    if (tw == 0) {
      int fd = open(empty_path.c_str(), O_RDONLY);
      if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) _exit(1);
      int l = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a = loop4(0);
      bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a);
      listen(l, 4);
      int c = socket(AF_INET, SOCK_STREAM, 0);
      a.sin_port = htons(port_of(l));
      if (connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) _exit(1);
      int s = accept(l, nullptr, nullptr);
      close(c);  // the active close: TIME_WAIT on the client side
      char b;
      read(s, &b, 1);
      _exit(0);
    }
    int tw_status = 0;
    waitpid(tw, &tw_status, 0);
    ASSERT_TRUE(WIFEXITED(tw_status) && WEXITSTATUS(tw_status) == 0);

    kids_ = new Children;
    kids_->spawn("nvt-s1-a", [](auto& report) {
      tcp_pair(report, false, "tcp");
      tcp_pair(report, true, "tcp6");
      int u = socket(AF_INET, SOCK_DGRAM, 0);
      sockaddr_in a = loop4(0);
      bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a);
      report("udp_unconn", u);
      int uc = socket(AF_INET, SOCK_DGRAM, 0);
      a = loop4(port_of(u));
      connect(uc, reinterpret_cast<sockaddr*>(&a), sizeof a);
      report("udp_conn", uc);
      int u6 = socket(AF_INET6, SOCK_DGRAM, 0);
      sockaddr_in6 a6{};
      a6.sin6_family = AF_INET6;
      a6.sin6_addr = in6addr_loopback;
      bind(u6, reinterpret_cast<sockaddr*>(&a6), sizeof a6);
      report("udp6", u6);
      report("raw", socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
      report("raw6", socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6));
      report("packet", socket(AF_PACKET, SOCK_DGRAM, 0));
      int ul = socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un un{};
      un.sun_family = AF_UNIX;
      std::string name = "nvt-s1-" + std::to_string(getpid());
      memcpy(un.sun_path + 1, name.data(), name.size());  // abstract
      socklen_t len = offsetof(sockaddr_un, sun_path) + 1 + name.size();
      bind(ul, reinterpret_cast<sockaddr*>(&un), len);
      listen(ul, 4);
      int uc2 = socket(AF_UNIX, SOCK_STREAM, 0);
      connect(uc2, reinterpret_cast<sockaddr*>(&un), len);
      report("unix_listen", ul);
      report("unix_client", uc2);
      report("unix_accepted", accept(ul, nullptr, nullptr));
    });
    std::string ns_path = "/run/netns/" + ns_name_;
    kids_->spawn("nvt-s1-ns", [ns_path](auto& report) {
      int fd = open(ns_path.c_str(), O_RDONLY);
      if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
        report("setns_failed", -1);
        return;
      }
      close(fd);
      int l = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a = loop4(0);
      bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a);
      listen(l, 4);
      int c = socket(AF_INET, SOCK_STREAM, 0);
      a.sin_port = htons(port_of(l));
      connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
      report("ns_listen", l);
      report("ns_client", c);
      report("ns_accepted", accept(l, nullptr, nullptr));
    });
    kids_->spawn("nvt-s1-fork", [](auto& report) {
      int u = socket(AF_INET, SOCK_DGRAM, 0);
      sockaddr_in a = loop4(0);
      bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a);
      report("shared", u);
      int sync[2];
      if (pipe(sync) != 0) return;
      if (fork() == 0) {
        prctl(PR_SET_NAME, "nvt-s1-fork");
        report("shared", u);
        write(sync[1], "x", 1);
        return;  // then waits like its parent: the hold pipe's read end is inherited
      }
      char c;
      read(sync[0], &c, 1);  // the child's record precedes our END
    });
  }

  static void TearDownTestSuite() {
    delete kids_;
    kids_ = nullptr;
    run("ip netns del " + ns_name_ + " 2>/dev/null");
    run("ip netns del " + empty_ns_ + " 2>/dev/null");
  }

  // Every recorded socket is found with its kind, netns and exactly its owners.
  static void check_scan(const ScanResult& r, const std::string& label) {
    std::map<uint64_t, const Socket*> by_inode;
    for (const auto& s : r.sockets) by_inode[s.inode] = &s;
    std::map<uint64_t, std::vector<Owner>> want;
    std::map<uint64_t, std::string> kind;
    for (const auto& rec : kids_->recs) {
      want[rec.inode].push_back(Owner{rec.pid, rec.comm, rec.fd});
      kind[rec.inode] = rec.kind;
    }
    ASSERT_EQ(kind.size(), kExpect.size()) << label << ": every kind reported once";
    for (auto& [ino, owners] : want) {
      SCOPED_TRACE(label + " " + kind[ino]);
      auto it = by_inode.find(ino);
      ASSERT_NE(it, by_inode.end()) << "socket inode " << ino << " not found";
      const Socket& s = *it->second;
      const Expect& e = kExpect.at(kind[ino]);
      EXPECT_STREQ(to_text(s.proto), e.proto);
      EXPECT_STREQ(to_text(s.family), e.family);
      EXPECT_STREQ(to_text(s.state), e.state);
      EXPECT_EQ(s.netns, kind[ino].rfind("ns_", 0) == 0 ? ns_ino_ : own_ino_);
      std::sort(owners.begin(), owners.end(),
                [](const Owner& a, const Owner& b) { return a.pid < b.pid; });
      EXPECT_EQ(s.owners, owners);
    }
    // The fork-shared socket has two holders.
    for (const auto& [ino, k] : kind) {
      if (k == "shared") {
        EXPECT_EQ(want[ino].size(), 2u);
      }
    }
    // Both test namespaces are listed with their names; the process-less one too.
    bool saw_ns = false, saw_empty = false;
    for (const auto& n : r.host.netns) {
      if (n.inode == ns_ino_) saw_ns = n.name == ns_name_;
      if (n.inode == empty_ino_) {
        saw_empty = n.name == empty_ns_;
        EXPECT_NE(std::find(n.addresses.begin(), n.addresses.end(), "127.0.0.1"), n.addresses.end());
      }
    }
    EXPECT_TRUE(saw_ns);
    EXPECT_TRUE(saw_empty);
    EXPECT_TRUE(std::any_of(r.sockets.begin(), r.sockets.end(), [](const Socket& s) {
      return s.netns == empty_ino_ && s.proto == Proto::tcp && s.state == SockState::time_wait;
    })) << "no TIME_WAIT socket from the process-less namespace";
    // Flows: the accepted socket is inbound, the client outbound, in the child's netns.
    for (const auto& rec : kids_->recs) {
      if (rec.kind != "ns_accepted" && rec.kind != "ns_client" && rec.kind != "tcp6_client") continue;
      const Socket& s = *by_inode.at(rec.inode);
      auto f = std::find_if(r.flows.begin(), r.flows.end(), [&](const Flow& f) {
        return f.netns == s.netns && f.local == s.local && f.remote == s.remote;
      });
      ASSERT_NE(f, r.flows.end()) << rec.kind;
      EXPECT_EQ(f->direction, rec.kind == "ns_accepted" ? Direction::inbound : Direction::outbound)
          << rec.kind;
      EXPECT_EQ(f->pid, rec.pid);
      EXPECT_EQ(f->attribution, Attribution::scan);
    }
  }

  static std::string ns_name_, empty_ns_;
  static uint64_t ns_ino_, empty_ino_, own_ino_;
  static Children* kids_;
};

std::string SnapshotLive::ns_name_, SnapshotLive::empty_ns_;
uint64_t SnapshotLive::ns_ino_, SnapshotLive::empty_ino_, SnapshotLive::own_ino_;
Children* SnapshotLive::kids_;

}  // namespace

TEST_F(SnapshotLive, ProcPathFindsEveryKindWithOwners) {
  ScanOptions o;
  o.allow_bpf = false;
  ScanResult r = scan_host(o);
  EXPECT_EQ(r.stats.scan_path, "proc");
  check_scan(r, "proc");
  // Owner details: only for owners, with the fields filled.
  auto p = std::find_if(r.processes.begin(), r.processes.end(),
                        [](const Process& p) { return p.comm == "nvt-s1-ns"; });
  ASSERT_NE(p, r.processes.end());
  EXPECT_EQ(p->netns, ns_ino_);
  EXPECT_EQ(p->ppid, getpid());
  EXPECT_EQ(p->uid, 0u);
  EXPECT_EQ(p->user, "root");
  EXPECT_FALSE(p->exe.empty());
  EXPECT_FALSE(p->cmdline.empty());
  EXPECT_FALSE(p->cgroup.empty());
}

TEST_F(SnapshotLive, BpfAllowedFindsTheSame) {
  ScanOptions o;
  o.allow_bpf = true;
  ScanResult r = scan_host(o);
  std::cerr << "scan_path with allow_bpf: " << r.stats.scan_path << "\n";
  EXPECT_TRUE(r.stats.scan_path == "bpf_iter" || r.stats.scan_path == "proc");
  check_scan(r, r.stats.scan_path);
}

TEST_F(SnapshotLive, OneNamespaceByName) {
  ScanOptions o;
  o.allow_bpf = false;
  o.only_netns = resolve_netns(ns_name_);
  EXPECT_EQ(*o.only_netns, ns_ino_);
  EXPECT_EQ(resolve_netns("/run/netns/" + ns_name_), ns_ino_);
  EXPECT_EQ(resolve_netns(std::to_string(ns_ino_)), ns_ino_);
  ScanResult r = scan_host(o);
  ASSERT_EQ(r.host.netns.size(), 1u);
  EXPECT_EQ(r.host.scope_netns, ns_ino_);
  EXPECT_EQ(r.host.netns[0].name, ns_name_);
  size_t found = 0;
  for (const auto& s : r.sockets) {
    EXPECT_EQ(s.netns, ns_ino_);
    for (const auto& rec : kids_->recs)
      if (rec.inode == s.inode) ++found;
  }
  EXPECT_EQ(found, 3u);
}

TEST_F(SnapshotLive, BinaryWritesTheDocumentAndJsonLines) {
  char dir[] = "/tmp/nvt-s1-XXXXXX";
  ASSERT_TRUE(mkdtemp(dir));
  std::string out = std::string(dir) + "/snap.json";
  ASSERT_EQ(run(std::string(NETVIZ_TRACE_BIN) + " --snapshot -o " + out), 0);
  std::ifstream in(out);
  auto doc = nlohmann::json::parse(in);
  EXPECT_EQ(doc["netviz"], 1);
  for (const char* k : {"host", "processes", "sockets", "flows", "stats"})
    EXPECT_TRUE(doc.contains(k)) << k;
  EXPECT_FALSE(doc["host"]["name"].get<std::string>().empty());
  EXPECT_FALSE(doc["stats"]["scan_path"].get<std::string>().empty());
  // The accepted connection in the test namespace is an inbound flow of its child.
  const Rec* acc = nullptr;
  for (const auto& rec : kids_->recs)
    if (rec.kind == "ns_accepted") acc = &rec;
  ASSERT_TRUE(acc);
  uint32_t port = 0;
  for (const auto& s : doc["sockets"])
    if (s["inode"] == acc->inode) port = s["local"]["port"];
  ASSERT_NE(port, 0u);
  bool inbound = false;
  for (const auto& f : doc["flows"])
    if (f["netns"] == ns_ino_ && f["local"]["port"] == port && f["pid"] == acc->pid)
      inbound = f["direction"] == "inbound";
  EXPECT_TRUE(inbound);

  // Piped: one socket per line; --no-cmdline and --proto filter respected.
  FILE* p = popen((std::string(NETVIZ_TRACE_BIN) + " --snapshot --no-bpf --proto unix").c_str(), "r");
  ASSERT_TRUE(p);
  std::string text = slurp(p);
  EXPECT_EQ(pclose(p), 0);
  std::istringstream lines(text);
  std::string line;
  size_t n = 0, ours = 0;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    ++n;
    EXPECT_EQ(j["event"], "socket");
    EXPECT_EQ(j["proto"], "unix");
    for (const auto& rec : kids_->recs)
      if (j["inode"] == rec.inode) {
        ++ours;
        ASSERT_EQ(j["owners"].size(), 1u);
        EXPECT_EQ(j["owners"][0]["pid"], rec.pid);
        EXPECT_EQ(j["owners"][0]["fd"], rec.fd);
      }
  }
  EXPECT_GT(n, 0u);
  EXPECT_EQ(ours, 3u);

  // --netns by name, --no-cmdline.
  ASSERT_EQ(run(std::string(NETVIZ_TRACE_BIN) + " --snapshot --no-cmdline --netns " + ns_name_ +
                " -o " + out),
            0);
  std::ifstream in2(out);
  auto doc2 = nlohmann::json::parse(in2);
  EXPECT_EQ(doc2["host"]["scope_netns"], ns_ino_);
  EXPECT_EQ(doc2["host"]["netns"].size(), 1u);
  EXPECT_EQ(doc2["sockets"].size(), 3u);
  for (const auto& pr : doc2["processes"]) EXPECT_FALSE(pr.contains("cmdline"));
  EXPECT_NE(run(std::string(NETVIZ_TRACE_BIN) + " --snapshot --netns nvt-s1-no-such -o " + out +
                " 2>/dev/null"),
            0);
  run("rm -rf " + std::string(dir));
}

TEST_F(SnapshotLive, WithoutRootListsWhatItSeesAndSaysSoOnce) {
  // A copy nobody can execute wherever the build tree lives.
  char dir[] = "/tmp/nvt-s1-XXXXXX";
  ASSERT_TRUE(mkdtemp(dir));
  std::string bin = std::string(dir) + "/netviz-trace";
  ASSERT_EQ(run("cp " + std::string(NETVIZ_TRACE_BIN) + " " + bin + " && chmod 755 " + dir +
                " " + bin),
            0);
  std::string err = std::string(dir) + "/err";
  FILE* p = popen(("setpriv --reuid=nobody --regid=nogroup --clear-groups " + bin +
                   " --snapshot 2>" + err)
                      .c_str(),
                  "r");
  ASSERT_TRUE(p);
  std::string text = slurp(p);
  int status = pclose(p);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  std::ifstream ein(err);
  std::string errs((std::istreambuf_iterator<char>(ein)), std::istreambuf_iterator<char>());
  EXPECT_EQ(std::count(errs.begin(), errs.end(), '\n'), 1) << errs;
  EXPECT_NE(errs.find("without root"), std::string::npos) << errs;
  // Our children's sockets are visible (in our namespace, through sock_diag), unowned.
  std::istringstream lines(text);
  std::string line;
  size_t ours = 0;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    for (const auto& rec : kids_->recs)
      if (j["inode"] == rec.inode && rec.kind == "tcp_listen") {
        ++ours;
        EXPECT_TRUE(j["owners"].empty());
      }
  }
  EXPECT_EQ(ours, 1u);
  run("rm -rf " + std::string(dir));
}
