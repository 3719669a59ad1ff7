#include "trace/bpf_loader.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <unistd.h>

#include <linux/bpf.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <set>

#include "trace.skel.h"
#include "trace/ring_fill.h"
#include "util/error.h"

namespace netviz {

namespace {

std::string g_libbpf_log;  // the last lines libbpf printed, for error messages

int capture_print(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char buf[1024];
  vsnprintf(buf, sizeof buf, fmt, args);
  g_libbpf_log += buf;
  if (g_libbpf_log.size() > 16384) g_libbpf_log.erase(0, g_libbpf_log.size() - 16384);
  return 0;
}

std::string last_log_line() {
  std::string s = g_libbpf_log;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  auto nl = s.rfind('\n');
  return nl == std::string::npos ? s : s.substr(nl + 1);
}

struct SkelDeleter {
  void operator()(trace_bpf* s) const { trace_bpf__destroy(s); }
};
using SkelPtr = std::unique_ptr<trace_bpf, SkelDeleter>;

struct LinkDeleter {
  void operator()(bpf_link* l) const { bpf_link__destroy(l); }
};

std::string kind_of(const bpf_program* p) {
  std::string sec = bpf_program__section_name(p);
  if (sec.rfind("tp_btf/", 0) == 0) return "tp_btf";
  if (sec.rfind("raw_tp/", 0) == 0) return "raw_tp";
  if (sec.rfind("cgroup", 0) == 0) return "cgroup";  // cgroup/..., cgroup_skb/...
  return "tracepoint";
}

std::string target_of(const bpf_program* p) {
  std::string sec = bpf_program__section_name(p);
  if (sec.rfind("cgroup_skb/", 0) == 0) return sec;
  auto slash = sec.find('/');
  return slash == std::string::npos ? sec : sec.substr(slash + 1);
}

void autoload_off(bpf_object* obj, const std::vector<std::string>& names, const char* why) {
  for (const auto& name : names) {
    bpf_program* p = bpf_object__find_program_by_name(obj, name.c_str());
    if (!p) throw Error(std::string(why) + ": no BPF program named '" + name + "'");
    bpf_program__set_autoload(p, false);
  }
}

// BPF_CGROUP_UNIX_CONNECT (kernel 6.7): Debian 12's uapi header and libbpf 1.1 predate it,
// so its number is spelt here and its section registered with libbpf by hand.
constexpr auto kUnixConnect = static_cast<bpf_attach_type>(49);

void register_unix_sections() {
  static const int done = libbpf_register_prog_handler(
      "cgroup/connect_unix", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, kUnixConnect, nullptr);
  (void)done;
}

// The accept() programs serve unix connections too: --proto tcp alone does not own them.
std::vector<std::string> tcp_programs_off(const KernelFilters& f) {
  std::vector<std::string> out;
  for (const auto& n : tcp_only_programs())
    if (!f.unix_stream || n.rfind("exit_accept", 0) != 0) out.push_back(n);
  return out;
}

SkelPtr open_skeleton(const KernelFilters& f, bool use_tp_btf, bool one_context,
                     const std::vector<std::string>& skip) {
  register_unix_sections();
  SkelPtr s(trace_bpf__open());
  if (!s) throw Error("cannot open the tracing BPF object: " + last_log_line());
  s->rodata->targ_netns = f.netns;
  s->rodata->targ_pid = f.pid;
  static_assert(sizeof s->rodata->targ_ports / sizeof s->rodata->targ_ports[0] ==
                KernelFilters::kMaxKernelPorts);
  s->rodata->targ_nports = static_cast<uint32_t>(f.ports.size());
  std::copy(f.ports.begin(), f.ports.end(), s->rodata->targ_ports);
  s->rodata->one_context = one_context ? 1 : 0;
  s->rodata->quiet_opens = f.quiet_opens ? 1 : 0;
  bpf_program__set_autoload(s->progs.state_btf, use_tp_btf);
  bpf_program__set_autoload(s->progs.state_btf_nested, use_tp_btf);
  bpf_program__set_autoload(s->progs.state_tp, !use_tp_btf);
  if (!f.tcp) autoload_off(s->obj, tcp_programs_off(f), "--proto");
  bpf_program__set_autoload(s->progs.connect_unix, f.unix_stream);
  // raw_tp, not tp_btf: the tracepoint came in 6.3, and a raw_tp program loads without it
  // (its attach fails, said in stats.notes). A tp_btf flavour measured no faster here.
  bpf_program__set_autoload(s->progs.unix_send_length, f.unix_stream);
  if (!f.udp) autoload_off(s->obj, udp_only_programs(), "--proto");
  autoload_off(s->obj, skip, "--bench-skip-hooks");
  return s;
}

}  // namespace

void KernelFilters::set_ports(const std::vector<uint32_t>& wanted) {
  ports.clear();
  if (wanted.size() > kMaxKernelPorts) return;
  for (uint32_t p : wanted) {
    if (p == 0 || p > 65535) {
      ports.clear();
      return;
    }
    ports.push_back(static_cast<uint16_t>(p));
  }
}

bool KernelFilters::port_filtered(uint16_t lport, uint16_t rport) const {
  auto wanted = [&](uint16_t p) { return std::find(ports.begin(), ports.end(), p) != ports.end(); };
  return !ports.empty() && !wanted(lport) && !wanted(rport);
}

// Loads the smallest tp_btf program on sock:inet_sock_set_state that does what state_btf
// needs of the flavour (its struct sock argument handed to bpf_skc_to_tcp_sock), as
// libbpf-tools' probe_tp_btf does: "" if the kernel takes it, else why not.
std::string probe_tp_btf() {
  int btf_id = libbpf_find_vmlinux_btf_id("inet_sock_set_state", BPF_TRACE_RAW_TP);
  if (btf_id < 0) return std::string("no BTF for the tracepoint: ") + strerror(-btf_id);
  const bpf_insn insns[] = {
      // r1 = ctx[0] (struct sock *); r0 = bpf_skc_to_tcp_sock(r1); return 0
      {BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_1, 0, 0},
      {BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_skc_to_tcp_sock},
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_RAW_TP,
              .attach_btf_id = static_cast<uint32_t>(btf_id));
  int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "nv_probe_tp_btf", "GPL", insns,
                         sizeof insns / sizeof insns[0], &opts);
  if (fd < 0) return std::string("bpf_prog_load: ") + strerror(errno);
  close(fd);
  return "";
}

