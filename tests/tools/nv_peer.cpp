// nv_peer: a small, bounded traffic generator for the root tests and scripts/bench-trace.
// Every mode stops by itself (a count, a --timeout) and prints machine-readable lines on
// stdout, one record each, "nv_peer <what> key=value ...":
//   nv_peer ready mode=tcp-server pid=P addr=A port=N     once listening (port 0 resolved)
//   nv_peer worker pid=W                                   each prefork worker
//   nv_peer conn pid=P lport=N                             client, with --print-ports
//   nv_peer accept pid=W rport=N                           server, with --print-ports
//   nv_peer held pid=P count=N                             hold: all connections established
//   nv_peer exec pid=P path=F                              tcp-client --exec, before exec
//   nv_peer done mode=M pid=P connections=N errors=E elapsed=S rate=R cpu=C
//     (C: the process's and its waited-for workers' user + system CPU seconds, softirq work
//     done in its context included: what a tracer adds to the connections themselves)
// Loopback or explicitly given addresses only; IPv4 and IPv6 ("::1").
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Args {
  std::string mode;
  std::string addr = "127.0.0.1";
  std::string bind;
  int port = 0;
  long count = -1;  // servers: -1 is unlimited (until --timeout); clients: 1
  int workers = 0;
  double rate = 0;  // connections per second; 0: as fast as possible
  int hold_ms = 0;
  int accept_delay_ms = 0;  // tcp-server: listen, then wait this long before accepting
  bool exit_after_connect = false;
  bool reset = false;       // tcp-client: close with SO_LINGER 0 (an RST, no FIN)
  bool connected = false;   // udp-client: connect() the socket, then send()/recv()
  std::string exec_path;    // tcp-client: when done, exec this (nv_peer under another name)
  std::vector<std::string> argv_again;  // the arguments, for --exec
  int local_port = 0;       // tcp-client: bind this port before connecting (4-tuple reuse)
  bool wait_close = false;  // close only after the peer closed: the peer keeps the TIME_WAIT
  long send_bytes = 0;
  bool reply = false;
  bool hold = false;        // tcp-server: keep accepted connections open
  bool print_ports = false;
  double timeout = 120;     // seconds; every mode gives up after this
  std::string comm;
};

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "nv_peer: %s: %s\n", what, std::strerror(errno));
  std::fflush(stdout);
  _exit(1);
}

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "nv_peer: %s\n"
               "usage: nv_peer tcp-server --port P [--workers N] [--bind ADDR] [--count N] "
               "[--reply] [--hold] [--accept-delay-ms M] [--wait-close]\n"
               "       nv_peer tcp-client --addr A --port P --count N [--rate R] [--hold-ms M] "
               "[--exit-after-connect] [--send BYTES] [--local-port P] [--wait-close] [--reset] "
               "[--exec PATH]\n"
               "       nv_peer udp-server --port P [--bind ADDR] [--count N]\n"
               "       nv_peer udp-client --addr A --port P --count N [--send BYTES] [--connected] [--hold-ms M]\n"
               "       nv_peer hold --addr A --port P --count N\n"
               "common: [--timeout S] [--comm NAME] [--print-ports]\n",
               msg);
  _exit(2);
}

double now_s() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

Args parse(int argc, char** argv) {
  if (argc < 2) usage("missing mode");
  Args a;
  a.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + k).c_str());
      return argv[++i];
    };
    if (k == "--addr") a.addr = val();
    else if (k == "--bind") a.bind = val();
    else if (k == "--port") a.port = std::atoi(val().c_str());
    else if (k == "--count") a.count = std::atol(val().c_str());
    else if (k == "--workers") a.workers = std::atoi(val().c_str());
    else if (k == "--rate") a.rate = std::atof(val().c_str());
    else if (k == "--hold-ms") a.hold_ms = std::atoi(val().c_str());
    else if (k == "--accept-delay-ms") a.accept_delay_ms = std::atoi(val().c_str());
    else if (k == "--send") a.send_bytes = std::atol(val().c_str());
    else if (k == "--timeout") a.timeout = std::atof(val().c_str());
    else if (k == "--comm") a.comm = val();
    else if (k == "--exit-after-connect") a.exit_after_connect = true;
    else if (k == "--reset") a.reset = true;
    else if (k == "--connected") a.connected = true;
    else if (k == "--exec") a.exec_path = val();
    else if (k == "--local-port") a.local_port = std::atoi(val().c_str());
    else if (k == "--wait-close") a.wait_close = true;
    else if (k == "--reply") a.reply = true;
    else if (k == "--hold") a.hold = true;
    else if (k == "--print-ports") a.print_ports = true;
    else usage(("unknown option " + k).c_str());
  }
  // The exec'd image gets the same arguments without --exec and --comm: its comm is then
  // the one the kernel gives at exec, the file name of --exec.
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    if ((k == "--exec" || k == "--comm") && i + 1 < argc) ++i;
    else a.argv_again.push_back(k);
  }
  if (a.port < 0 || a.port > 65535) usage("--port out of range");
  bool server = a.mode == "tcp-server" || a.mode == "udp-server";
  if (a.count < 0) a.count = server ? 0 : 1;
  if (a.bind.empty()) a.bind = a.addr;
  return a;
}

