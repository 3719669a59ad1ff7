#include "stitch/flow_store.h"

#include <algorithm>

#include "format/ingress_text.h"

namespace netviz {

Sym Interner::id(std::string_view s) {
  auto it = ids_.find(s);
  if (it != ids_.end()) return it->second;
  Sym id = static_cast<Sym>(names_.size());
  names_.emplace_back(s);
  ids_.emplace(names_.back(), id);
  return id;
}

bool is_host_local(std::string_view a, Family family) {
  if (family == Family::unix || family == Family::packet) return true;
  if (a.empty() || a == "0.0.0.0" || a == "::" || a == "::1") return true;
  if (a.starts_with("127.") || a.starts_with("::ffff:127.")) return true;
  // Anything that is not an IP address (unix paths, interface names) stays on its host.
  return a.find_first_not_of("0123456789abcdefABCDEF.:") != std::string_view::npos;
}

uint32_t FlowStore::host_index(const std::string& name, const std::string& ns_name,
                               uint64_t netns, bool root) {
  std::string key = name;
  key += '\0';
  key += std::to_string(netns);
  auto [it, fresh] = host_keys_.emplace(key, static_cast<uint32_t>(hosts.size()));
  if (fresh) {
    hosts.push_back({name, ns_name, netns, root, {}});
  } else {
    GraphHost& h = hosts[it->second];
    if (h.ns_name.empty()) h.ns_name = ns_name;
    h.root = h.root && root;
  }
  return it->second;
}

void FlowStore::add_address(const std::string& addr, uint32_t host) {
  if (is_host_local(addr, Family::none)) return;
  auto& v = address_hosts[strings.id(canonical_addr(addr))];
  if (std::find(v.begin(), v.end(), host) == v.end()) v.push_back(host);
}

std::vector<size_t> FlowStore::drop_ended_before(WallNs before) {
  std::vector<size_t> remap(ends.size(), SIZE_MAX);
  size_t kept = 0;
  for (size_t i = 0; i < ends.size(); ++i) {
    if (ends[i].closed && ends[i].last < before) continue;
    remap[i] = kept;
    if (kept != i) ends[kept] = ends[i];
    ++kept;
  }
  ends.resize(kept);
  // A follow run drops a little every second: shrink only what is mostly unused, so the
  // store is not copied each time and still gives back what a long window held.
  if (ends.capacity() > 2 * ends.size()) ends.shrink_to_fit();
  return remap;
}

void FlowStore::merge(FlowStore&& o) {
  std::vector<Sym> sym(o.strings.size());
  for (Sym i = 0; i < sym.size(); ++i) sym[i] = strings.id(o.strings.str(i));
  auto map = [&sym](Sym s) { return s == kNoSym ? kNoSym : sym[s]; };
  std::vector<uint32_t> host(o.hosts.size());
  for (uint32_t i = 0; i < host.size(); ++i) {
    const GraphHost& h = o.hosts[i];
    host[i] = host_index(h.name, h.ns_name, h.netns, h.root);
  }
  const uint32_t nat_base = static_cast<uint32_t>(nats.size());
  for (NatTuple t : o.nats) nats.push_back({map(t.laddr), map(t.raddr), t.lport, t.rport});
  ends.reserve(ends.size() + o.ends.size());
  for (FlowEnd e : o.ends) {
    if (e.nat != UINT32_MAX) e.nat += nat_base;
    e.host = host[e.host];
      e.laddr = map(e.laddr);
    e.raddr = map(e.raddr);
    e.comm = map(e.comm);
    e.service = map(e.service);
    ends.push_back(e);
  }
  for (Listener l : o.listeners) {
    l.host = host[l.host];
    l.addr = map(l.addr);
    l.comm = map(l.comm);
    listeners.push_back(l);
  }
  for (Ingress i : o.ingress) {
    i.host = host[i.host];
    i.comm = map(i.comm);
    i.what = map(i.what);
    ingress.push_back(i);
  }
  for (const auto& [addr, hs] : o.address_hosts) {
    auto& v = address_hosts[map(addr)];
    for (uint32_t h : hs)
      if (std::find(v.begin(), v.end(), host[h]) == v.end()) v.push_back(host[h]);
  }
  lost_events += o.lost_events;
  for (const auto& [h, n] : o.lost_by_host) lost_by_host[h] += n;
  notes.insert(notes.end(), o.notes.begin(), o.notes.end());
  o = FlowStore();
}

void FlowStore::finish_labels() {
  std::unordered_map<std::string, int> count;
  auto base = [](const GraphHost& h) {
    if (h.root) return h.name;
    return h.name + "/" + (h.ns_name.empty() ? "netns-" + std::to_string(h.netns) : h.ns_name);
  };
  for (const auto& h : hosts) ++count[base(h)];
  for (auto& h : hosts) {
    h.label = base(h);
    // Two namespaces that would look alike (say, two unnamed ones captured with --netns)
    // keep apart by inode.
    if (count[h.label] > 1) h.label += "/netns-" + std::to_string(h.netns);
  }
}

FlowStore::Scope::Scope(FlowStore& store, const HostInfo& h) : store_(store), info_(h) {
  if (h.scope_netns) {
    const NetnsInfo* ns = nullptr;
    for (const auto& n : h.netns)
      if (n.inode == *h.scope_netns) ns = &n;
    if (!ns && h.netns.size() == 1) ns = &h.netns[0];
    std::string ns_name = ns ? ns->name : "";
    default_host_ = store.host_index(h.name, ns_name, *h.scope_netns, ns_name.empty());
    if (ns)
      for (const auto& a : ns->addresses) store.add_address(a, default_host_);
    return;
  }
  // Several namespaces: the first unnamed one is the host itself, the others are its
  // containers or test namespaces, each a host of the graph.
  const NetnsInfo* root = nullptr;
  for (const auto& n : h.netns)
    if (n.name.empty()) {
      root = &n;
      break;
    }
  default_host_ = store.host_index(h.name, "", root ? root->inode : 0, true);
  if (root) by_netns_[root->inode] = default_host_;
  for (const auto& n : h.netns) {
    uint32_t idx = &n == root ? default_host_ : store.host_index(h.name, n.name, n.inode, false);
    by_netns_[n.inode] = idx;
    for (const auto& a : n.addresses) store.add_address(a, idx);
  }
}

uint32_t FlowStore::Scope::host_for(uint64_t netns) {
  if (info_.scope_netns || netns == 0) return default_host_;
  auto it = by_netns_.find(netns);
  if (it != by_netns_.end()) return it->second;
  // A namespace the capture did not describe: still its own host.
  uint32_t idx = store_.host_index(info_.name, "", netns, false);
  by_netns_[netns] = idx;
  return idx;
}

FlowEnd FlowStore::Scope::make_end(const Flow& f) {
  FlowEnd e;
  e.host = host_for(f.netns);
  e.proto = f.proto;
  e.laddr = store_.strings.id(canonical_addr(f.local.addr));
  e.lport = static_cast<uint16_t>(f.local.port);
  if (f.remote) {
    e.raddr = store_.strings.id(canonical_addr(f.remote->addr));
    e.rport = static_cast<uint16_t>(f.remote->port);
  }
  e.outbound = f.direction == Direction::outbound;
  e.closed = f.duration_ns.has_value();
  e.failed = f.state == SockState::failed;
  e.start_known = f.first_seen != 0 && f.attribution != Attribution::scan;
  e.host_local = is_host_local(f.local.addr, f.family) ||
                 (f.remote && is_host_local(f.remote->addr, f.family));
  e.pid = f.pid;
  e.comm = store_.strings.id(f.comm);
  if (!f.service.empty()) e.service = store_.strings.id(f.service);
  e.first = f.first_seen;
  e.last = f.last_seen;
  e.bytes = f.bytes_sent + f.bytes_received;
  if (f.nat && f.remote) {
    e.nat = static_cast<uint32_t>(store_.nats.size());
    const Endpoint& l = f.nat->local ? *f.nat->local : f.local;
    const Endpoint& r = f.nat->remote ? *f.nat->remote : *f.remote;
    store_.nats.push_back({store_.strings.id(canonical_addr(l.addr)),
                           store_.strings.id(canonical_addr(r.addr)),
                           static_cast<uint16_t>(l.port), static_cast<uint16_t>(r.port)});
  }
  if (f.peer) {
    e.peer_pid = f.peer->pid;
    e.peer_comm = store_.strings.id(f.peer->comm);
  }
  return e;
}

void FlowStore::Scope::add_listener(const Socket& s, int32_t pid, const std::string& comm) {
  Listener l;
  l.host = host_for(s.netns);
  l.proto = s.proto;
  l.addr = store_.strings.id(canonical_addr(s.local.addr));
  l.port = static_cast<uint16_t>(s.local.port);
  l.pid = pid;
  l.comm = comm.empty() && pid == 0 ? kNoSym : store_.strings.id(comm);
  store_.listeners.push_back(l);
}

void FlowStore::Scope::add_socket(const Socket& s) {
  if (s.proto == Proto::raw || s.proto == Proto::packet) {
    Sym what = store_.strings.id(ingress_text(s));
    for (const auto& o : s.owners)
      store_.ingress.push_back({host_for(s.netns), o.pid, store_.strings.id(o.comm), what});
    return;
  }
  bool listening = s.state == SockState::listen ||
                   (s.proto == Proto::udp && !s.remote && s.local.port != 0);
  if (!listening) return;
  if (s.owners.empty()) add_listener(s, 0, "");
  for (const auto& o : s.owners) add_listener(s, o.pid, o.comm);
}

}  // namespace netviz