// Loads the smallest cgroup/connect_unix program (return 1): "" if the kernel takes the
// attach type, else why not.
std::string probe_unix_connect() {
  const bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = kUnixConnect);
  int fd = bpf_prog_load(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, "nv_probe_unix", "GPL", insns,
                         sizeof insns / sizeof insns[0], &opts);
  if (fd < 0) return std::string("bpf_prog_load: ") + strerror(errno);
  close(fd);
  return "";
}

void ensure_tracefs(std::vector<std::string>& notes) {
  if (access("/sys/kernel/tracing/events", F_OK) == 0 ||
      access("/sys/kernel/debug/tracing/events", F_OK) == 0)
    return;
  if (unshare(CLONE_NEWNS) != 0)
    throw Error(std::string("tracefs is not mounted and a private mount failed: unshare: ") +
                strerror(errno));
  if (mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0 ||
      mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, nullptr) != 0)
    throw Error(std::string("tracefs is not mounted and mounting it failed: ") +
                strerror(errno));
  notes.push_back("tracefs mounted in a private mount namespace");
}

const std::vector<std::string>& tcp_only_programs() {
  static const std::vector<std::string> names = {"state_btf",    "state_btf_nested", "state_tp",
                                                 "exit_accept4", "exit_accept",      "enter_listen",
                                                 "exit_listen"};
  return names;
}

const std::vector<std::string>& udp_only_programs() {
  static const std::vector<std::string> names = {"udp_egress", "udp_ingress", "sendmsg4",
                                                 "sendmsg6",   "recvmsg4",    "recvmsg6",
                                                 "connect4",   "connect6",    "sock_release"};
  return names;
}

bpf_link* attach_program(bpf_program* p, int cgroup_fd) {
  return kind_of(p) == "cgroup" ? bpf_program__attach_cgroup(p, cgroup_fd)
                                : bpf_program__attach(p);
}

struct TraceLoader::Impl {
  SkelPtr skel;
  std::vector<std::unique_ptr<bpf_link, LinkDeleter>> links;
  int cgroup_fd = -1;
  ring_buffer* rb = nullptr;
  std::unique_ptr<RingFill> fill;  // nullptr: the positions could not be mapped
  uint64_t fill_last = 0, fill_peak = 0;
  const std::function<void(const nv_event&)>* sink = nullptr;

  ~Impl() {
    if (rb) ring_buffer__free(rb);
    links.clear();
    skel.reset();
    if (cgroup_fd >= 0) close(cgroup_fd);
  }

  static int on_record(void* ctx, void* data, size_t size) {
    auto* self = static_cast<Impl*>(ctx);
    if (size < sizeof(nv_event) || !self->sink) return 0;
    nv_event e;
    memcpy(&e, data, sizeof e);
    (*self->sink)(e);
    return 0;
  }
};