// An IPv4 or IPv6 socket address from text.
struct Addr {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = AF_INET;
};

Addr make_addr(const std::string& text, int port) {
  Addr a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    a.len = sizeof(*v4);
    a.family = AF_INET;
  } else if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    a.len = sizeof(*v6);
    a.family = AF_INET6;
  } else {
    usage(("not an IPv4 or IPv6 address: " + text).c_str());
  }
  return a;
}

int port_of(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(ss).sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in&>(ss).sin_port);
}

int local_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) die("getsockname");
  return port_of(ss);
}

double cpu_s(int who) {
  rusage ru{};
  getrusage(who, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void done(const Args& a, long conns, long errors, double start) {
  double el = now_s() - start;
  std::printf(
      "nv_peer done mode=%s pid=%d connections=%ld errors=%ld elapsed=%.6f rate=%.1f cpu=%.6f\n",
      a.mode.c_str(), getpid(), conns, errors, el, el > 0 ? conns / el : 0.0,
      cpu_s(RUSAGE_SELF) + cpu_s(RUSAGE_CHILDREN));
  std::fflush(stdout);
}

// Waits until fd is readable or the deadline passes; false on timeout.
bool wait_readable(int fd, double deadline) {
  for (;;) {
    double left = deadline - now_s();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int ms = left > 0.2 ? 200 : static_cast<int>(left * 1000) + 1;
    int r = poll(&p, 1, ms);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) die("poll");
  }
}

void drain_and_reply(int fd, const Args& a, double deadline) {
  // Read what the client sends (up to a first chunk) and answer with as many bytes.
  char buf[65536];
  if (!wait_readable(fd, deadline)) return;
  ssize_t n = read(fd, buf, sizeof(buf));
  if (n > 0 && a.reply) {
    ssize_t off = 0;
    while (off < n) {
      ssize_t w = write(fd, buf + off, n - off);
      if (w <= 0) break;
      off += w;
    }
  }
}

int listen_socket(const Args& a, int type, Addr& bound) {
  bound = make_addr(a.bind, a.port);
  int fd = socket(bound.family, type | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&bound.ss), bound.len) < 0) die("bind");
  if (type == SOCK_STREAM && listen(fd, 4096) < 0) die("listen");
  return fd;
}

// ---- TCP server (optionally prefork) ----

// Accepts until the shared total reaches --count (0: until --timeout) or the timeout.
long accept_loop(int lfd, const Args& a, std::atomic<long>* total, double deadline) {
  long mine = 0;
  std::vector<int> held;
  while ((a.count == 0 || total->load() < a.count) && now_s() < deadline) {
    // Short waits, so a prefork worker notices when its siblings reached --count.
    if (!wait_readable(lfd, std::min(deadline, now_s() + 0.1))) continue;
    sockaddr_storage peer{};
    socklen_t plen = sizeof(peer);
    int fd = accept4(lfd, reinterpret_cast<sockaddr*>(&peer), &plen, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE) break;  // hold: this process is full
      die("accept");
    }
    long n = total->fetch_add(1) + 1;
    ++mine;
    if (a.print_ports) std::printf("nv_peer accept pid=%d rport=%d\n", getpid(), port_of(peer));
    if (a.hold) {
      held.push_back(fd);
    } else {
      if (a.reply || a.send_bytes) drain_and_reply(fd, a, deadline);
      if (a.wait_close) {  // the client closes first and keeps the TIME_WAIT
        char buf[4096];
        while (wait_readable(fd, std::min(deadline, now_s() + 5)) && read(fd, buf, sizeof(buf)) > 0) {
        }
      }
      close(fd);
    }
    if (a.count && n >= a.count) break;
  }
  std::fflush(stdout);
  if (a.hold) {
    // Keep every accepted connection open until killed or timed out.
    while (now_s() < deadline) usleep(100 * 1000);
  }
  return mine;
}

