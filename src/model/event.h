#pragma once
// One traced event in model terms: what the decoder (src/trace/decoder.h) makes of a ring
// buffer record, and what the live table and the sinks take.
#include <cstdint>
#include <optional>
#include <string>

#include "model/capture.h"

namespace netviz {

enum class EventKind { connect, accept, close, bind, listen, udp, exec, exit, fork };

struct TraceEvent {
  EventKind kind = EventKind::connect;
  WallNs time = 0;
  uint64_t sk = 0;  // kernel socket identity (TCP: struct sock; UDP: cookie); 0 when none
  // Socket events.
  Proto proto = Proto::none;
  Family family = Family::none;
  Endpoint local;
  Endpoint remote;
  uint64_t netns = 0;
  Attribution attribution = Attribution::none;
  std::optional<WallNs> start;
  std::optional<int64_t> connect_latency_ns;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  uint64_t packets = 0;    // connected UDP close: datagrams counted in the kernel
  SockState prev_state = SockState::none;  // TCP state before a close
  bool failed = false;     // a connect that never reached ESTABLISHED
  bool before_accept = false;
  bool inbound = false;    // connected UDP whose peer spoke first
  // attribution "handoff": the owner before the process that closed it.
  int32_t prev_pid = 0;
  std::string prev_comm;
  Attribution prev_attribution = Attribution::none;
  // proto "unix": the process that accepted the connection (pid and comm are the client).
  std::optional<Owner> peer;
  // Process.
  int32_t pid = 0;
  int32_t ppid = 0;
  std::string comm;
  uint32_t exit_code = 0;
};

bool is_socket_event(EventKind k);

}  // namespace netviz
