#include "scan/nat_watch.h"

#include <fcntl.h>
#include <malloc.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "scan/netns.h"
#include "util/privileges.h"
#include "util/threads.h"

namespace netviz {

namespace {

// A message holds whole lines and stays well under the socket's send buffer.
constexpr size_t kMessage = 32 * 1024;

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t at = 0;
  for (;;) {
    size_t tab = line.find('\t', at);
    out.push_back(line.substr(at, tab == std::string_view::npos ? tab : tab - at));
    if (tab == std::string_view::npos) return out;
    at = tab + 1;
  }
}

template <class T>
bool number(std::string_view s, T& v) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool clean(const std::string& s) { return s.find_first_of("\t\n") == std::string::npos; }

std::string label_of(const NetnsRef& ns) {
  return "netns " + std::to_string(ns.inode) + (ns.name.empty() ? "" : " (" + ns.name + ")");
}

// One message, with an fd (SCM_RIGHTS) when fd >= 0. False: the tracer has gone.
bool send_message(int sock, const std::string& text, int fd) {
  iovec iov{const_cast<char*>(text.data()), text.size()};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))]{};
  if (fd >= 0) {
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  return sendmsg(sock, &m, MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
}

void close_other_fds(int keep) {
  if (syscall(SYS_close_range, keep + 1, ~0U, 0) == 0) return;
  for (int fd = keep + 1; fd < 65536; ++fd) close(fd);
}

// In the namespace the calling thread is in, which has NAT rules: reads and subscribes there,
// and sends the subscription and the dump. False: the tracer has gone.
bool follow_here(int sock, const NetnsRef& ns, bool fresh) {
  WatchLine head;
  head.netns = ns.inode;
  head.label = label_of(ns);
  std::vector<WatchLine> entries;
  nfct_handle* events = nullptr;
  std::string err = read_conntrack_here(
      true,
      [&](uint8_t l4, const NatBook::Tuple& o, const NatBook::Tuple& r) {
        WatchLine e;
        e.kind = 'E';
        e.netns = ns.inode;
        e.l4 = l4;
        e.orig = o;
        e.reply = r;
        entries.push_back(std::move(e));
      },
      &events);
  if (!err.empty() || !events) {
    head.kind = 'X';
    head.reason = err.empty() ? "no subscription" : err;
    return send_message(sock, watch_line(head), -1);
  }
  head.kind = 'F';
  head.fresh = fresh;
  head.at = wall_now_ns();
  bool ok = send_message(sock, watch_line(head), nfct_fd(events));
  nfct_close(events);  // the tracer holds it now
  std::string batch;
  for (const auto& e : entries) {
    std::string line = watch_line(e);
    if (batch.size() + line.size() > kMessage) {
      ok = ok && send_message(sock, batch, -1);
      batch.clear();
    }
    batch += line;
  }
  return ok && (batch.empty() || send_message(sock, batch, -1));
}

// Only the socket to the tracer stays open (as fd 3): the BPF links, the output and the
// metrics port stay the tracer's alone, so they end with it. Then only the privileges the
// helper needs: setns (and opening other users' /proc/PID/ns/net), and the conntrack dump
// and subscription.
int isolate(int sock) {
  if (sock != 3) {
    dup2(sock, 3);
    sock = 3;
  }
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd < 3; ++fd) dup2(null, fd);
  close_other_fds(sock);
  signal(SIGINT, SIG_IGN);  // Ctrl-C is the tracer's; the helper ends when its socket closes
  signal(SIGTERM, SIG_DFL);
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_NAME, "netviz-natwatch", 0, 0, 0);
  // The tracer's low mmap threshold (set for its scan) would map and unmap the 128 kB
  // buffer of each namespace's chain dump, most of a re-check's cost: the heap keeps it.
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 8 << 20);
  try {
    drop_capabilities({CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SYS_PTRACE});
  } catch (const std::exception&) {
    _exit(1);
  }
  return sock;
}

// The helper: every period, the namespaces in use that are not followed yet are entered
// (for_each_netns, as the scan enters them) and those with NAT rules now are followed. It
// ends when the tracer closes its end of the socket, or dies.
[[noreturn]] void helper(int sock, std::set<uint64_t> done, const std::set<uint64_t>& seen,
                         std::optional<uint64_t> only, std::chrono::milliseconds period) {
  sock = isolate(sock);
  for (;;) try {
    pollfd p{sock, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(period.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready != 0) _exit(0);  // the tracer closed its end (it never writes)
    Stats scratch;
    std::vector<NetnsRef> all = list_netns("/proc", scratch);
    std::vector<uint64_t> in_use;
    for (const auto& ns : all) in_use.push_back(ns.inode);
    std::vector<uint64_t> check = netns_to_check(in_use, done, only);
    if (check.empty()) continue;
    std::erase_if(all, [&](const NetnsRef& ns) {
      return std::find(check.begin(), check.end(), ns.inode) == check.end();
    });
    bool gone = false;
    for_each_netns(all, own_netns("/proc"), [&](const NetnsRef& ns, bool entered) {
      if (gone || !entered || !nat_rules_here()) return;
      done.insert(ns.inode);
      gone = !follow_here(sock, ns, !seen.count(ns.inode));
    });
    if (gone) _exit(0);
  } catch (const std::exception&) {
    _exit(1);
  }
}

}  // namespace