int tcp_server(const Args& a) {
  double start = now_s(), deadline = start + a.timeout;
  Addr bound;
  int lfd = listen_socket(a, SOCK_STREAM, bound);
  fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);  // workers race for each connection
  std::printf("nv_peer ready mode=tcp-server pid=%d addr=%s port=%d\n", getpid(), a.bind.c_str(),
              local_port(lfd));
  std::fflush(stdout);
  auto* total = static_cast<std::atomic<long>*>(mmap(nullptr, sizeof(std::atomic<long>),
                                                     PROT_READ | PROT_WRITE,
                                                     MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  if (total == MAP_FAILED) die("mmap");
  new (total) std::atomic<long>(0);
  if (a.accept_delay_ms > 0) usleep(a.accept_delay_ms * 1000);
  if (a.workers <= 0) {
    long n = accept_loop(lfd, a, total, deadline);
    done(a, n, 0, start);
    return 0;
  }
  // Prefork: the parent only listens; each worker calls accept itself.
  std::vector<pid_t> kids;
  for (int i = 0; i < a.workers; ++i) {
    pid_t p = fork();
    if (p < 0) die("fork");
    if (p == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
      std::printf("nv_peer worker pid=%d\n", getpid());
      std::fflush(stdout);
      long n = accept_loop(lfd, a, total, deadline);
      std::printf("nv_peer worker-done pid=%d connections=%ld\n", getpid(), n);
      std::fflush(stdout);
      _exit(0);
    }
    kids.push_back(p);
  }
  close(lfd);
  for (pid_t p : kids) waitpid(p, nullptr, 0);
  done(a, total->load(), 0, start);
  return 0;
}

// ---- TCP client ----

int tcp_client(const Args& a) {
  double start = now_s(), deadline = start + a.timeout;
  Addr dst = make_addr(a.addr, a.port);
  std::vector<char> payload(a.send_bytes, 'x');
  std::vector<char> rbuf(65536);
  std::vector<int> kept;  // --exit-after-connect: left for the kernel to close at exit
  long ok = 0, errors = 0, busy_retries = 0;
  for (long i = 0; i < a.count && now_s() < deadline; ++i) {
    if (a.rate > 0) {
      double due = start + i / a.rate;
      double wait = due - now_s();
      if (wait > 0) usleep(static_cast<useconds_t>(wait * 1e6));
    }
    int fd = socket(dst.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    if (a.local_port) {
      // The same 4-tuple every time: the server closes first, so it is free again at once.
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      Addr src = make_addr(dst.family == AF_INET6 ? "::1" : "127.0.0.1", a.local_port);
      if (bind(fd, reinterpret_cast<sockaddr*>(&src.ss), src.len) < 0) die("bind");
    }
    if (connect(fd, reinterpret_cast<sockaddr*>(&dst.ss), dst.len) < 0) {
      int err = errno;
      close(fd);
      // --local-port: the previous connection on this 4-tuple may still be finishing its
      // close (LAST_ACK until the peer's ACK is processed, later on a loaded machine). Wait
      // for it and make the same connection again rather than skip one.
      if (a.local_port && err == EADDRNOTAVAIL && ++busy_retries < 5000) {
        usleep(1000);
        --i;
        continue;
      }
      errno = err;
      ++errors;
      if (errors > 100 && errors > ok) die("connect");
      continue;
    }
    ++ok;
    if (a.print_ports) std::printf("nv_peer conn pid=%d lport=%d\n", getpid(), local_port(fd));
    if (a.exit_after_connect) {
      kept.push_back(fd);
      continue;
    }
    if (a.send_bytes > 0) {
      ssize_t off = 0;
      while (off < a.send_bytes) {
        ssize_t w = write(fd, payload.data() + off, a.send_bytes - off);
        if (w <= 0) break;
        off += w;
      }
      // Wait for the reply (or the server's close) so both directions carry data.
      if (wait_readable(fd, now_s() + 5)) (void)!read(fd, rbuf.data(), rbuf.size());
    }
    if (a.hold_ms > 0) usleep(a.hold_ms * 1000);
    if (a.wait_close) {
      while (wait_readable(fd, std::min(deadline, now_s() + 5)) &&
             read(fd, rbuf.data(), rbuf.size()) > 0) {
      }
    }
    if (a.reset) {
      linger lg{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    close(fd);
  }
  done(a, ok, errors, start);
  if (!a.exec_path.empty()) {
    // Same pid, new image and comm: the same connections again under the new name. First
    // let the kernel finish closing this image's connections (with --wait-close they are
    // done already): flows still open at the exec take the new comm.
    usleep(300 * 1000);
    std::printf("nv_peer exec pid=%d path=%s\n", getpid(), a.exec_path.c_str());
    std::fflush(stdout);
    std::vector<std::string> args = {a.exec_path, a.mode};
    args.insert(args.end(), a.argv_again.begin(), a.argv_again.end());
    std::vector<char*> av;
    for (auto& x : args) av.push_back(x.data());
    av.push_back(nullptr);
    execv(a.exec_path.c_str(), av.data());
    die("execv");
  }
  // --exit-after-connect: exit with the connections still open; the kernel closes them.
  _exit(0);
}

// ---- UDP, unconnected sockets ----

int udp_server(const Args& a) {
  double start = now_s(), deadline = start + a.timeout;
  Addr bound;
  int fd = listen_socket(a, SOCK_DGRAM, bound);
  std::printf("nv_peer ready mode=udp-server pid=%d addr=%s port=%d\n", getpid(), a.bind.c_str(),
              local_port(fd));
  std::fflush(stdout);
  std::vector<char> buf(65536);
  long n = 0;
  while ((a.count == 0 || n < a.count) && wait_readable(fd, deadline)) {
    sockaddr_storage peer{};
    socklen_t plen = sizeof(peer);
    ssize_t r = recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&peer), &plen);
    if (r < 0) {
      if (errno == EINTR) continue;
      die("recvfrom");
    }
    if (sendto(fd, buf.data(), r, 0, reinterpret_cast<sockaddr*>(&peer), plen) < 0) die("sendto");
    ++n;
    if (a.print_ports) std::printf("nv_peer datagram pid=%d rport=%d\n", getpid(), port_of(peer));
  }
  done(a, n, 0, start);
  return 0;
}

int udp_client(const Args& a) {
  double start = now_s(), deadline = start + a.timeout;
  Addr dst = make_addr(a.addr, a.port);
  int fd = socket(dst.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  std::vector<char> payload(a.send_bytes > 0 ? a.send_bytes : 32, 'u');
  std::vector<char> buf(65536);
  long ok = 0, errors = 0;
  bool printed = false;
  if (a.connected && connect(fd, reinterpret_cast<sockaddr*>(&dst.ss), dst.len) < 0)
    die("connect");
  for (long i = 0; i < a.count && now_s() < deadline; ++i) {
    if (a.rate > 0) {
      double wait = start + i / a.rate - now_s();
      if (wait > 0) usleep(static_cast<useconds_t>(wait * 1e6));
    }
    if (a.connected ? send(fd, payload.data(), payload.size(), 0) < 0
                    : sendto(fd, payload.data(), payload.size(), 0,
                             reinterpret_cast<sockaddr*>(&dst.ss), dst.len) < 0)
      die("sendto");
    if (a.print_ports && !printed) {
      std::printf("nv_peer conn pid=%d lport=%d\n", getpid(), local_port(fd));
      printed = true;
    }
    // The response; a lost one counts as an error (loopback does not lose them).
    if (!wait_readable(fd, std::min(deadline, now_s() + 2))) {
      ++errors;
      continue;
    }
    if (recvfrom(fd, buf.data(), buf.size(), 0, nullptr, nullptr) < 0) die("recvfrom");
    ++ok;
  }
  done(a, ok, errors, start);
  if (a.hold_ms > 0) usleep(a.hold_ms * 1000);  // the socket stays open this long
  close(fd);
  return errors ? 1 : 0;
}

// ---- hold: N established connections until killed ----

int hold(const Args& a) {
  double start = now_s(), deadline = start + a.timeout;
  Addr dst = make_addr(a.addr, a.port);
  std::vector<int> fds;
  long errors = 0;
  for (long i = 0; i < a.count; ++i) {
    int fd = socket(dst.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    if (connect(fd, reinterpret_cast<sockaddr*>(&dst.ss), dst.len) < 0) die("connect");
    if (a.print_ports) std::printf("nv_peer conn pid=%d lport=%d\n", getpid(), local_port(fd));
    fds.push_back(fd);
  }
  std::printf("nv_peer held pid=%d count=%zu\n", getpid(), fds.size());
  std::fflush(stdout);
  while (now_s() < deadline) usleep(100 * 1000);
  done(a, static_cast<long>(fds.size()), errors, start);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse(argc, argv);
  if (!a.comm.empty()) prctl(PR_SET_NAME, a.comm.c_str(), 0, 0, 0);
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, nullptr, _IOLBF, 0);  // readers wait for "ready" lines as they happen
  // Leave with the caller: a test that dies must not leave traffic generators behind.
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (a.mode == "tcp-server") return tcp_server(a);
  if (a.mode == "tcp-client") return tcp_client(a);
  if (a.mode == "udp-server") return udp_server(a);
  if (a.mode == "udp-client") return udp_client(a);
  if (a.mode == "hold") return hold(a);
  usage(("unknown mode " + a.mode).c_str());
}
