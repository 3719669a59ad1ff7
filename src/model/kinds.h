#pragma once
// The closed sets of values a socket, flow or event carries, as enums: the live table hashes
// and compares them as integers, and their text exists only in format/kind_names.h.
#include <cstdint>

namespace netviz {

enum class Proto : uint8_t { none, tcp, udp, raw, packet, unix, sctp };

enum class Family : uint8_t { none, ipv4, ipv6, unix, packet };

enum class Direction : uint8_t { none, inbound, outbound };

// How a flow's pid was learnt (docs/design.md#attribution).
enum class Attribution : uint8_t {
  none,
  connect,
  accept,
  handoff,
  listener,
  scan,
  udp_send,
  udp_recv,
  bind,
  unknown,
};

// A socket's or flow's state: the kernel's TCP states, the datagram states the scan reports
// (UNCONN), and the two a traced TCP flow ends in (CLOSED, FAILED).
enum class SockState : uint8_t {
  none,
  unknown,
  established,
  syn_sent,
  syn_recv,
  fin_wait1,
  fin_wait2,
  time_wait,
  close,
  close_wait,
  last_ack,
  listen,
  closing,
  new_syn_recv,
  bound_inactive,
  unconn,
  closed,
  failed,
};

// The kernel's TCP state numbers (TCP_ESTABLISHED = 1 ... TCP_BOUND_INACTIVE = 13).
inline SockState tcp_state_from_kernel(unsigned s) {
  constexpr SockState kStates[] = {
      SockState::unknown,    SockState::established,  SockState::syn_sent,  SockState::syn_recv,
      SockState::fin_wait1,  SockState::fin_wait2,    SockState::time_wait, SockState::close,
      SockState::close_wait, SockState::last_ack,     SockState::listen,    SockState::closing,
      SockState::new_syn_recv, SockState::bound_inactive};
  return s < sizeof kStates / sizeof *kStates ? kStates[s] : SockState::unknown;
}

}  // namespace netviz
