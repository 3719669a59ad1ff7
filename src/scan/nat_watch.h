#pragma once
// NAT rules added after the tracer started, and namespaces created after it: the tracer gives
// up the privileges to enter a namespace (CAP_SYS_ADMIN) and to subscribe to its conntrack
// (CAP_NET_ADMIN) once tracing begins, so a helper process forked before that keeps only
// those, re-checks the namespaces not followed yet every period, and for one that now has NAT
// rules subscribes and dumps there (read_conntrack_here, as the scan does) and hands the
// subscribed socket and the dump back over a unix socket. The tracer only reads.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "scan/conntrack.h"
#include "util/time.h"

namespace netviz {

// One line of the helper's messages (tab-separated; a message holds one or more lines).
//   F netns fresh at label   the namespace is followed from `at` (its socket rides along);
//                            fresh: created after the start
//   X netns reason label     it has NAT rules but could not be followed
//   E netns l4 osrc odst osport odport rsrc rdst rsport rdport   one entry of its dump
struct WatchLine {
  char kind = 0;
  uint64_t netns = 0;
  bool fresh = false;
  WallNs at = 0;
  std::string label, reason;
  uint8_t l4 = 0;
  NatBook::Tuple orig, reply;
};
std::string watch_line(const WatchLine& l);
std::optional<WatchLine> parse_watch_line(std::string_view line);

// The namespaces a re-check looks at: those in use, not followed or given up on yet, and
// only `only` when set.
std::vector<uint64_t> netns_to_check(const std::vector<uint64_t>& in_use,
                                     const std::set<uint64_t>& done,
                                     std::optional<uint64_t> only);

class NatWatch {
 public:
  // Forks the helper. Call while the process has one thread and still its privileges;
  // `followed`: the namespaces the scan follows already; `seen`: all it knew.
  // nullptr (and *why) when it cannot start.
  static std::unique_ptr<NatWatch> start(const std::vector<uint64_t>& followed,
                                         const std::vector<uint64_t>& seen,
                                         std::optional<uint64_t> only,
                                         std::chrono::milliseconds period, std::string* why);
  NatWatch(const NatWatch&) = delete;
  NatWatch& operator=(const NatWatch&) = delete;
  ~NatWatch();  // the helper is killed and reaped

  // What the helper sent since the last call, into book (never blocks). Each namespace
  // followed gets a note in book.
  void poll(NatBook& book);
  uint64_t followed_later() const { return followed_; }

 private:
  NatWatch(pid_t pid, int fd) : pid_(pid), fd_(fd) {}
  pid_t pid_;
  int fd_;
  uint64_t followed_ = 0;
  bool ended_ = false;
};

}  // namespace netviz
