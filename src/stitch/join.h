#pragma once
// Joins flow ends into connections: both ends by 5-tuple and time, or one end plus what the
// group knows about the other address (a listener, an unknown process, a peer outside).
#include <cstdint>
#include <functional>

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
  Sym proto = kNoSym;
  uint16_t port = 0;  // the server's port
  Sym path = kNoSym;  // unix: the server's path or @name, which labels the edge
  Joined joined = Joined::both;
  bool open = true;
  uint64_t bytes = 0;
  WallNs first = 0, last = 0;
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

}  // namespace netviz
