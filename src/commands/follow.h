#pragma once
// --follow: JSON-lines streams read as they grow; the graph's changes as JSON lines.
#include <functional>
#include <memory>
#include <iosfwd>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "stitch/graph.h"
#include "stitch/input_reader.h"
#include "stitch/live_join.h"
#include "stitch/stitch_options.h"

namespace netviz {

// The I/O-free part of follow mode, fed with chunks of each input; unit-testable.
class FollowSession {
 public:
  // incremental: keep connections between ticks (LiveJoin); a session that builds its graph
  // once at the end (--subscribe without --follow) joins the whole store instead.
  FollowSession(const StitchOptions& o, std::ostream& changes, bool incremental = true);
  size_t add_input(const std::string& source);  // returns the input's index
  // Takes a chunk of input `i`; complete lines are applied at once. Returns true when the
  // store changed.
  bool feed(size_t i, std::string_view chunk);
  // One complete line of stream input `i` (a line of a NATS message). Throws netviz::Error
  // for a line that is no netviz event, leaving the input as it was; true when the store
  // changed.
  bool feed_stream_line(size_t i, std::string_view line);
  // Input `i` ended: a last line without newline is applied; a document read whole.
  bool finish_input(size_t i);
  // Rebuilds the graph and writes its changes since the last tick, each with "seq".
  void tick();
  // --window: forgets the flows that ended before `before`; their edges go at the next tick.
  void drop_ended_before(WallNs before);
  // Takes the graph as it is now without writing changes: a resumed stitcher's rebuilt state
  // was written by its earlier run.
  void settle();
  const Graph& graph() const { return graph_; }
  // The same flows in another view or with other options (the live page's views).
  Graph build(const GraphOptions& g) { return build_graph(store_, g); }
  bool is_document(size_t i) const { return inputs_.at(i)->mode == Input::Mode::document; }
  uint64_t seq() const { return seq_; }

 private:
  struct Input {
    std::string source;
    std::string pending;  // bytes after the last newline
    enum class Mode { unknown, stream, document } mode = Mode::unknown;
    std::unique_ptr<StreamIngest> stream;
    bool finished = false;
  };
  bool apply_lines(Input& in, bool at_end);
  void open_stream(Input& in);
  Graph rebuild();

  const StitchOptions& o_;
  std::ostream& changes_;
  FlowStore store_;
  LiveJoin live_;  // re-joins only the ends that changed since the last tick
  std::unique_ptr<GraphTally> tally_;  // changed by what the join changed
  bool incremental_;
  std::vector<std::unique_ptr<Input>> inputs_;
  Graph graph_;
  uint64_t seq_ = 0;
  bool dirty_ = false;
};

// What a caller of the loop (the live page) adds: a lock held while the session changes,
// a call after every tick, and running on after the pipes end.
struct FollowHooks {
  std::mutex* session_mutex = nullptr;
  std::function<void(FollowSession&)> on_tick;  // called with session_mutex held
  bool until_signal = false;                    // return on SIGINT/SIGTERM only
};

// The loop: polls the inputs, ticks a few times a second, rewrites o.output every
// o.every seconds. Returns at EOF of every pipe input or on SIGINT/SIGTERM.
int run_follow(const StitchOptions& o, std::ostream& changes, std::ostream& err,
               const FollowHooks& hooks = {});

}  // namespace netviz
