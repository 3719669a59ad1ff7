#pragma once
// The closed flows of a capture, kept until the document is written. A Flow is several
// hundred bytes, most of them strings that repeat (addresses, comm, service); stored as it
// is, every connection of a storm cost the tracer fresh pages, and the kernel's zeroing of
// them was the largest item of its profile. Here each text is interned once and a flow is
// about 100 bytes of numbers and string ids; for_each rebuilds the Flow, field for field.
#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/capture.h"
#include "util/chunked_list.h"

namespace netviz {

class ClosedFlows {
 public:
  void push_back(const Flow& f);
  size_t size() const { return items_.size(); }
  void clear();

  template <class F>
  void for_each(F&& fn) const {
    Flow f;
    items_.for_each([&](const Packed& p) {
      unpack(p, f);
      fn(static_cast<const Flow&>(f));
    });
  }

 private:
  enum Field { kComm, kLocal, kRemote, kFromComm, kService, kFields };
  struct Packed {
    int64_t first_seen;
    int64_t last_seen;
    int64_t duration_ns;
    int64_t latency_ns;
    uint64_t netns;
    uint64_t bytes_sent;
    uint64_t bytes_received;
    uint64_t packets;
    int32_t pid;
    int32_t from_pid;  // handed_from when kHasFrom, else peer when kHasPeer (unix flows)
    uint32_t local_port;
    uint32_t remote_port;
    std::array<uint32_t, kFields> text;
    uint8_t flags;
    Proto proto;
    Family family;
    Direction direction;
    Attribution attribution;
    SockState state;
  };
  static constexpr uint8_t kHasRemote = 1, kHasDuration = 2, kHasLatency = 4, kHasFrom = 8,
                           kHasPeer = 16;

  uint32_t intern(Field field, const std::string& s);
  void unpack(const Packed& p, Flow& f) const;

  // A few recent ids per field: a storm repeats the same handful of texts in each.
  static constexpr size_t kRecent = 4;
  struct Recent {
    std::array<uint32_t, kRecent> ids{};
    uint8_t filled = 0;
    uint8_t next = 0;
  };
  std::array<Recent, kFields> recent_{};
  std::vector<std::string> texts_;
  std::unordered_map<std::string, uint32_t> ids_;
  ChunkedList<Packed> items_;
};

}  // namespace netviz
