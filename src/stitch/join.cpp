#include "stitch/join.h"

#include <algorithm>
#include <limits>
#include <tuple>
#include <unordered_map>

namespace netviz {

const char* joined_name(Joined j) {
  switch (j) {
    case Joined::both: return "both";
    case Joined::one_side: return "one-side";
    case Joined::listener: return "listener";
    case Joined::external: return "external";
    case Joined::failed: return "failed";
  }
  return "?";
}

namespace {

constexpr uint32_t kNone = UINT32_MAX;
constexpr WallNs kMin = std::numeric_limits<WallNs>::min() / 4;
constexpr WallNs kMax = std::numeric_limits<WallNs>::max() / 4;

// The 5-tuple as one end sees it, plus the host for addresses that never leave it.
struct Key {
  Proto proto;
  Sym laddr, raddr;
  uint32_t ports;  // lport << 16 | rport
  uint32_t scope;  // host index for host-local flows, kNone otherwise
  bool operator==(const Key&) const = default;
};

struct KeyHash {
  size_t operator()(const Key& k) const {
    uint64_t h = 0x9e3779b97f4a7c15ull;
    auto mix = [&h](uint64_t v) {
      h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
      h *= 0xff51afd7ed558ccdull;
    };
    mix(uint64_t(k.proto) << 32 | k.laddr);
    mix(uint64_t(k.raddr) << 32 | k.ports);
    mix(k.scope);
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

// Open addressing: one flat array, no node per entry (the join's hot spot).
class ChainTable {
 public:
  explicit ChainTable(size_t n) {
    size_t cap = 16;
    while (cap < n * 2) cap <<= 1;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
  }
  // The head of the chain for k, created empty (kNone) when new.
  uint32_t& head(const Key& k) {
    for (size_t i = KeyHash{}(k) & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (!s.used) {
        s.used = true;
        s.key = k;
        return s.head;
      }
      if (s.key == k) return s.head;
    }
  }
  uint32_t find(const Key& k) const {
    for (size_t i = KeyHash{}(k) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (!s.used) return kNone;
      if (s.key == k) return s.head;
    }
  }

 private:
  struct Slot {
    Key key{};
    uint32_t head = kNone;
    bool used = false;
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

// The tuple an end joins on: as its process saw it, or as its peer sees it when NATed.
NatTuple join_tuple(const FlowStore& s, const FlowEnd& e) {
  if (e.nat != UINT32_MAX) return s.nats[e.nat];
  return {e.laddr, e.raddr, e.lport, e.rport};
}

Key key_of(const FlowStore& s, const FlowEnd& e) {
  NatTuple t = join_tuple(s, e);
  return {e.proto, t.laddr, t.raddr, uint32_t(t.lport) << 16 | t.rport,
          e.host_local ? e.host : kNone};
}

Key reversed(const FlowStore& s, const FlowEnd& e) {
  NatTuple t = join_tuple(s, e);
  return {e.proto, t.raddr, t.laddr, uint32_t(t.rport) << 16 | t.lport,
          e.host_local ? e.host : kNone};
}

// When an end may have existed: a scan only proves the flow was there at that moment, and
// a flow the capture never saw close may still be open.
WallNs lo(const FlowEnd& e) { return e.start_known ? e.first : kMin; }
WallNs hi(const FlowEnd& e) { return e.closed ? e.last : kMax; }

bool overlaps(const FlowEnd& a, const FlowEnd& b, WallNs skew) {
  return lo(a) <= hi(b) + skew && lo(b) <= hi(a) + skew;
}

WallNs distance(const FlowEnd& a, const FlowEnd& b) {
  auto d = [](WallNs x, WallNs y) { return x > y ? x - y : y - x; };
  return d(a.first, b.first) / 2 + d(a.last, b.last) / 2;
}

ConnSide side_of(const FlowEnd& e) {
  return {ConnSide::Kind::process, e.host, e.pid, e.comm, e.laddr, e.lport, e.service};
}

// A unix end that names both processes (Flow.peer) is a whole connection on its own host.
bool is_pair(const FlowEnd& e) { return e.peer_pid != 0; }

Connection unix_pair(const FlowEnd& a) {
  Connection c;
  c.proto = a.proto;
  c.client = side_of(a);
  c.server = {ConnSide::Kind::process, a.host, a.peer_pid, a.peer_comm, a.raddr, 0};
  c.path = a.raddr;
  c.joined = Joined::both;
  c.open = !a.closed;
  c.bytes = a.bytes;
  c.first = a.first;
  c.last = a.last;
  return c;
}

// Each end's partner (kNone: none): ends sharing a reversed 5-tuple whose lifetimes overlap,
// the closest in time first. Ends with an owner pair first, so an ownerless record of a
// socket (a scan that found it while it closed) never takes the partner of the traced one,
// whatever order the inputs came in. Chains of ends sharing a 5-tuple: head in the table,
// the rest through `next`. Positions are in `which`, the ends joined (ascending store indexes).
std::vector<uint32_t> pair_ends(const FlowStore& store, const std::vector<uint32_t>& which,
                                WallNs skew) {
  auto end = [&](uint32_t pos) -> const FlowEnd& { return store.ends[which[pos]]; };
  const uint32_t n = static_cast<uint32_t>(which.size());
  ChainTable heads(n);
  std::vector<uint32_t> next(n, kNone);
  for (uint32_t i = n; i-- > 0;) {
    if (end(i).raddr == kNoSym || is_pair(end(i))) continue;
    uint32_t& h = heads.head(key_of(store, end(i)));
    next[i] = h;
    h = i;
  }
  std::vector<uint32_t> partner(n, kNone);
  auto usable = [&](uint32_t i, bool owned_only) {
    const FlowEnd& e = end(i);
    return !e.failed && !is_pair(e) && partner[i] == kNone && (!owned_only || e.pid != 0);
  };
  for (bool owned_only : {true, false}) {
    for (uint32_t i = 0; i < n; ++i) {
      const FlowEnd& a = end(i);
      if (a.raddr == kNoSym || !usable(i, owned_only)) continue;
      uint32_t first = heads.find(reversed(store, a));
      if (first == kNone) continue;
      uint32_t best = kNone;
      WallNs best_d = 0;
      for (uint32_t j = first; j != kNone; j = next[j]) {
        if (j == i || !usable(j, owned_only)) continue;
        const FlowEnd& b = end(j);
        // The same socket seen twice in one namespace is not two ends of a connection.
        if (b.host == a.host && b.lport == a.lport && b.laddr == a.laddr) continue;
        if (!overlaps(a, b, skew)) continue;
        WallNs d = distance(a, b);
        if (best == kNone || d < best_d) {
          best = j;
          best_d = d;
        }
      }
      if (best != kNone) {
        partner[i] = best;
        partner[best] = i;
      }
    }
  }
  return partner;
}

// Listening sockets by (host, proto, port), for ends whose peer was not captured.
class ListenerIndex {
 public:
  explicit ListenerIndex(const FlowStore& store) : store_(store) {
    for (uint32_t k = 0; k < store.listeners.size(); ++k) {
      const Listener& l = store.listeners[k];
      index_[key(l.host, l.proto, l.port)].push_back(k);
    }
  }
  // The listener on exactly that address, else one on a wildcard address; nullptr: none.
  const Listener* find(uint32_t host, Proto proto, Sym addr, uint16_t port) const {
    auto it = index_.find(key(host, proto, port));
    if (it == index_.end()) return nullptr;
    const Listener* any = nullptr;
    for (uint32_t k : it->second) {
      const Listener& l = store_.listeners[k];
      if (l.host != host || l.proto != proto || l.port != port) continue;
      if (l.addr == addr) return &l;
      if (!any && wildcard(l.addr)) any = &l;
    }
    return any;
  }

 private:
  static uint64_t key(uint32_t host, Proto proto, uint16_t port) {
    return (uint64_t(host) << 40) ^ (uint64_t(proto) << 16) ^ port;
  }
  bool wildcard(Sym addr) const {
    const std::string& s = store_.strings.str(addr);
    return s.empty() || s == "0.0.0.0" || s == "::" || s == "*";
  }
  const FlowStore& store_;
  std::unordered_map<uint64_t, std::vector<uint32_t>> index_;
};

// Two ends joined. The outbound end is the client; when both or neither say so (datagrams),
// the end on the higher (ephemeral) port.
Connection both_sides(const FlowEnd& a, const FlowEnd& b) {
  Connection c;
  c.proto = a.proto;
  bool a_client = a.outbound != b.outbound ? a.outbound : a.lport > b.lport;
  const FlowEnd& cl = a_client ? a : b;
  const FlowEnd& sv = a_client ? b : a;
  c.client = side_of(cl);
  c.server = side_of(sv);
  c.port = sv.lport;
  c.joined = Joined::both;
  c.open = !a.closed && !b.closed;
  c.bytes = std::max(a.bytes, b.bytes);
  c.first = std::min(a.first, b.first);
  c.last = std::max(a.last, b.last);
  if (cl.nat != UINT32_MAX || sv.nat != UINT32_MAX) {
    c.nat_addr = cl.raddr;  // the client's own view: the address it connected to
    c.nat_port = cl.rport;
  }
  return c;
}

// The host of the group an end without partner points to: its own for host-local flows,
// the one host holding the remote address, or its own among several; kNone: outside.
uint32_t target_host(const FlowStore& store, const FlowEnd& a, Sym raddr, JoinStats& st) {
  if (a.host_local) return a.host;
  auto it = store.address_hosts.find(raddr);
  if (it == store.address_hosts.end()) return kNone;
  const auto& hs = it->second;
  if (hs.size() == 1) return hs[0];
  if (std::find(hs.begin(), hs.end(), a.host) != hs.end()) return a.host;
  ++st.ambiguous;
  return kNone;
}

// One end only: its peer is a listener of the group, a host of the group that captured no
// end, or outside it.
Connection one_side(const FlowStore& store, const ListenerIndex& listeners, const FlowEnd& a,
                    JoinStats& st) {
  Connection c;
  c.proto = a.proto;
  const NatTuple t = join_tuple(store, a);  // the peer's view: the real address after DNAT
  uint32_t target = target_host(store, a, t.raddr, st);
  c.open = !a.closed;
  c.bytes = a.bytes;
  c.first = a.first;
  c.last = a.last;
  ConnSide other{ConnSide::Kind::unknown, target, 0, kNoSym, t.raddr, t.rport};
  if (a.failed) {
    if (target == kNone) other.kind = ConnSide::Kind::external;
    c.joined = Joined::failed;
    ++st.failed;
  } else if (target == kNone) {
    other.kind = ConnSide::Kind::external;
    c.joined = Joined::external;
    ++st.external;
  } else if (const Listener* l =
                 a.outbound ? listeners.find(target, a.proto, t.raddr, t.rport) : nullptr) {
    other.kind = l->comm == kNoSym ? ConnSide::Kind::unknown : ConnSide::Kind::process;
    other.pid = l->pid;
    other.comm = l->comm;
    c.joined = Joined::listener;
    ++st.listener;
  } else {
    c.joined = Joined::one_side;
    ++st.one_side;
  }
  if (a.outbound) {
    c.client = side_of(a);
    c.server = other;
    c.port = t.rport;
  } else {
    c.client = other;
    c.server = side_of(a);
    c.port = a.lport;
  }
  if (a.nat != UINT32_MAX) {  // the address the client used: its own, or the server's peer view
    c.nat_addr = a.outbound ? a.raddr : t.laddr;
    c.nat_port = a.outbound ? a.rport : t.lport;
  }
  return c;
}

}  // namespace

size_t JoinGroupKeyHash::operator()(const JoinGroupKey& k) const {
  return KeyHash{}(Key{k.proto, k.addr_a, k.addr_b, k.ports, k.scope});
}

JoinGroupKey join_group_key(const FlowStore& store, const FlowEnd& e, uint8_t* direction) {
  Key k = key_of(store, e), r = reversed(store, e);
  // One spelling for both directions: the smaller of the two sides first.
  bool swap = std::tie(r.laddr, r.ports) < std::tie(k.laddr, k.ports);
  if (direction) *direction = k == r ? 3 : swap ? 2 : 1;
  const Key& c = swap ? r : k;
  return {c.proto, c.laddr, c.raddr, c.ports, c.scope};
}

void add_join_stats(JoinStats& a, const JoinStats& b) {
  a.ends += b.ends;
  a.both += b.both;
  a.one_side += b.one_side;
  a.listener += b.listener;
  a.external += b.external;
  a.ambiguous += b.ambiguous;
  a.no_remote += b.no_remote;
  a.unix_pairs += b.unix_pairs;
  a.failed += b.failed;
}

struct Joiner::Impl {
  Impl(const FlowStore& s, const JoinOptions& opt) : store(s), o(opt), listeners(s) {}
  const FlowStore& store;
  JoinOptions o;
  ListenerIndex listeners;
};

Joiner::Joiner(const FlowStore& store, const JoinOptions& o)
    : impl_(std::make_unique<Impl>(store, o)) {}
Joiner::~Joiner() = default;

JoinStats Joiner::join(const std::vector<uint32_t>& which,
                       const std::function<void(const Connection&)>& sink) const {
  const auto& ends = impl_->store.ends;
  JoinStats st;
  st.ends = which.size();
  std::vector<uint32_t> partner = pair_ends(impl_->store, which, impl_->o.skew_ns);
  for (uint32_t i = 0; i < which.size(); ++i) {
    const FlowEnd& a = ends[which[i]];
    if (a.raddr == kNoSym) {
      ++st.no_remote;
    } else if (is_pair(a)) {
      // One process at both ends (a socketpair it kept) is no edge.
      if (a.peer_pid == a.pid) continue;
      ++st.unix_pairs;
      sink(unix_pair(a));
    } else if (uint32_t p = partner[i]; p == kNone) {
      sink(one_side(impl_->store, impl_->listeners, a, st));
    } else if (p > i) {  // a lower p was emitted with its partner
      ++st.both;
      sink(both_sides(a, ends[which[p]]));
    }
  }
  return st;
}

JoinStats join_ends(const FlowStore& store, const JoinOptions& o,
                    const std::function<void(const Connection&)>& sink) {
  std::vector<uint32_t> all(store.ends.size());
  for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
  return Joiner(store, o).join(all, sink);
}

}  // namespace netviz
