#include "scan/conntrack.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string_view>

#include "scan/netlink_dump.h"
#include "util/canonical_addr.h"
#include "util/privileges.h"

// libnfnetlink's copy of nfnetlink.h, included first, predates nf_tables' subsystem.
#ifndef NFNL_SUBSYS_NFTABLES
#define NFNL_SUBSYS_NFTABLES 10
#endif

namespace netviz {

namespace {

// Room for the entries made between two polls of a busy host (a few hundred bytes each).
constexpr int kEventBuffer = 8 << 20;

// The kernel drops every new-entry event without a NAT status bit before it is queued, so a
// host that tracks connections without translating them wakes nobody: the filter finds
// the top-level CTA_STATUS attribute (after the 16-byte nlmsghdr and the 4-byte nfgenmsg)
// and keeps the message only when IPS_SRC_NAT or IPS_DST_NAT is set. Without CTA_STATUS
// the message is kept, and user space decides.
void keep_only_translated(int fd) {
  static sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_IMM, 20),
      BPF_STMT(BPF_LDX | BPF_IMM, CTA_STATUS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_NLATTR)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 4, 0),
      BPF_STMT(BPF_MISC | BPF_TAX, 0),
      BPF_STMT(BPF_LD | BPF_W | BPF_IND, 4),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, IPS_SRC_NAT | IPS_DST_NAT, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, 0),
      BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
}

// Whether one NFT_MSG_NEWCHAIN message of a chain dump is a chain of type nat.
bool nat_chain(const nlmsghdr* h) {
  int left = static_cast<int>(h->nlmsg_len) - NLMSG_SPACE(sizeof(nfgenmsg));
  auto* a = reinterpret_cast<const nlattr*>(static_cast<const char*>(NLMSG_DATA(h)) +
                                            NLMSG_ALIGN(sizeof(nfgenmsg)));
  while (left >= static_cast<int>(sizeof(nlattr)) && a->nla_len >= sizeof(nlattr) &&
         a->nla_len <= left) {
    if ((a->nla_type & NLA_TYPE_MASK) == NFTA_CHAIN_TYPE) {
      std::string_view v(reinterpret_cast<const char*>(a) + NLA_HDRLEN, a->nla_len - NLA_HDRLEN);
      return v.substr(0, v.find('\0')) == "nat";
    }
    left -= NLA_ALIGN(a->nla_len);
    a = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(a) + NLA_ALIGN(a->nla_len));
  }
  return false;
}

// Whether the calling thread's namespace has an nftables chain of type nat (iptables-nft's
// nat table included): 1 yes, 0 no, -1 cannot tell.
int nft_nat_chain() {
  struct {
    nlmsghdr nh;
    nfgenmsg g;
  } req{};
  req.nh.nlmsg_len = sizeof req;
  req.nh.nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETCHAIN;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.nh.nlmsg_seq = 1;
  req.g.nfgen_family = AF_UNSPEC;
  req.g.version = NFNETLINK_V0;
  int seen = 0;
  std::string err = netlink_dump(NETLINK_NETFILTER, &req, sizeof req, [&](const nlmsghdr* h) {
    if (nat_chain(h)) seen = 1;
  });
  if (err.empty()) return seen;
  // No nf_tables in this kernel: no nftables NAT either.
  for (int e : {EOPNOTSUPP, EPROTONOSUPPORT, ENOENT})
    if (err == std::string("netlink: ") + strerror(e)) return seen;
  return -1;
}

// Whether a legacy iptables nat table exists in the calling thread's namespace.
bool legacy_nat_table() {
  for (const char* f :
       {"/proc/thread-self/net/ip_tables_names", "/proc/thread-self/net/ip6_tables_names"}) {
    std::ifstream in(f);
    for (std::string line; std::getline(in, line);)
      if (line == "nat") return true;
  }
  return false;
}

// Only NAT sets an entry's NAT status bits: without a nat table or chain the namespace's
// events would all be dropped by the socket filter, after the kernel built them. When it
// cannot tell, it says yes.
bool nat_possible() { return legacy_nat_table() || nft_nat_chain() != 0; }

