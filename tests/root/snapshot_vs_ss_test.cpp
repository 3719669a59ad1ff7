// A few thousand loopback TCP connections held by child processes (some sockets shared after
// fork): every socket `ss -tanpH` lists must appear in `netviz-trace --snapshot` with the
// same holders (pid, fd), keyed by state and local and remote address and port.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

namespace {

using Key = std::tuple<std::string, std::string, uint32_t, std::string, uint32_t>;
using Holders = std::set<std::pair<int, int>>;  // (pid, fd)
using Listing = std::map<Key, std::multiset<Holders>>;

std::string run(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 65536> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int st = pclose(p);
  if (status) *status = st;
  return out;
}

// "127.0.0.1:80", "[::1]:80", "127.0.0.53%lo:53", "0.0.0.0:*" → (addr, port); port * is 0.
std::pair<std::string, uint32_t> split_endpoint(const std::string& ep) {
  auto colon = ep.rfind(':');
  std::string host = ep.substr(0, colon), port = ep.substr(colon + 1);
  if (!host.empty() && host.front() == '[') host = host.substr(1, host.find(']') - 1);
  if (auto pct = host.find('%'); pct != std::string::npos) host.resize(pct);
  return {host, port == "*" ? 0u : static_cast<uint32_t>(std::stoul(port))};
}

// ss names states its own way; netviz uses the kernel's names.
std::string kernel_state(const std::string& s) {
  static const std::map<std::string, std::string> names = {
      {"ESTAB", "ESTABLISHED"}, {"SYN-SENT", "SYN_SENT"},   {"SYN-RECV", "SYN_RECV"},
      {"FIN-WAIT-1", "FIN_WAIT1"}, {"FIN-WAIT-2", "FIN_WAIT2"}, {"TIME-WAIT", "TIME_WAIT"},
      {"UNCONN", "CLOSE"},        {"CLOSE-WAIT", "CLOSE_WAIT"}, {"LAST-ACK", "LAST_ACK"},
      {"LISTEN", "LISTEN"},       {"CLOSING", "CLOSING"}};
  auto it = names.find(s);
  return it == names.end() ? s : it->second;
}

// An unconnected remote is "*" in ss and null (or the any address) in netviz: both → ("", 0).
Key make_key(const std::string& state, std::pair<std::string, uint32_t> l,
             std::pair<std::string, uint32_t> r) {
  if (r.second == 0 && (r.first == "0.0.0.0" || r.first == "::" || r.first == "*")) r = {"", 0};
  return {state, l.first, l.second, r.first, r.second};
}

Listing parse_ss(const std::string& text) {
  Listing out;
  static const std::regex holder(R"(pid=(\d+),fd=(\d+))");
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string state, rq, sq, local, peer;
    if (!(f >> state >> rq >> sq >> local >> peer)) continue;
    Holders h;
    for (std::sregex_iterator it(line.begin(), line.end(), holder), end; it != end; ++it)
      h.insert({std::stoi((*it)[1]), std::stoi((*it)[2])});
    out[make_key(kernel_state(state), split_endpoint(local), split_endpoint(peer))].insert(h);
  }
  return out;
}

Listing parse_netviz(const nlohmann::json& doc, uint64_t netns) {
  Listing out;
  for (const auto& s : doc.at("sockets")) {
    if (s.at("netns").get<uint64_t>() != netns) continue;  // ss sees its own namespace only
    Holders h;
    for (const auto& o : s.at("owners")) h.insert({o.at("pid").get<int>(), o.at("fd").get<int>()});
    std::pair<std::string, uint32_t> l{s["local"]["addr"], s["local"]["port"]}, r{"", 0};
    if (!s.at("remote").is_null()) r = {s["remote"]["addr"], s["remote"]["port"]};
    out[make_key(s.at("state"), l, r)].insert(h);
  }
  return out;
}

// Children holding n connections to one listener: the accepting side in one process, the
// connecting side in another that forks once, so each client socket has two holders.
class ConnectionHolders {
 public:
  ~ConnectionHolders() {
    for (pid_t p : all_) kill(p, SIGKILL);
    for (pid_t p : direct_) waitpid(p, nullptr, 0);
  }

