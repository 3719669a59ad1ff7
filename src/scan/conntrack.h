#pragma once
// NAT as the kernel's connection tracking did it, read over netlink (libnetfilter_conntrack):
// for each translated connection, the tuple each end's socket sees and the addresses the
// other end sees instead. Only translated entries are kept, so a host without NAT rules
// costs one empty table.
#include <chrono>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/capture.h"
#include "util/time.h"

struct nfct_handle;

namespace netviz {

class NatBook {
 public:
  NatBook() = default;
  NatBook(const NatBook&) = delete;
  NatBook& operator=(const NatBook&) = delete;
  ~NatBook();

  using Clock = std::chrono::steady_clock;

  // Called on a thread inside the namespace: reads its conntrack table, and with `follow`
  // keeps a socket subscribed to its new entries (poll() reads them later, from any thread
  // and without privileges: the subscription is made here). Only a namespace with a NAT
  // table or chain (iptables or nftables) is followed: a subscriber makes the kernel build
  // an event for every connection it tracks, which a namespace without NAT rules is spared.
  void read_netns(uint64_t netns, const std::string& label, bool follow);
  // Follows a namespace from a socket subscribed there by another process (NatWatch: the
  // tracer has given up the privileges to enter a namespace or subscribe); takes fd.
  bool adopt(uint64_t netns, int fd, const std::string& label);
  size_t followed() const { return watches_.size(); }
  bool follows(uint64_t netns) const;
  std::vector<uint64_t> followed_netns() const;
  // A sentence for notes(), once: a namespace followed after the start.
  void note(std::string n) { later_.push_back(std::move(n)); }
  // Entries made since the last call, in every followed namespace (or only in `netns`);
  // never blocks.
  void poll();
  // Only when no read of the namespace began after `since` (an event's time: its entry was
  // queued before it), so a batch of connections costs one read, not one each.
  void poll(uint64_t netns, WallNs since);
  // Sets f.nat when conntrack translated f's tuple; other flows are left as they are.
  void apply(Flow& f) const;
  std::shared_ptr<const Nat> find(const Flow& f) const;  // nullptr: not translated
  bool empty() const { return by_tuple_.empty(); }
  size_t size() const { return by_tuple_.size(); }
  // One line per kind of failure (no conntrack, no permission, events lost).
  std::vector<std::string> notes() const;

  // One conntrack entry, addresses as text: what both dumps and events hand over.
  struct Tuple {
    std::string src, dst;
    uint16_t sport = 0, dport = 0;
  };
  void add(uint64_t netns, uint8_t l4proto, const Tuple& orig, const Tuple& reply,
           Clock::time_point now = Clock::now());

  // Pruning, so that a long trace keeps a bounded table: keep(f) marks the translation of a
  // flow still held; sweep() then drops every unmarked translation older than max_age, and
  // the oldest ones beyond max_entries, clears the marks and returns how many it dropped.
  void keep(const Flow& f);
  size_t sweep(Clock::time_point now, Clock::duration max_age, size_t max_entries);
  // Whether an entry is old enough for sweep() to look at it (the caller's marking is then
  // worth its walk over the flows).
  bool has_older_than(Clock::time_point t) const { return !by_tuple_.empty() && oldest_ <= t; }
  uint64_t evicted() const { return evicted_; }
  // What a conntrack callback is handed: where its entries go.
  struct Source {
    NatBook* book;
    uint64_t netns;
    nfct_handle* h = nullptr;  // the event subscription, when followed
    WallNs read_at = 0;        // when the last read began
  };

 private:
  struct Key {
    uint64_t netns;
    uint8_t proto;
    std::string laddr, raddr;
    uint16_t lport, rport;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Entry {
    std::shared_ptr<const Nat> nat;
    Clock::time_point added;
    bool kept = false;
  };
  void failed(const std::string& what, const std::string& label);
  void watch(uint64_t netns, nfct_handle* events);
  void drain(Source& w);
  void put(Key k, Nat n, Clock::time_point now);
  const Entry* lookup(const Flow& f) const;

  std::unordered_map<Key, Entry, KeyHash> by_tuple_;
  Clock::time_point oldest_ = Clock::time_point::max();  // a lower bound of the entries' added
  uint64_t evicted_ = 0;
  std::vector<std::unique_ptr<Source>> watches_;
  std::map<std::string, std::vector<std::string>> failures_;  // reason → namespaces
  uint64_t overflows_ = 0;
  std::vector<std::string> later_;
};

// On a thread inside a namespace: whether it has NAT rules (an iptables nat table or an
// nftables nat chain; yes when it cannot tell).
bool nat_rules_here();
// On a thread inside a namespace: dumps its conntrack table, handing each translated TCP or
// UDP entry to `on`; with `follow` and NAT rules there, first subscribes to its new entries
// and returns the subscription (non-blocking, filtered in the kernel) in *events. Returns
// the failure, "" when none. NatBook::read_netns and the NatWatch helper both read this way.
using NatEntryFn =
    std::function<void(uint8_t l4, const NatBook::Tuple& orig, const NatBook::Tuple& reply)>;
std::string read_conntrack_here(bool follow, const NatEntryFn& on, nfct_handle** events);

}  // namespace netviz
