#pragma once
// The snapshot and trace filters (--proto, --pid, --comm, --port, --netns, --listening),
// applied to sockets and flows alike.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/capture.h"

namespace netviz {

struct Filter {
  std::vector<std::string> protos;  // "tcp", "udp", "tcp6" (proto+family), ...
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
  bool matches_proto(const std::string& proto, const std::string& family) const;
};

// Accepts tcp, tcp6, udp, udp6, raw, raw6, packet, unix, sctp, sctp6, inet, inet6.
// Throws netviz::Error naming the option for anything else.
void check_proto_name(const std::string& name);

// --state: ss's names (established, syn-sent, syn-recv, fin-wait-1, fin-wait-2, time-wait,
// close, close-wait, last-ack, listen, closing) to the capture's state strings (ESTABLISHED,
// SYN_SENT, ...); nullopt when "all" is among them. Throws netviz::Error naming --state for
// anything else.
std::optional<std::set<std::string>> socket_states(const std::vector<std::string>& names);

}  // namespace netviz
