#pragma once
// The stitcher's compact, in-memory form of every input: hosts (one per capture host and
// network namespace), flow ends and listening sockets, with strings interned to ids so a
// million flow ends fit in tens of megabytes.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/capture.h"
#include "util/canonical_addr.h"

namespace netviz {

using Sym = uint32_t;
inline constexpr Sym kNoSym = UINT32_MAX;

class Interner {
 public:
  Sym id(std::string_view s);
  const std::string& str(Sym id) const { return names_[id]; }
  size_t size() const { return names_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Sym, Hash, std::equal_to<>> ids_;
  std::vector<std::string> names_;
};

// One host of the graph: a capture's host name and one of its network namespaces.
struct GraphHost {
  std::string name;     // host.name
  std::string ns_name;  // netns name ("" when unnamed)
  uint64_t netns = 0;   // inode, 0 when unknown
  bool root = false;    // shown as the bare host name
  std::string label;    // unique display name, set by FlowStore::finish_labels
};

struct FlowEnd {
  uint32_t host = 0;
  Proto proto = Proto::none;
  Sym laddr = kNoSym;
  Sym raddr = kNoSym;  // kNoSym: no remote (unconnected datagram socket)
  uint16_t lport = 0;
  uint16_t rport = 0;
  // Bit-fields keep an end at 64 bytes with the nat index below.
  bool outbound : 1 = false;
  bool closed : 1 = false;       // the capture saw it end
  bool start_known : 1 = false;  // first_seen is when it started (not when a scan found it)
  bool host_local : 1 = false;   // loopback or other address that never leaves the host
  bool failed : 1 = false;       // a connect that never reached ESTABLISHED (state FAILED)
  uint32_t nat = UINT32_MAX;     // index in FlowStore::nats when conntrack translated it
  int32_t pid = 0;
  Sym comm = kNoSym;
  Sym service = kNoSym;
  WallNs first = 0;
  WallNs last = 0;
  uint64_t bytes = 0;  // sent + received, as seen from this end
  // proto unix: the process at the other end on the same host (Flow.peer); 0: not known.
  int32_t peer_pid = 0;
  Sym peer_comm = kNoSym;
};

// A translated end's tuple as its peer sees it (Flow::nat filled in): what joins it.
struct NatTuple {
  Sym laddr = kNoSym, raddr = kNoSym;
  uint16_t lport = 0, rport = 0;
};

struct Listener {
  uint32_t host = 0;
  Proto proto = Proto::none;
  Sym addr = kNoSym;
  uint16_t port = 0;
  int32_t pid = 0;
  Sym comm = kNoSym;
};

// A raw or packet socket: its owner reads packets off the wire ("raw icmp", "packet eth0 all").
struct Ingress {
  uint32_t host = 0;
  int32_t pid = 0;
  Sym comm = kNoSym;
  Sym what = kNoSym;
};

// Addresses that never leave their host: loopback, unspecified, and non-IP families.
bool is_host_local(std::string_view addr, Family family);

class FlowStore {
 public:
  Interner strings;
  std::vector<GraphHost> hosts;
  std::vector<FlowEnd> ends;
  std::vector<NatTuple> nats;  // FlowEnd::nat points here
  std::vector<Listener> listeners;
  std::vector<Ingress> ingress;
  // Non-local address → hosts that have it configured (host.netns[].addresses).
  std::unordered_map<Sym, std::vector<uint32_t>> address_hosts;
  uint64_t lost_events = 0;
  std::map<std::string, uint64_t> lost_by_host;  // capture host name -> events lost
  std::vector<std::string> notes;  // said once on stderr and in the JSON output

  // Where one capture's items go: its host and namespaces resolved once.
  class Scope {
   public:
    Scope(FlowStore& store, const HostInfo& h);
    uint32_t host_for(uint64_t netns);
    FlowEnd make_end(const Flow& f);
    void add_flow(const Flow& f) { store_.ends.push_back(make_end(f)); }
    void add_socket(const Socket& s);
    void add_listener(const Socket& s, int32_t pid, const std::string& comm);
    const std::string& host_name() const { return info_.name; }

   private:
    FlowStore& store_;
    HostInfo info_;
    uint32_t default_host_;
    std::unordered_map<uint64_t, uint32_t> by_netns_;
  };

  uint32_t host_index(const std::string& name, const std::string& ns_name, uint64_t netns,
                      bool root);
  void add_address(const std::string& addr, uint32_t host);
  // Moves another store's content in (inputs read in parallel are merged in order).
  void merge(FlowStore&& other);
  // --window: drops the closed flow ends whose last activity is before `before`. Returns the
  // new index of every old one (SIZE_MAX: dropped) for those who keep indexes into `ends`.
  std::vector<size_t> drop_ended_before(WallNs before);
  // Unique labels: "web1" for a root namespace, "web1/NAME" for others (or "web1/netns-INODE").
  void finish_labels();

 private:
  std::unordered_map<std::string, uint32_t> host_keys_;
};

}  // namespace netviz
