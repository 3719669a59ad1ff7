#include "trace/closed_flows.h"

namespace netviz {

// Every field of Flow is copied in push_back and unpack: a new one must be added there.
// Except nat: the tracer sets it when it writes a flow (NatBook::apply), never in the table.
static_assert(sizeof(Flow) == 384 || sizeof(void*) != 8,
              "Flow changed: update ClosedFlows::push_back and unpack");

uint32_t ClosedFlows::intern(Field field, const std::string& s) {
  Recent& r = recent_[field];
  for (uint8_t i = 0; i < r.filled; ++i)
    if (texts_[r.ids[i]] == s) return r.ids[i];
  uint32_t id;
  if (auto it = ids_.find(s); it != ids_.end()) {
    id = it->second;
  } else {
    id = static_cast<uint32_t>(texts_.size());
    texts_.push_back(s);
    ids_.emplace(s, id);
  }
  r.ids[r.next] = id;
  r.next = static_cast<uint8_t>((r.next + 1) % kRecent);
  if (r.filled < kRecent) ++r.filled;
  return id;
}

void ClosedFlows::push_back(const Flow& f) {
  Packed p{};
  p.first_seen = f.first_seen;
  p.last_seen = f.last_seen;
  if (f.duration_ns) {
    p.duration_ns = *f.duration_ns;
    p.flags |= kHasDuration;
  }
  if (f.connect_latency_ns) {
    p.latency_ns = *f.connect_latency_ns;
    p.flags |= kHasLatency;
  }
  p.netns = f.netns;
  p.bytes_sent = f.bytes_sent;
  p.bytes_received = f.bytes_received;
  p.packets = f.packets;
  p.pid = f.pid;
  p.local_port = f.local.port;
  p.proto = f.proto;
  p.family = f.family;
  p.direction = f.direction;
  p.attribution = f.attribution;
  p.state = f.state;
  p.text[kComm] = intern(kComm, f.comm);
  p.text[kService] = intern(kService, f.service);
  p.text[kLocal] = intern(kLocal, f.local.addr);
  if (f.remote) {
    p.flags |= kHasRemote;
    p.remote_port = f.remote->port;
    p.text[kRemote] = intern(kRemote, f.remote->addr);
  }
  if (f.handed_from) {
    p.flags |= kHasFrom;
    p.from_pid = f.handed_from->pid;
    p.text[kFromComm] = intern(kFromComm, f.handed_from->comm);
  } else if (f.peer) {  // a unix flow is never handed on: it shares the slots
    p.flags |= kHasPeer;
    p.from_pid = f.peer->pid;
    p.text[kFromComm] = intern(kFromComm, f.peer->comm);
  }
  items_.push_back(std::move(p));
}

void ClosedFlows::unpack(const Packed& p, Flow& f) const {
  f.proto = p.proto;
  f.family = p.family;
  f.local.addr = texts_[p.text[kLocal]];
  f.local.port = p.local_port;
  if (p.flags & kHasRemote)
    f.remote = Endpoint{texts_[p.text[kRemote]], p.remote_port};
  else
    f.remote.reset();
  f.direction = p.direction;
  f.pid = p.pid;
  f.comm = texts_[p.text[kComm]];
  f.service = texts_[p.text[kService]];
  f.netns = p.netns;
  f.first_seen = p.first_seen;
  f.last_seen = p.last_seen;
  f.duration_ns.reset();
  if (p.flags & kHasDuration) f.duration_ns = p.duration_ns;
  f.bytes_sent = p.bytes_sent;
  f.bytes_received = p.bytes_received;
  f.connect_latency_ns.reset();
  if (p.flags & kHasLatency) f.connect_latency_ns = p.latency_ns;
  f.packets = p.packets;
  f.attribution = p.attribution;
  f.state = p.state;
  f.handed_from.reset();
  if (p.flags & kHasFrom) f.handed_from = Owner{p.from_pid, texts_[p.text[kFromComm]], -1};
  f.peer.reset();
  if (p.flags & kHasPeer) f.peer = Owner{p.from_pid, texts_[p.text[kFromComm]], -1};
}

void ClosedFlows::clear() {
  items_.clear();
  texts_.clear();
  ids_.clear();
  recent_ = {};
}

}  // namespace netviz
