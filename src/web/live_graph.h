#pragma once
// The graph the live page shows: the follow loop's session, shared with the HTTP threads
// under one lock, and a version that changes when the flows do.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>

#include "commands/follow.h"
#include "stitch/graph_filter.h"

namespace netviz {

struct GraphQuery {
  StitchView view = StitchView::process;
  GraphFilter filter;
};

class LiveGraph {
 public:
  explicit LiveGraph(GraphOptions base) : base_(std::move(base)) {}
  // FollowHooks for run_follow: the lock and the tick callback.
  FollowHooks hooks();
  // The follow loop ended: its session is gone. Wakes every waiter.
  void stop();
  bool stopped() const;
  uint64_t version() const;
  // Waits until the version differs from `seen`, the server stops, or `timeout` passes.
  uint64_t wait_change(uint64_t seen, std::chrono::milliseconds timeout);
  // The graph in a view, filtered; std::nullopt before the first tick and after stop().
  std::optional<Graph> build(const GraphQuery& q);

 private:
  GraphOptions base_;
  mutable std::mutex mu_;  // the session's lock (held by the follow loop while it reads)
  std::condition_variable cv_;
  FollowSession* session_ = nullptr;
  uint64_t last_seq_ = UINT64_MAX;
  uint64_t version_ = 0;
  bool stopped_ = false;
};

}  // namespace netviz
