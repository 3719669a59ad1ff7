#pragma once
// The filter options' names (--proto, --state) as the model's values: one line naming the
// option for anything else.
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/filter.h"
#include "model/kinds.h"

namespace netviz {

// tcp, tcp6, udp, udp6, raw, raw6, sctp, sctp6, packet, unix, inet (tcp and udp over IPv4),
// inet6. Throws netviz::Error naming --proto for anything else.
std::vector<ProtoMatch> proto_matches(const std::vector<std::string>& names);

// --state: ss's names (established, syn-sent, syn-recv, fin-wait-1, fin-wait-2, time-wait,
// close, close-wait, last-ack, listen, closing) as states; nullopt when "all" is among them.
// Throws netviz::Error naming --state for anything else.
std::optional<std::set<SockState>> socket_states(const std::vector<std::string>& names);

}  // namespace netviz
