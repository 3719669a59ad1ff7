#pragma once
// Joins flow ends into connections: both ends by 5-tuple and time, or one end plus what the
// group knows about the other address (a listener, an unknown process, a peer outside).
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "stitch/flow_store.h"

namespace netviz {

// failed: a connect that never reached ESTABLISHED; nobody answered, so no process is the
// other end (a refused SYN was never a listener's, whatever listens on that port later).
enum class Joined : uint8_t { both, one_side, listener, external, failed };
const char* joined_name(Joined j);

struct ConnSide {
  enum class Kind : uint8_t { process, unknown, external } kind = Kind::process;
  uint32_t host = 0;  // meaningless for external
  int32_t pid = 0;
  Sym comm = kNoSym;
  Sym addr = kNoSym;
  uint16_t port = 0;
  Sym service = kNoSym;  // the owner's service, when its capture named one
};

struct Connection {
  ConnSide client, server;
  Proto proto = Proto::none;
  uint16_t port = 0;  // the server's port
  Sym path = kNoSym;  // unix: the server's path or @name, which labels the edge
  Joined joined = Joined::both;
  bool open = true;
  uint64_t bytes = 0;
  WallNs first = 0, last = 0;
  // NATed (an end's flow carried conntrack's translation): the address the client used.
  Sym nat_addr = kNoSym;
  uint16_t nat_port = 0;
};

struct JoinStats {
  uint64_t ends = 0;
  uint64_t both = 0;       // connections with both ends captured
  uint64_t one_side = 0;   // other end on a host of the group, not captured
  uint64_t listener = 0;   // ... and owned by the listener of that port
  uint64_t external = 0;   // other end outside the group
  uint64_t ambiguous = 0;  // remote address configured on several hosts: treated as outside
  uint64_t no_remote = 0;  // unconnected sockets: nothing to join
  uint64_t unix_pairs = 0; // unix connections, both processes named by one end
  uint64_t failed = 0;     // connects that never reached ESTABLISHED
};

struct JoinOptions {
  WallNs skew_ns = 2'000'000'000;  // clock skew tolerated between hosts
};

// Linear in the number of ends: one hash map keyed by the 5-tuple, never pairwise.
JoinStats join_ends(const FlowStore& store, const JoinOptions& o,
                    const std::function<void(const Connection&)>& sink);

// Ends join only with ends of the same group: those sharing their 5-tuple or its reverse
// (and host, for flows that never leave it). A group joins the same whatever else the
// store holds, so follow mode re-joins only the groups whose ends changed.
struct JoinGroupKey {
  Proto proto = Proto::none;
  Sym addr_a = kNoSym, addr_b = kNoSym;
  uint32_t ports = 0;  // port_a << 16 | port_b
  uint32_t scope = 0;
  bool operator==(const JoinGroupKey&) const = default;
};
struct JoinGroupKeyHash {
  size_t operator()(const JoinGroupKey& k) const;
};
// `direction`, when given: 1 when the end's 5-tuple is the group's first spelling, 2 when it
// is the reverse, 3 when both (a socket connected to its own address and port).
JoinGroupKey join_group_key(const FlowStore& store, const FlowEnd& e,
                            uint8_t* direction = nullptr);
// Adds the counts of b to a.
void add_join_stats(JoinStats& a, const JoinStats& b);

// The join of some of the store's ends: `which` ascending, whole groups. Listeners are
// indexed once per Joiner; the store must not change while it lives.
class Joiner {
 public:
  Joiner(const FlowStore& store, const JoinOptions& o);
  ~Joiner();
  JoinStats join(const std::vector<uint32_t>& which,
                 const std::function<void(const Connection&)>& sink) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace netviz
