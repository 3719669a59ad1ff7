#pragma once
// The capture document's data model: what netviz-trace produces and netviz-stitch reads.
// The JSON form is documented in docs/output-format.md; src/format/ maps it.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/kinds.h"
#include "util/time.h"

namespace netviz {

inline constexpr int kFormatVersion = 1;

struct Endpoint {
  std::string addr;  // textual: "127.0.0.1", "::1", "/run/x.sock", "eth0" (packet)
  uint32_t port = 0;
  bool operator==(const Endpoint&) const = default;
  auto operator<=>(const Endpoint&) const = default;
};

struct Owner {
  int32_t pid = 0;
  std::string comm;
  int32_t fd = -1;
  bool operator==(const Owner&) const = default;
};

struct Socket {
  Proto proto = Proto::none;
  Family family = Family::none;
  Endpoint local;
  std::optional<Endpoint> remote;
  SockState state = SockState::none;  // unconn for an unbound or unconnected datagram socket
  uint64_t inode = 0;
  uint64_t netns = 0;  // inode of the network namespace
  std::vector<Owner> owners;
  uint64_t cookie = 0;  // the kernel's socket cookie (sock_diag); not written out
  uint64_t peer_inode = 0;  // unix: the connected peer's inode (sock_diag); not written out
};

struct Process {
  int32_t pid = 0;
  int32_t ppid = 0;
  std::string comm;
  std::string exe;
  std::vector<std::string> cmdline;
  std::optional<uint32_t> uid;
  std::string user;
  std::string security_context;
  std::string cgroup;
  uint64_t netns = 0;
};

struct NetnsInfo {
  uint64_t inode = 0;
  std::string name;                    // from /run/netns, "" when unnamed
  std::vector<std::string> addresses;  // every address configured in it
};

struct HostInfo {
  std::string name;  // hostname; required on input
  std::string machine_id;
  std::string boot_id;
  std::string kernel;
  std::vector<NetnsInfo> netns;
  // Set when the capture was limited to one namespace (--netns): that namespace is the host.
  std::optional<uint64_t> scope_netns;
};

// A flow's addresses as the other end of the connection sees them, where the kernel's
// connection tracking translated them (DNAT, SNAT, MASQUERADE); unset members were not
// translated. The stitcher joins on these.
struct Nat {
  std::optional<Endpoint> local;
  std::optional<Endpoint> remote;
  bool operator==(const Nat&) const = default;
};

struct Flow {
  Proto proto = Proto::none;
  Family family = Family::none;
  Endpoint local;
  std::optional<Endpoint> remote;
  Direction direction = Direction::none;
  int32_t pid = 0;
  std::string comm;
  std::string service;  // see model/service.h; "" when the owner's cgroup names none
  uint64_t netns = 0;
  WallNs first_seen = 0;
  WallNs last_seen = 0;
  std::optional<int64_t> duration_ns;   // set once the flow has closed
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  std::optional<int64_t> connect_latency_ns;  // TCP, outbound, when traced
  uint64_t packets = 0;                       // UDP datagrams counted in the kernel
  Attribution attribution = Attribution::none;
  SockState state = SockState::none;  // last known TCP state, when known
  // attribution "handoff": the process that accepted (inbound) or connected (outbound) it
  // before handing it to the one in pid/comm.
  std::optional<Owner> handed_from;
  // proto "unix": the process at the other end on the same host (local is the client end).
  std::optional<Owner> peer;
  // Set only when conntrack translated the flow; shared and immutable, so the other flows
  // (every live one in the tracer) pay 16 bytes for it, not 100.
  std::shared_ptr<const Nat> nat;
};

struct Stats {
  std::string scan_path;  // "bpf_iter" or "proc"; "" when no scan ran
  uint64_t lost_events = 0;
  // Everything else a run wants to report: counters, timings, hooks, unreadable items.
  std::map<std::string, int64_t> counters;
  std::vector<std::string> notes;
};

struct Capture {
  int version = kFormatVersion;
  HostInfo host;
  std::vector<Process> processes;
  std::vector<Socket> sockets;
  std::vector<Flow> flows;
  Stats stats;
};

}  // namespace netviz
