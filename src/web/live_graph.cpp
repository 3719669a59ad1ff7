#include "web/live_graph.h"

namespace netviz {

FollowHooks LiveGraph::hooks() {
  FollowHooks h;
  h.session_mutex = &mu_;
  h.until_signal = true;
  h.on_tick = [this](FollowSession& s) {  // mu_ is held by the loop
    session_ = &s;
    if (s.seq() != last_seq_) {
      last_seq_ = s.seq();
      ++version_;
      cv_.notify_all();
    }
  };
  return h;
}

void LiveGraph::stop() {
  std::lock_guard lock(mu_);
  session_ = nullptr;
  stopped_ = true;
  cv_.notify_all();
}

bool LiveGraph::stopped() const {
  std::lock_guard lock(mu_);
  return stopped_;
}

uint64_t LiveGraph::version() const {
  std::lock_guard lock(mu_);
  return version_;
}

uint64_t LiveGraph::wait_change(uint64_t seen, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return version_ != seen || stopped_; });
  return version_;
}

std::optional<Graph> LiveGraph::build(const GraphQuery& q) {
  Graph g;
  {
    std::lock_guard lock(mu_);
    if (!session_) return std::nullopt;
    GraphOptions o = base_;
    o.view = q.view;
    g = session_->build(o);
  }
  return filter_graph(g, q.filter);
}

}  // namespace netviz
