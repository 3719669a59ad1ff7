#pragma once
// The snapshot and trace filters (--proto, --pid, --comm, --port, --netns, --listening),
// applied to sockets and flows alike.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/capture.h"

namespace netviz {

// One --proto name's match: tcp is IPv4 TCP as ss -4 has it, tcp6 IPv6; family none takes
// any family (unix, packet).
struct ProtoMatch {
  Proto proto = Proto::none;
  Family family = Family::none;
  bool operator==(const ProtoMatch&) const = default;
};

struct Filter {
  std::vector<ProtoMatch> protos;
  std::vector<int32_t> pids;
  std::vector<std::string> comms;
  std::vector<uint32_t> ports;  // local or remote
  std::optional<uint64_t> netns;
  bool listening = false;

  bool empty() const {
    return protos.empty() && pids.empty() && comms.empty() && ports.empty() && !netns &&
           !listening;
  }
  bool matches(const Socket& s) const;
  bool matches(const Flow& f) const;
  bool matches_proto(Proto proto, Family family) const;
  bool wants(Proto proto) const;  // any family of proto passes (the kernel's own filter)
};

}  // namespace netviz
