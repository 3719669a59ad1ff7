// nv_floor: attaches tests/bpf/bench_floor.bpf.c, one empty program at each hook point of
// netviz-trace, and waits for SIGINT or SIGTERM (or --timeout). scripts/bench-trace runs its
// storm under it to measure what calling the hooks costs, the floor under any tracer built
// on them.
//   nv_floor [--hooks all|tcp|msg] [--timeout SECONDS]
// all: the default netviz-trace's hooks; tcp: those of `netviz-trace --proto tcp`; msg: all
// but the per-packet cgroup_skb programs, with the per-message sock_send_length and
// sock_recv_length tracepoints instead (what UDP counting per message would cost).
// Prints "nv_floor attached programs=N pid=P" once every program is attached.
#include <bpf/libbpf.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "bench_floor.skel.h"
#include "trace/bpf_loader.h"
#include "trace/trace_features.h"

namespace {

struct SkelDel {
  void operator()(bench_floor_bpf* s) const { bench_floor_bpf__destroy(s); }
};
// The tracer's per-protocol program names, which these empty programs share.
void autoload_off(bpf_object* obj, const std::vector<std::string>& names) {
  for (const auto& n : names)
    if (bpf_program* p = bpf_object__find_program_by_name(obj, n.c_str()))
      bpf_program__set_autoload(p, false);
}

struct LinkDel {
  void operator()(bpf_link* l) const { bpf_link__destroy(l); }
};

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "nv_floor: %s\n", msg.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string hooks = "all";
  double timeout = 3600;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--hooks" && i + 1 < argc)
      hooks = argv[++i];
    else if (a == "--timeout" && i + 1 < argc) {
      char* end = nullptr;
      timeout = std::strtod(argv[++i], &end);
      if (*end || end == argv[i] || !(timeout > 0))
        die(std::string("--timeout: expected seconds > 0, got ") + argv[i]);
    }
    else
      die("unknown argument " + a + " (usage: nv_floor [--hooks all|tcp|msg] [--timeout SECONDS])");
  }
  if (hooks != "all" && hooks != "tcp" && hooks != "msg")
    die("--hooks: expected all, tcp or msg, got " + hooks);

  std::ifstream mounts("/proc/self/mounts");
  std::string cgroup2 = netviz::find_cgroup2_mount(mounts);
  if (cgroup2.empty()) die("no cgroup2 mount in /proc/self/mounts");

  std::vector<std::string> notes;
  try {
    netviz::ensure_tracefs(notes);
  } catch (const std::exception& e) {
    die(e.what());
  }
  std::unique_ptr<bench_floor_bpf, SkelDel> skel(bench_floor_bpf__open());
  if (!skel) die("cannot open the BPF object");
  if (hooks == "msg")
    autoload_off(skel->obj, {"udp_egress", "udp_ingress"});
  else
    autoload_off(skel->obj, {"msg_send", "msg_recv"});
  if (hooks == "tcp") autoload_off(skel->obj, netviz::udp_only_programs());
  if (int err = bench_floor_bpf__load(skel.get()))
    die(std::string("loading the BPF object failed: ") + std::strerror(-err));

  int cg = open(cgroup2.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0) die("cannot open " + cgroup2 + ": " + std::strerror(errno));
  std::vector<std::unique_ptr<bpf_link, LinkDel>> links;
  bpf_program* p;
  bpf_object__for_each_program(p, skel->obj) {
    if (!bpf_program__autoload(p)) continue;
    bpf_link* l = netviz::attach_program(p, cg);
    if (!l) die("attaching " + std::string(bpf_program__name(p)) + " failed: " + std::strerror(errno));
    links.emplace_back(l);
  }
  close(cg);

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  std::printf("nv_floor attached programs=%zu pid=%d\n", links.size(), getpid());
  std::fflush(stdout);
  timespec ts{static_cast<time_t>(timeout),
              static_cast<long>((timeout - static_cast<time_t>(timeout)) * 1e9)};
  sigtimedwait(&set, nullptr, &ts);
  return 0;
}