std::string watch_line(const WatchLine& l) {
  std::string s(1, l.kind);
  s += '\t' + std::to_string(l.netns);
  auto add = [&](const std::string& v) { s += '\t' + (clean(v) ? v : std::string("?")); };
  switch (l.kind) {
    case 'F':
      s += l.fresh ? "\t1\t" : "\t0\t";
      s += std::to_string(l.at);
      add(l.label);
      break;
    case 'X':
      add(l.reason);
      add(l.label);
      break;
    case 'E':
      s += '\t' + std::to_string(l.l4);
      for (const NatBook::Tuple* t : {&l.orig, &l.reply}) {
        add(t->src);
        add(t->dst);
        s += '\t' + std::to_string(t->sport) + '\t' + std::to_string(t->dport);
      }
      break;
  }
  return s + '\n';
}

std::optional<WatchLine> parse_watch_line(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  auto f = fields(line);
  WatchLine l;
  if (f.size() < 2 || f[0].size() != 1 || !number(f[1], l.netns)) return std::nullopt;
  l.kind = f[0][0];
  switch (l.kind) {
    case 'F':
      if (f.size() != 5 || (f[2] != "0" && f[2] != "1") || !number(f[3], l.at)) return std::nullopt;
      l.fresh = f[2] == "1";
      l.label = f[4];
      return l;
    case 'X':
      if (f.size() != 4) return std::nullopt;
      l.reason = f[2];
      l.label = f[3];
      return l;
    case 'E': {
      unsigned l4 = 0;
      if (f.size() != 11 || !number(f[2], l4) || l4 > 255) return std::nullopt;
      l.l4 = static_cast<uint8_t>(l4);
      size_t i = 3;
      for (NatBook::Tuple* t : {&l.orig, &l.reply}) {
        t->src = f[i];
        t->dst = f[i + 1];
        if (!number(f[i + 2], t->sport) || !number(f[i + 3], t->dport)) return std::nullopt;
        i += 4;
      }
      return l;
    }
  }
  return std::nullopt;
}

std::vector<uint64_t> netns_to_check(const std::vector<uint64_t>& in_use,
                                     const std::set<uint64_t>& done,
                                     std::optional<uint64_t> only) {
  std::vector<uint64_t> out;
  for (uint64_t ns : in_use)
    if (!done.count(ns) && (!only || *only == ns) &&
        std::find(out.begin(), out.end(), ns) == out.end())
      out.push_back(ns);
  return out;
}

std::unique_ptr<NatWatch> NatWatch::start(const std::vector<uint64_t>& followed,
                                          const std::vector<uint64_t>& seen,
                                          std::optional<uint64_t> only,
                                          std::chrono::milliseconds period, std::string* why) {
  // The child goes on in C++ (sets, strings, a thread per namespace entered): safe only if
  // no other thread could hold a lock at the fork.
  if (size_t n = thread_count(); n > 1) {
    if (why) *why = "the tracer already runs " + std::to_string(n) + " threads";
    return nullptr;
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    if (why) *why = std::string("socketpair: ") + strerror(errno);
    return nullptr;
  }
  std::set<uint64_t> done(followed.begin(), followed.end());
  std::set<uint64_t> known(seen.begin(), seen.end());
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    if (why) *why = std::string("fork: ") + strerror(errno);
    close(sv[0]);
    close(sv[1]);
    return nullptr;
  }
  if (pid == 0) {
    // Gone with the tracer, even after kill -9.
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != parent) _exit(0);
    helper(sv[1], std::move(done), known, only, period);
  }
  close(sv[1]);
  fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
  return std::unique_ptr<NatWatch>(new NatWatch(pid, sv[0]));
}

NatWatch::~NatWatch() {
  close(fd_);
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

void NatWatch::poll(NatBook& book) {
  static thread_local std::vector<char> buf(kMessage + 1024);
  for (;;) {
    iovec iov{buf.data(), buf.size()};
    msghdr m{};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))]{};
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    ssize_t n = recvmsg(fd_, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n == 0 && !ended_) {
      // The helper ends only when this end closes, unless it failed (say, its privileges).
      ended_ = true;
      book.note("the helper that follows NAT rules added after the start ended early: rules "
                "added later are not followed");
    }
    if (n <= 0) return;  // nothing more (or the helper has gone: what it sent stays)
    int fd = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
    std::string_view text(buf.data(), static_cast<size_t>(n));
    while (!text.empty()) {
      size_t nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
      auto l = parse_watch_line(line);
      if (!l) continue;
      if (l->kind == 'E') {
        book.add(l->netns, l->l4, l->orig, l->reply);
      } else if (l->kind == 'X') {
        book.note(l->label + ": NAT rules appeared after the start, but conntrack could not be "
                  "followed (" + l->reason + "): flows there are not corrected for NAT");
      } else if (l->kind == 'F' && fd >= 0 && !book.follows(l->netns)) {
        int mine = fd;
        fd = -1;
        if (!book.adopt(l->netns, mine, l->label)) continue;
        ++followed_;
        book.note(l->label + (l->fresh ? ": created after the start, NAT rules found at "
                                       : ": NAT rules appeared at ") +
                  format_time(l->at) + "; followed from then on");
      }
    }
    if (fd >= 0) close(fd);
  }
}

}  // namespace netviz