TraceLoader::TraceLoader(const TraceFeatures& features, const KernelFilters& filters)
    : impl_(std::make_unique<Impl>()) {
  if (auto m = features.missing(); !m.empty()) throw Error(m);
  libbpf_set_print(capture_print);
  ensure_tracefs(notes_);

  // The flavour is chosen before the one load: a failed load would leave every program to
  // load again, and an error there would name the wrong cause.
  bool btf_flavour = features.tp_btf;
  if (btf_flavour && filters.tcp) {  // --proto udp loads no state program: nothing to probe
    if (std::string why = probe_tp_btf(); !why.empty()) {
      // The classic tracepoint carries the same data.
      notes_.push_back("tp_btf/inet_sock_set_state does not load here (" + why +
                       "); using the classic tracepoint");
      btf_flavour = false;
    }
  }
  KernelFilters kf = filters;
  if (kf.unix_stream) {
    if (std::string why = probe_unix_connect(); !why.empty()) {
      notes_.push_back("unix connections not traced: no cgroup/connect_unix hook here (kernel "
                       "6.7 or later; " + why + ")");
      kf.unix_stream = false;
    }
  }
  traces_unix_ = kf.unix_stream;
  impl_->skel = open_skeleton(kf, btf_flavour, features.one_context, features.skip_hooks);
  g_libbpf_log.clear();
  int err = trace_bpf__load(impl_->skel.get());
  if (err) {
    if (err == -EPERM || err == -EACCES)
      throw Error("loading the tracing BPF programs was refused (needs root): " +
                  last_log_line());
    throw Error("cannot load the tracing BPF programs: " + std::string(strerror(-err)) +
                ": " + last_log_line());
  }

  impl_->cgroup_fd = open(features.cgroup2.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (impl_->cgroup_fd < 0)
    throw Error("cannot open the cgroup2 root " + features.cgroup2 + ": " + strerror(errno));

  bpf_program* p;
  bpf_object__for_each_program(p, impl_->skel->obj) {
    if (!bpf_program__autoload(p)) continue;
    bpf_link* link = attach_program(p, impl_->cgroup_fd);
    if (!link && p == impl_->skel->progs.connect_unix) {  // loaded, yet refused: said once
      notes_.push_back(std::string("unix connections not traced: attaching cgroup/connect_unix "
                                   "failed: ") + strerror(errno));
      traces_unix_ = false;
      continue;
    }
    const bool unix_bytes = p == impl_->skel->progs.unix_send_length;
    if (!link && unix_bytes) {  // no such tracepoint (before 6.3)
      notes_.push_back("unix bytes not counted: attaching " + kind_of(p) +
                       "/sock_send_length failed: " + strerror(errno));
      continue;
    }
    counts_unix_bytes_ = counts_unix_bytes_ || unix_bytes;
    if (!link) {
      int e = errno;
      throw Error("cannot attach " + kind_of(p) + " " + target_of(p) + ": " + strerror(e));
    }
    impl_->links.emplace_back(link);
    hooks_.push_back({bpf_program__name(p), kind_of(p), target_of(p)});
  }

  if (!features.skip_hooks.empty()) {
    std::string names;
    for (const auto& n : features.skip_hooks) names += (names.empty() ? "" : ",") + n;
    notes_.push_back("hooks left out on request (--bench-skip-hooks " + names +
                     "): this capture is incomplete");
  }

  impl_->rb = ring_buffer__new(bpf_map__fd(impl_->skel->maps.events), Impl::on_record,
                               impl_.get(), nullptr);
  if (!impl_->rb) throw Error(std::string("cannot set up the ring buffer: ") + strerror(errno));
  try {
    impl_->fill = std::make_unique<RingFill>(bpf_map__fd(impl_->skel->maps.events),
                                             bpf_map__max_entries(impl_->skel->maps.events));
  } catch (const Error& e) {
    notes_.push_back(std::string("ring buffer use not measured: ") + e.what());
  }
}

TraceLoader::RingUse TraceLoader::ring_use() const {
  if (!impl_->fill) return {};
  return {impl_->fill->size(), impl_->fill_last, impl_->fill_peak};
}

TraceLoader::~TraceLoader() = default;

std::string TraceLoader::summary() const {
  std::set<std::string> kinds;
  bool tp = false;
  for (const auto& h : hooks_) {
    if (h.kind == "cgroup")
      kinds.insert("cgroup");
    else
      tp = true;
  }
  std::string s = std::to_string(hooks_.size()) + " hooks: ";
  if (tp) s += "tracepoints";
  if (kinds.count("cgroup")) s += tp ? ", cgroup" : "cgroup";
  return s;
}

int TraceLoader::poll(int timeout_ms, const std::function<void(const nv_event&)>& fn) {
  // The wait is ours rather than ring_buffer__poll's so that the backlog can be read between
  // the wake-up and the consume: the moment the buffer is fullest. The kernel side wakes us
  // only for big batches; whatever is there is consumed either way.
  epoll_event ev;
  int w = epoll_wait(ring_buffer__epoll_fd(impl_->rb), &ev, 1, timeout_ms);
  if (w < 0) return -errno;
  if (impl_->fill) {
    impl_->fill_last = impl_->fill->used();
    impl_->fill_peak = std::max(impl_->fill_peak, impl_->fill_last);
  }
  impl_->sink = &fn;
  int n = ring_buffer__consume(impl_->rb);
  impl_->sink = nullptr;
  return n;
}

static uint64_t percpu_stat(const trace_bpf* skel, uint32_t key) {
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return 0;
  std::vector<uint64_t> vals(static_cast<size_t>(ncpu));
  if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.stats), &key, vals.data()) != 0) return 0;
  uint64_t sum = 0;
  for (auto v : vals) sum += v;
  return sum;
}

