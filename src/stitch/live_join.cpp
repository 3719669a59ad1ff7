#include "stitch/live_join.h"

#include <algorithm>

namespace netviz {

namespace {
// Counts are sums: unsigned wrap-around makes taking one away exact.
void sub_join_stats(JoinStats& a, const JoinStats& b) {
  a.ends -= b.ends;
  a.both -= b.both;
  a.one_side -= b.one_side;
  a.listener -= b.listener;
  a.external -= b.external;
  a.ambiguous -= b.ambiguous;
  a.no_remote -= b.no_remote;
  a.unix_pairs -= b.unix_pairs;
  a.failed -= b.failed;
}
}  // namespace

void LiveJoin::reset() {
  groups_.clear();
  work_.clear();
  touched_.clear();
  known_ = 0;
  total_ = {};
  retired_.clear();
  retired_.shrink_to_fit();
  restarted_ = true;
}

LiveJoin::Context LiveJoin::context_of(const FlowStore& store) {
  Context c{store.hosts.size(), store.listeners.size(), 0};
  for (const auto& [addr, hosts] : store.address_hosts) c.addresses += hosts.size();
  return c;
}

LiveJoin::Group& LiveJoin::group_of(const FlowStore& store, const FlowEnd& e,
                                    uint8_t* direction) {
  return groups_[join_group_key(store, e, direction)];
}

void LiveJoin::queue(Group& g) {
  if (g.queued) return;
  g.queued = true;
  work_.push_back(&g);
}

void LiveJoin::mark(Group& g) {
  g.dirty = true;
  queue(g);
}

// An end of a group whose ends all share one 5-tuple (no reverse) can pair with none: it
// joins alone, as one more connection of the group. Any other group is joined whole again.
void LiveJoin::add_new_ends(const FlowStore& store) {
  for (; known_ < store.ends.size(); ++known_) {
    uint8_t direction = 0;
    Group& g = group_of(store, store.ends[known_], &direction);
    g.ends.push_back(static_cast<uint32_t>(known_));
    g.directions |= direction;
    if (g.directions == 3) mark(g);
    if (!g.dirty) g.fresh.push_back(static_cast<uint32_t>(known_));
    queue(g);
  }
}

void LiveJoin::remap(const std::vector<size_t>& new_index) {
  // Dropping keeps the order of the ends left, so each group stays ascending.
  for (auto it = groups_.begin(); it != groups_.end();) {
    Group& g = it->second;
    size_t kept = 0;
    for (uint32_t i : g.ends)
      if (i < new_index.size() && new_index[i] != SIZE_MAX)
        g.ends[kept++] = static_cast<uint32_t>(new_index[i]);
    if (kept == 0) {
      sub_join_stats(total_, g.stats);
      if (!restarted_) retired_.insert(retired_.end(), g.connections.begin(), g.connections.end());
      it = groups_.erase(it);
      continue;
    }
    if (kept != g.ends.size()) {
      g.ends.resize(kept);
      g.ends.shrink_to_fit();
      g.dirty = g.queued = true;
    }
    ++it;
  }
  work_.clear();  // it may name erased groups: made again from the flags
  for (auto& [k, g] : groups_)
    if (g.queued) work_.push_back(&g);
  for (size_t& i : touched_) i = i < new_index.size() ? new_index[i] : SIZE_MAX;
  size_t kept = 0;
  for (size_t i = 0; i < known_ && i < new_index.size(); ++i) kept += new_index[i] != SIZE_MAX;
  known_ = kept;
}

bool LiveJoin::update(const FlowStore& store, const JoinOptions& o,
                      const std::function<void(const Connection&, int)>& change) {
  const auto& ends = store.ends;
  if (known_ > ends.size()) reset();
  // A new host, address or listener can change any one-sided join: all groups again.
  Context now = context_of(store);
  if (now != context_) {
    context_ = now;
    for (auto& [k, g] : groups_) mark(g);
    restarted_ = true;
  }
  bool moved = false;
  for (size_t i : touched_) {
    if (i >= known_) continue;
    Group& g = group_of(store, ends[i]);
    // A replaced end keeps its 5-tuple; should one not, its old group still holds it.
    moved |= !std::binary_search(g.ends.begin(), g.ends.end(), static_cast<uint32_t>(i));
    mark(g);
  }
  touched_.clear();
  if (moved) reset();
  add_new_ends(store);
  const bool tell = !restarted_;
  if (tell)
    for (const Connection& c : retired_) change(c, -1);
  retired_.clear();
  if (retired_.capacity() > 4096) retired_.shrink_to_fit();
  Joiner joiner(store, o);
  for (Group* g : work_) {
    size_t from = g->connections.size();
    if (g->dirty) {
      if (tell)
        for (const Connection& c : g->connections) change(c, -1);
      g->connections.clear();
      from = 0;
      sub_join_stats(total_, g->stats);
      g->stats = joiner.join(g->ends, [g](const Connection& c) { g->connections.push_back(c); });
      add_join_stats(total_, g->stats);
    } else {
      JoinStats st = joiner.join(g->fresh, [g](const Connection& c) { g->connections.push_back(c); });
      add_join_stats(g->stats, st);
      add_join_stats(total_, st);
    }
    if (tell)
      for (size_t i = from; i < g->connections.size(); ++i) change(g->connections[i], +1);
    g->fresh.clear();
    g->dirty = g->queued = false;
  }
  work_.clear();
  restarted_ = false;
  return tell;
}

void LiveJoin::for_each(const std::function<void(const Connection&)>& sink) const {
  for (const auto& [k, g] : groups_)
    for (const Connection& c : g.connections) sink(c);
}

JoinStats LiveJoin::run(const FlowStore& store, const JoinOptions& o,
                        const std::function<void(const Connection&)>& sink) {
  update(store, o, [](const Connection&, int) {});
  for_each(sink);
  return total_;
}

}  // namespace netviz
