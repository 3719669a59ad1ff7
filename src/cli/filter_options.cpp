#include "cli/filter_options.h"

#include <algorithm>
#include <utility>

#include "util/error.h"

namespace netviz {

std::vector<ProtoMatch> proto_matches(const std::vector<std::string>& names) {
  static const std::vector<std::pair<std::string, std::vector<ProtoMatch>>> kNames = {
      {"tcp", {{Proto::tcp, Family::ipv4}}},
      {"tcp6", {{Proto::tcp, Family::ipv6}}},
      {"udp", {{Proto::udp, Family::ipv4}}},
      {"udp6", {{Proto::udp, Family::ipv6}}},
      {"raw", {{Proto::raw, Family::ipv4}}},
      {"raw6", {{Proto::raw, Family::ipv6}}},
      {"sctp", {{Proto::sctp, Family::ipv4}}},
      {"sctp6", {{Proto::sctp, Family::ipv6}}},
      {"packet", {{Proto::packet, Family::none}}},
      {"unix", {{Proto::unix, Family::none}}},
      {"inet", {{Proto::tcp, Family::ipv4}, {Proto::udp, Family::ipv4}}},
      {"inet6", {{Proto::tcp, Family::ipv6}, {Proto::udp, Family::ipv6}}},
  };
  std::vector<ProtoMatch> out;
  for (const auto& n : names) {
    auto it = std::find_if(kNames.begin(), kNames.end(), [&](const auto& k) { return k.first == n; });
    if (it == kNames.end())
      throw Error("--proto: unknown protocol \"" + n +
                  "\" (tcp, tcp6, udp, udp6, raw, raw6, sctp, sctp6, packet, unix, inet, inet6)");
    out.insert(out.end(), it->second.begin(), it->second.end());
  }
  return out;
}

std::optional<std::set<SockState>> socket_states(const std::vector<std::string>& names) {
  // ss shows a closed datagram socket as UNCONN and `ss state close` lists it, so close
  // covers it here too; BOUND_INACTIVE is a closed TCP socket that holds a bound port.
  using S = SockState;
  static const std::vector<std::pair<std::string, std::vector<SockState>>> kStates = {
      {"established", {S::established}},
      {"syn-sent", {S::syn_sent}},
      {"syn-recv", {S::syn_recv}},
      {"fin-wait-1", {S::fin_wait1}},
      {"fin-wait-2", {S::fin_wait2}},
      {"time-wait", {S::time_wait}},
      {"close", {S::close, S::unconn, S::bound_inactive}},
      {"close-wait", {S::close_wait}},
      {"last-ack", {S::last_ack}},
      {"listen", {S::listen}},
      {"closing", {S::closing}},
  };
  std::set<SockState> out;
  bool all = false;
  for (const auto& n : names) {
    if (n == "all") {
      all = true;
      continue;
    }
    auto it = std::find_if(kStates.begin(), kStates.end(), [&](const auto& k) { return k.first == n; });
    if (it == kStates.end()) {
      std::string known;
      for (const auto& k : kStates) known += k.first + ", ";
      throw Error("--state: unknown state \"" + n + "\" (" + known + "all)");
    }
    out.insert(it->second.begin(), it->second.end());
  }
  if (all) return std::nullopt;
  return out;
}

}  // namespace netviz
