#include "model/filter.h"

#include <algorithm>

namespace netviz {

namespace {
template <typename T>
bool contains(const std::vector<T>& v, const T& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}
}  // namespace

bool Filter::matches_proto(Proto proto, Family family) const {
  if (protos.empty()) return true;
  for (const auto& p : protos)
    if (p.proto == proto && (p.family == Family::none || p.family == family)) return true;
  return false;
}

bool Filter::wants(Proto proto) const {
  return protos.empty() ||
         std::any_of(protos.begin(), protos.end(), [&](const ProtoMatch& p) { return p.proto == proto; });
}

bool Filter::matches(const Socket& s) const {
  if (!matches_proto(s.proto, s.family)) return false;
  if (netns && s.netns != *netns) return false;
  if (listening && s.state != SockState::listen && !(s.proto != Proto::tcp && !s.remote && s.local.port))
    return false;
  if (!ports.empty() && !contains(ports, s.local.port) &&
      !(s.remote && contains(ports, s.remote->port)))
    return false;
  if (!pids.empty() &&
      std::none_of(s.owners.begin(), s.owners.end(), [&](const Owner& o) { return contains(pids, o.pid); }))
    return false;
  if (!comms.empty() && std::none_of(s.owners.begin(), s.owners.end(),
                                     [&](const Owner& o) { return contains(comms, o.comm); }))
    return false;
  return true;
}

bool Filter::matches(const Flow& f) const {
  if (!matches_proto(f.proto, f.family)) return false;
  if (netns && f.netns != *netns) return false;
  if (!ports.empty() && !contains(ports, f.local.port) &&
      !(f.remote && contains(ports, f.remote->port)))
    return false;
  // A unix flow names both processes: either may be the one asked for.
  if (!pids.empty() && !contains(pids, f.pid) && !(f.peer && contains(pids, f.peer->pid)))
    return false;
  if (!comms.empty() && !contains(comms, f.comm)) return false;
  return true;
}

}  // namespace netviz