// Wall time as the tracer's events carry it: the monotonic clock plus the offset to the wall
// clock taken once (at the start, like the decoder's), so a later step of the wall clock
// cannot make a read look newer than the event it must follow.
WallNs read_clock() {
  static const int64_t offset = [] {
    timespec real{}, mono{};
    clock_gettime(CLOCK_REALTIME, &real);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    return (static_cast<int64_t>(real.tv_sec) - mono.tv_sec) * 1'000'000'000 +
           (real.tv_nsec - mono.tv_nsec);
  }();
  timespec mono{};
  clock_gettime(CLOCK_MONOTONIC, &mono);
  return static_cast<int64_t>(mono.tv_sec) * 1'000'000'000 + mono.tv_nsec + offset;
}

std::string addr_text(int family, const void* a) {
  char buf[INET6_ADDRSTRLEN] = "";
  inet_ntop(family, a, buf, sizeof buf);
  return buf;
}

// The two tuples of an entry; false when it is not a translated TCP or UDP one.
bool translated(const nf_conntrack* ct, NatBook::Tuple& orig, NatBook::Tuple& reply) {
  uint32_t status = nfct_get_attr_u32(ct, ATTR_STATUS);
  if (!(status & (IPS_SRC_NAT | IPS_DST_NAT))) return false;
  uint8_t l4 = nfct_get_attr_u8(ct, ATTR_L4PROTO);
  if (l4 != IPPROTO_TCP && l4 != IPPROTO_UDP) return false;
  int family = nfct_get_attr_u8(ct, ATTR_L3PROTO);
  bool v4 = family == AF_INET;
  orig.src = addr_text(family, nfct_get_attr(ct, v4 ? ATTR_ORIG_IPV4_SRC : ATTR_ORIG_IPV6_SRC));
  orig.dst = addr_text(family, nfct_get_attr(ct, v4 ? ATTR_ORIG_IPV4_DST : ATTR_ORIG_IPV6_DST));
  reply.src = addr_text(family, nfct_get_attr(ct, v4 ? ATTR_REPL_IPV4_SRC : ATTR_REPL_IPV6_SRC));
  reply.dst = addr_text(family, nfct_get_attr(ct, v4 ? ATTR_REPL_IPV4_DST : ATTR_REPL_IPV6_DST));
  orig.sport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC));
  orig.dport = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
  reply.sport = ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_SRC));
  reply.dport = ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_DST));
  return true;
}

int on_entry(enum nf_conntrack_msg_type, struct nf_conntrack* ct, void* data) {
  auto* r = static_cast<NatBook::Source*>(data);
  NatBook::Tuple orig, reply;
  if (translated(ct, orig, reply))
    r->book->add(r->netns, nfct_get_attr_u8(ct, ATTR_L4PROTO), orig, reply);
  return NFCT_CB_CONTINUE;
}

uint8_t l4_of(Proto proto) {
  if (proto == Proto::tcp) return IPPROTO_TCP;
  if (proto == Proto::udp) return IPPROTO_UDP;
  return 0;
}

std::optional<Endpoint> differs(const std::string& addr, uint16_t port, const std::string& seen,
                                uint16_t seen_port) {
  if (addr == seen && port == seen_port) return std::nullopt;
  return Endpoint{addr, port};
}

}  // namespace

size_t NatBook::KeyHash::operator()(const Key& k) const {
  size_t h = std::hash<std::string>{}(k.laddr) * 31 + std::hash<std::string>{}(k.raddr);
  return h ^ (size_t(k.lport) << 24 | size_t(k.rport) << 8 | k.proto) ^ (k.netns * 0x9e3779b97f4a7c15ull);
}

NatBook::~NatBook() {
  for (auto& w : watches_) nfct_close(w->h);
}

// The socket that sent the original direction sees orig as (local, remote), and its peer knows
// it by the reply's destination and source; the socket that answers sees the reply tuple, and
// its peer knows it by the original destination and source.
void NatBook::add(uint64_t netns, uint8_t l4, const Tuple& orig, const Tuple& reply,
                  Clock::time_point now) {
  Nat out{differs(reply.dst, reply.dport, orig.src, orig.sport),
          differs(reply.src, reply.sport, orig.dst, orig.dport)};
  if (out.local || out.remote)
    put(Key{netns, l4, orig.src, orig.dst, orig.sport, orig.dport}, std::move(out), now);
  Nat in{differs(orig.dst, orig.dport, reply.src, reply.sport),
         differs(orig.src, orig.sport, reply.dst, reply.dport)};
  if (in.local || in.remote)
    put(Key{netns, l4, reply.src, reply.dst, reply.sport, reply.dport}, std::move(in), now);
}

