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

 private:
  FlowStore& store_;
  std::string source_;
  size_t line_no_ = 0;
  std::optional<FlowStore::Scope> scope_;
  std::unordered_map<std::string, size_t> flow_index_;
};

// Reads one whole input (document or stream) into the store.
void load_text(FlowStore& store, std::string_view text, const std::string& source);

// Reads every input, in parallel when there are several (`threads` 0: one per core),
// merging into `store` in command-line order so the result does not depend on timing.
void load_inputs(FlowStore& store, const std::vector<std::string>& paths, int threads = 0);

}  // namespace netviz
