#pragma once
// The join of follow mode: connections kept per join group, so a tick re-joins only the
// groups whose ends were added, replaced or dropped since the last one, and gives the same
// connections as join_ends over the whole store. It also says which connections went and
// came, so the graph built from them (GraphTally) changes by as much and no more.
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "stitch/join.h"

namespace netviz {

class LiveJoin {
 public:
  // Where the store's writers note each end they replace (StreamIngest::track).
  std::vector<size_t>* touched() { return &touched_; }
  // Ends were added or changed in ways not tracked (a capture document): join all again.
  void reset();
  // After FlowStore::drop_ended_before: follows the ends that moved, forgets those dropped.
  void remap(const std::vector<size_t>& new_index);
  // Brings the groups up to date with the store. Returns true when `change` was given every
  // connection that went (-1) or came (+1) since the last call; false when the join started
  // over (first call, a new host, address or listener, an end that moved), and the caller
  // takes them all again from for_each.
  bool update(const FlowStore& store, const JoinOptions& o,
              const std::function<void(const Connection&, int)>& change);
  // Every connection kept, and their counts: the same as join_ends over the store.
  void for_each(const std::function<void(const Connection&)>& sink) const;
  const JoinStats& stats() const { return total_; }
  // Brings the groups up to date and hands every connection to `sink`.
  JoinStats run(const FlowStore& store, const JoinOptions& o,
                const std::function<void(const Connection&)>& sink);

 private:
  struct Group {
    std::vector<uint32_t> ends;   // store indexes, ascending
    std::vector<uint32_t> fresh;  // added since the last join (a one-way group joins only them)
    std::vector<Connection> connections;
    JoinStats stats;
    uint8_t directions = 0;  // join_group_key's: 3 once ends of both directions are in
    bool dirty = false;      // to be joined whole again
    bool queued = false;     // in work_
  };
  // What one-sided joins depend on besides the group: hosts, their addresses, listeners.
  struct Context {
    size_t hosts = 0, listeners = 0, addresses = 0;
    bool operator==(const Context&) const = default;
  };
  static Context context_of(const FlowStore& store);
  Group& group_of(const FlowStore& store, const FlowEnd& e, uint8_t* direction = nullptr);
  void queue(Group& g);
  void mark(Group& g);
  void add_new_ends(const FlowStore& store);

  std::unordered_map<JoinGroupKey, Group, JoinGroupKeyHash> groups_;
  std::vector<Group*> work_;  // groups with fresh ends or marked dirty
  std::vector<size_t> touched_;
  size_t known_ = 0;  // ends [0, known_) are in their groups
  Context context_;
  JoinStats total_;                  // of every group, kept as groups change
  std::vector<Connection> retired_;  // of the groups remap erased, to be said gone
  bool restarted_ = true;            // since the last update: connections not told one by one
};

}  // namespace netviz