void NatBook::put(Key k, Nat n, Clock::time_point now) {
  by_tuple_[std::move(k)] = Entry{std::make_shared<const Nat>(std::move(n)), now};
  oldest_ = std::min(oldest_, now);
}

const NatBook::Entry* NatBook::lookup(const Flow& f) const {
  if (by_tuple_.empty() || !f.remote) return nullptr;
  uint8_t l4 = l4_of(f.proto);
  if (!l4) return nullptr;
  Key k{f.netns, l4, std::string(canonical_addr(f.local.addr)),
        std::string(canonical_addr(f.remote->addr)), static_cast<uint16_t>(f.local.port),
        static_cast<uint16_t>(f.remote->port)};
  auto it = by_tuple_.find(k);
  return it == by_tuple_.end() ? nullptr : &it->second;
}

std::shared_ptr<const Nat> NatBook::find(const Flow& f) const {
  const Entry* e = lookup(f);
  return e ? e->nat : nullptr;
}

void NatBook::keep(const Flow& f) {
  if (const Entry* e = lookup(f)) const_cast<Entry*>(e)->kept = true;
}

size_t NatBook::sweep(Clock::time_point now, Clock::duration max_age, size_t max_entries) {
  size_t before = by_tuple_.size();
  oldest_ = Clock::time_point::max();
  for (auto it = by_tuple_.begin(); it != by_tuple_.end();) {
    if (!it->second.kept && now - it->second.added >= max_age) {
      it = by_tuple_.erase(it);
    } else {
      it->second.kept = false;
      oldest_ = std::min(oldest_, it->second.added);
      ++it;
    }
  }
  if (by_tuple_.size() > max_entries) {
    // Over the bound even with what flows still hold: the oldest go, held or not.
    std::vector<Clock::time_point> added;
    added.reserve(by_tuple_.size());
    for (const auto& [k, e] : by_tuple_) added.push_back(e.added);
    auto cut = added.begin() + static_cast<std::ptrdiff_t>(by_tuple_.size() - max_entries);
    std::nth_element(added.begin(), cut, added.end());
    Clock::time_point keep_from = *cut;
    // Older than the cut first, then as many made at the cut's time as the bound needs.
    for (bool ties : {false, true})
      for (auto it = by_tuple_.begin(); it != by_tuple_.end() && by_tuple_.size() > max_entries;) {
        if (it->second.added < keep_from || (ties && it->second.added == keep_from))
          it = by_tuple_.erase(it);
        else
          ++it;
      }
    oldest_ = keep_from;
  }
  size_t dropped = before - by_tuple_.size();
  evicted_ += dropped;
  return dropped;
}

void NatBook::apply(Flow& f) const {
  if (auto n = find(f)) f.nat = std::move(n);
}

void NatBook::failed(const std::string& what, const std::string& label) {
  failures_[what].push_back(label);
}

void NatBook::read_netns(uint64_t netns, const std::string& label, bool follow) {
  nfct_handle* events = nullptr;
  std::string err = read_conntrack_here(
      follow,
      [&](uint8_t l4, const Tuple& orig, const Tuple& reply) { add(netns, l4, orig, reply); },
      follow ? &events : nullptr);
  if (!err.empty()) return failed(err, label);
  if (events) watch(netns, events);
}

void NatBook::watch(uint64_t netns, nfct_handle* events) {
  auto w = std::make_unique<Source>(Source{this, netns, events});
  read_clock();  // its offset taken now, near the decoder's
  nfct_callback_register(events, NFCT_T_NEW, on_entry, w.get());
  watches_.push_back(std::move(w));
}

// The socket was subscribed in the namespace by a process that could: a handle of our own
// (whose socket creation needs no privilege) is pointed at it, so libnetfilter_conntrack
// reads and parses it as it does the subscriptions made at the start.
bool NatBook::adopt(uint64_t netns, int fd, const std::string& label) {
  nfct_handle* h = nfct_open(CONNTRACK, 0);
  if (!h || dup3(fd, nfct_fd(h), O_CLOEXEC) < 0) {
    failed(std::string("events: ") + strerror(errno), label);
    if (h) nfct_close(h);
    close(fd);
    return false;
  }
  close(fd);
  watch(netns, h);
  return true;
}