uint64_t TraceLoader::nested_runs() const { return percpu_stat(impl_->skel.get(), NV_STAT_NESTED); }

uint64_t TraceLoader::kernel_stat(uint32_t which) const {
  return percpu_stat(impl_->skel.get(), which);
}

uint64_t TraceLoader::missed_runs() const {
  uint64_t sum = 0;
  bpf_program* p;
  bpf_object__for_each_program(p, impl_->skel->obj) {
    if (!bpf_program__autoload(p)) continue;
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len) != 0) continue;
    // state_btf_nested is skipped only where state_btf ran (bpf/tcp_state.bpf.c): no loss.
    if (p == impl_->skel->progs.state_btf_nested) continue;
    if (p != impl_->skel->progs.state_btf) {
      sum += info.recursion_misses;
      continue;
    }
    // state_btf_nested takes over every run of state_btf the kernel skipped and counts it;
    // any run taken by neither shows as the difference.
    uint64_t nested = nested_runs();
    if (info.recursion_misses > nested) sum += info.recursion_misses - nested;
  }
  return sum;
}

uint64_t TraceLoader::kernel_drops() const {
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return 0;
  std::vector<uint64_t> vals(static_cast<size_t>(ncpu));
  uint32_t key = NV_STAT_RB_DROPS;
  if (bpf_map_lookup_elem(bpf_map__fd(impl_->skel->maps.stats), &key, vals.data()) != 0)
    return 0;
  uint64_t sum = 0;
  for (auto v : vals) sum += v;
  return sum;
}

std::vector<std::pair<nv_udp_key, nv_udp_val>> TraceLoader::udp_counts() const {
  std::vector<std::pair<nv_udp_key, nv_udp_val>> out;
  int fd = bpf_map__fd(impl_->skel->maps.udp_flows);
  nv_udp_key key{}, next{};
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    nv_udp_val v{};
    if (bpf_map_lookup_elem(fd, &next, &v) == 0) out.emplace_back(next, v);
    key = next;
    prev = &key;
  }
  return out;
}

// Every entry of a map keyed by a socket cookie or address.
template <typename V>
static std::vector<std::pair<uint64_t, V>> by_socket(const bpf_map* map) {
  std::vector<std::pair<uint64_t, V>> out;
  int fd = bpf_map__fd(map);
  uint64_t key = 0, next = 0;
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    V v{};
    if (bpf_map_lookup_elem(fd, &next, &v) == 0) out.emplace_back(next, v);
    key = next;
    prev = &key;
  }
  return out;
}

std::vector<std::pair<uint64_t, nv_udp_conn>> TraceLoader::udp_conn_counts() const {
  return by_socket<nv_udp_conn>(impl_->skel->maps.udp_conns);
}

std::vector<std::pair<uint64_t, nv_unix_conn>> TraceLoader::unix_records() const {
  return by_socket<nv_unix_conn>(impl_->skel->maps.unix_conns);
}

std::optional<nv_unix_pending> TraceLoader::unix_counts(uint64_t cookie) const {
  nv_unix_pending p{};
  if (bpf_map_lookup_elem(bpf_map__fd(impl_->skel->maps.unix_connecting), &cookie, &p) != 0)
    return std::nullopt;
  return p;
}

void TraceLoader::forget_unix(uint64_t cookie) const {
  bpf_map_delete_elem(bpf_map__fd(impl_->skel->maps.unix_conns), &cookie);
  bpf_map_delete_elem(bpf_map__fd(impl_->skel->maps.unix_connecting), &cookie);
}

std::vector<std::pair<uint64_t, nv_sock_info>> TraceLoader::open_tcp_records() const {
  std::vector<std::pair<uint64_t, nv_sock_info>> out;
  int fd = bpf_map__fd(impl_->skel->maps.socks);
  uint64_t key = 0, next = 0;
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    nv_sock_info v{};
    if (bpf_map_lookup_elem(fd, &next, &v) == 0 && v.has_tuple) out.emplace_back(next, v);
    key = next;
    prev = &key;
  }
  return out;
}

}  // namespace netviz