  bool hold(int family, int n) {
    int p[2];
    if (pipe(p) != 0) return false;
    sockaddr_storage ss{};
    socklen_t len;
    int l = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      a->sin_family = AF_INET;
      a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_addr = in6addr_loopback;
      len = sizeof *a;
    }
    if (l < 0 || bind(l, reinterpret_cast<sockaddr*>(&ss), len) != 0 || listen(l, 4096) != 0 ||
        getsockname(l, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
      return false;
    const linger abort_close{1, 0};  // RST on exit: no TIME_WAIT left for others to see

    pid_t server = fork();
    if (server == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      prctl(PR_SET_NAME, "nvt-s2-server");
      for (int i = 0; i < n; ++i) {
        int c = accept(l, nullptr, nullptr);
        if (c < 0) _exit(80);
        setsockopt(c, SOL_SOCKET, SO_LINGER, &abort_close, sizeof abort_close);
      }
      report(p[1]);
      for (;;) pause();
    }
    close(l);
    pid_t client = fork();
    if (client == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      prctl(PR_SET_NAME, "nvt-s2-client");
      for (int i = 0; i < n; ++i) {
        int c = socket(family, SOCK_STREAM, 0);
        if (c < 0 || connect(c, reinterpret_cast<sockaddr*>(&ss), len) != 0) _exit(81);
        setsockopt(c, SOL_SOCKET, SO_LINGER, &abort_close, sizeof abort_close);
      }
      if (fork() == 0) {  // shares every client socket with its parent
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        report(p[1]);
        for (;;) pause();
      }
      report(p[1]);
      for (;;) pause();
    }
    close(p[1]);
    direct_.push_back(server);
    direct_.push_back(client);
    all_.push_back(server);
    all_.push_back(client);
    bool ok = true;
    for (int i = 0; i < 3 && ok; ++i) {
      pid_t who;
      ok = read(p[0], &who, sizeof who) == sizeof who;
      if (ok && who != server && who != client) all_.insert(all_.begin(), who);
      if (ok) pids_.insert(who);
    }
    close(p[0]);
    return ok;
  }

  const std::set<int>& pids() const { return pids_; }

 private:
  static void report(int fd) {
    pid_t me = getpid();
    if (write(fd, &me, sizeof me) != sizeof me) _exit(82);
  }
  std::vector<pid_t> direct_, all_;
  std::set<int> pids_;
};

struct Comparison {
  size_t compared = 0, ours = 0, missing = 0, differing = 0;
};

std::string show(const Key& k) {
  std::ostringstream m;
  m << std::get<0>(k) << " " << std::get<1>(k) << ":" << std::get<2>(k) << " -> "
    << std::get<3>(k) << ":" << std::get<4>(k);
  return m.str();
}

// Every socket listed alike by both ss runs must be in nv with the same holders.
Comparison compare(const Listing& before, const Listing& after, const Listing& nv,
                   const std::set<int>& our_pids, const std::string& label) {
  Comparison c;
  for (const auto& [key, holders_ss] : before) {
    auto a = after.find(key);
    if (a == after.end() || a->second != holders_ss) continue;  // churn, not comparable
    ++c.compared;
    bool mine = false;
    for (const auto& h : holders_ss)
      for (const auto& [pid, fd] : h) mine |= our_pids.count(pid) > 0;
    c.ours += mine;
    auto n = nv.find(key);
    if (n == nv.end()) {
      if (++c.missing <= 5) ADD_FAILURE() << label << " misses " << show(key);
      continue;
    }
    if (n->second != holders_ss && ++c.differing <= 5) {
      std::ostringstream m;
      for (const auto& h : holders_ss)
        for (const auto& [pid, fd] : h) m << " ss:" << pid << "/" << fd;
      for (const auto& h : n->second)
        for (const auto& [pid, fd] : h) m << " " << label << ":" << pid << "/" << fd;
      ADD_FAILURE() << label << ": owners differ for " << show(key) << ":" << m.str();
    }
  }
  return c;
}

nlohmann::json snapshot(const std::string& extra, const std::string& out) {
  int rc = 0;
  std::string err = run(std::string(NETVIZ_TRACE_BIN) + " --snapshot --proto tcp,tcp6 " + extra +
                            " -o " + out + " 2>&1",
                        &rc);
  EXPECT_EQ(rc, 0) << "netviz-trace --snapshot " << extra << " failed: " << err;
  std::ifstream in(out);
  if (rc != 0 || !in) return nlohmann::json::object({{"sockets", nlohmann::json::array()}});
  nlohmann::json doc = nlohmann::json::parse(in);
  std::remove(out.c_str());
  return doc;
}

TEST(SnapshotVsSs, EverySocketSsListsHasTheSameOwners) {
  ASSERT_EQ(geteuid(), 0u) << "tests/root must run as root";
  constexpr int kV4 = 2500, kV6 = 300;
  ConnectionHolders holders;
  ASSERT_TRUE(holders.hold(AF_INET, kV4));
  ASSERT_TRUE(holders.hold(AF_INET6, kV6));

  struct stat st {};
  ASSERT_EQ(stat("/proc/self/ns/net", &st), 0);
  const uint64_t netns = st.st_ino;
  const std::string out =
      testing::TempDir() + "nvt-s2-snapshot-" + std::to_string(getpid()) + ".json";

  // ss before and after both netviz runs: sockets that changed in between (other tests run
  // on this host) are not comparable; every socket of ours must be stable.
  int rc = 0;
  Listing before = parse_ss(run("ss -tanpH", &rc));
  ASSERT_EQ(rc, 0) << "ss -tanpH failed";
  nlohmann::json bpf = snapshot("", out);
  nlohmann::json proc = snapshot("--no-bpf", out);
  Listing after = parse_ss(run("ss -tanpH", &rc));
  ASSERT_EQ(rc, 0);

  // Our sockets: 2 per connection plus 2 listeners, and none of them may be skipped as churn.
  const size_t ours = 2u * (kV4 + kV6) + 2u;
  for (auto [doc, path] : {std::pair{&bpf, "bpf_iter"}, std::pair{&proc, "proc"}}) {
    EXPECT_EQ(doc->value("stats", nlohmann::json::object()).value("scan_path", ""), path);
    Comparison c = compare(before, after, parse_netviz(*doc, netns), holders.pids(), path);
    EXPECT_EQ(c.missing, 0u) << path;
    EXPECT_EQ(c.differing, 0u) << path;
    EXPECT_EQ(c.ours, ours) << path << ": compared " << c.compared << " sockets in all";
  }
}

}  // namespace