bool NatBook::follows(uint64_t netns) const {
  for (const auto& w : watches_)
    if (w->netns == netns) return true;
  return false;
}

std::vector<uint64_t> NatBook::followed_netns() const {
  std::vector<uint64_t> out;
  for (const auto& w : watches_) out.push_back(w->netns);
  return out;
}

bool nat_rules_here() { return nat_possible(); }

// The namespace's conntrack table holds no entry at all: a dump would walk every empty bucket
// of the table for nothing (2-3 ms here). Any doubt (unreadable, module absent) says no, and
// so does a caller without CAP_NET_ADMIN, whose dump fails and is said in stats.notes.
static bool conntrack_empty_here() {
  try {
    if (!(current_caps().effective & (uint64_t{1} << CAP_NET_ADMIN))) return false;
  } catch (const std::exception&) {
    return false;
  }
  std::ifstream in("/proc/sys/net/netfilter/nf_conntrack_count");
  std::string line;
  return std::getline(in, line) && line == "0";
}

std::string read_conntrack_here(bool follow, const NatEntryFn& on, nfct_handle** events_out) {
  if (!follow && conntrack_empty_here()) return "";
  nfct_handle* h = nfct_open(CONNTRACK, 0);
  if (!h) return strerror(errno);
  struct Ctx {
    const NatEntryFn* on;
  } ctx{&on};
  nfct_callback_register(
      h, NFCT_T_ALL,
      [](enum nf_conntrack_msg_type, struct nf_conntrack* ct, void* data) {
        NatBook::Tuple orig, reply;
        if (translated(ct, orig, reply))
          (*static_cast<Ctx*>(data)->on)(nfct_get_attr_u8(ct, ATTR_L4PROTO), orig, reply);
        return static_cast<int>(NFCT_CB_CONTINUE);
      },
      &ctx);
  uint32_t family = AF_UNSPEC;
  // Subscribed before the dump, so an entry made in between is in one or the other.
  follow = follow && events_out && nat_possible();
  nfct_handle* events = follow ? nfct_open(CONNTRACK, NF_NETLINK_CONNTRACK_NEW) : nullptr;
  int rc = nfct_query(h, NFCT_Q_DUMP, &family);
  int err = errno;
  nfct_close(h);
  if (rc < 0) {
    if (events) nfct_close(events);
    return strerror(err);
  }
  if (!follow) return "";
  if (!events) return std::string("events: ") + strerror(errno);
  int fd = nfct_fd(events);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &kEventBuffer, sizeof kEventBuffer);
  keep_only_translated(fd);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  *events_out = events;
  return "";
}

// Non-blocking: reads until the socket is empty (EAGAIN) or the kernel had to drop entries
// for want of room (ENOBUFS: counted, then read on).
void NatBook::drain(Source& w) {
  w.read_at = read_clock();
  while (nfct_catch(w.h) < 0 && errno == ENOBUFS) ++overflows_;
}

void NatBook::poll() {
  for (auto& w : watches_) drain(*w);
}

void NatBook::poll(uint64_t netns, WallNs since) {
  // The margin covers the two offsets' difference (taken microseconds apart at the start).
  constexpr WallNs kMargin = 100'000;
  for (auto& w : watches_)
    if (w->netns == netns && w->read_at <= since + kMargin) drain(*w);
}

std::vector<std::string> NatBook::notes() const {
  std::vector<std::string> out;
  for (const auto& [why, where] : failures_) {
    std::string n = "conntrack unreadable (" + why + ") in " + where[0];
    if (where.size() > 1) n += " and " + std::to_string(where.size() - 1) + " other network namespaces";
    out.push_back(n + ": flows there are not corrected for NAT");
  }
  out.insert(out.end(), later_.begin(), later_.end());
  if (overflows_)
    out.push_back("conntrack events lost " + std::to_string(overflows_) +
                  " times (receive buffer full): some NAT translations may be missing");
  return out;
}

}  // namespace netviz
