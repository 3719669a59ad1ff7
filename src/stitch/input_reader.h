#pragma once
// Inputs of netviz-stitch: capture documents and JSON-lines streams, told apart by content.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "stitch/flow_store.h"

namespace netviz {

// The whole content of a file, or of stdin for "-". Throws netviz::Error naming the file
// when it is missing, a directory, unreadable or empty.
std::string read_input(const std::string& path);

// Does this text start with a stream's "host" line (rather than a capture document)?
bool looks_like_stream(std::string_view text);

// Feeds a JSON-lines stream to the store one line at a time; a flow seen again (same
// namespace, 5-tuple, pid and start) replaces its earlier line.
class StreamIngest {
 public:
  StreamIngest(FlowStore& store, std::string source) : store_(store), source_(std::move(source)) {}
  // Returns true when the line changed the store. Throws netviz::Error "<source>:<line>: ...".
  bool feed_line(std::string_view line);
  // At the end of the input: a stream without its host line is an error.
  void finish();
  const std::string& source() const { return source_; }
  size_t lines() const { return line_no_; }
  // After FlowStore::drop_ended_before: follows the ends that moved, forgets those dropped.
  void remap(const std::vector<size_t>& new_index);
  // Every end written from now on (new or replaced) is also appended to `touched`.
  void track(std::vector<size_t>* touched) { touched_ = touched; }

 private:
  void add_flow(const Flow& f);

  FlowStore& store_;
  std::string source_;
  size_t line_no_ = 0;
  std::optional<FlowStore::Scope> scope_;
  std::unordered_map<std::string, size_t> flow_index_;
  std::vector<size_t>* touched_ = nullptr;
  Flow fast_flow_;  // reused by the fast path's lines
  std::string key_;  // flow_index_'s key of the line being read
};

// Reads one whole input (document or stream) into the store.
void load_text(FlowStore& store, std::string_view text, const std::string& source);

// Input texts, per-input stores and the growing store are big blocks: served by mmap, each
// would be faulted in afresh as it grows or is made again. Kept in the heap for reuse
// (docs/benchmarks.md).
void keep_big_blocks_in_heap();

// Reads every input, in parallel when there are several (`threads` 0: one per core),
// merging into `store` in command-line order so the result does not depend on timing.
void load_inputs(FlowStore& store, const std::vector<std::string>& paths, int threads = 0);

}  // namespace netviz
