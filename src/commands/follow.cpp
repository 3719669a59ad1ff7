#include "commands/follow.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ostream>

#include "commands/graph_output.h"
#include "stitch/graph_diff.h"
#include "util/error.h"
#include "util/stop_signals.h"

namespace netviz {

FollowSession::FollowSession(const StitchOptions& o, std::ostream& changes, bool incremental)
    : o_(o), changes_(changes), incremental_(incremental) {}

size_t FollowSession::add_input(const std::string& source) {
  auto in = std::make_unique<Input>();
  in->source = source;
  inputs_.push_back(std::move(in));
  return inputs_.size() - 1;
}

void FollowSession::open_stream(Input& in) {
  in.mode = Input::Mode::stream;
  in.stream = std::make_unique<StreamIngest>(store_, in.source);
  if (incremental_) in.stream->track(live_.touched());
}

bool FollowSession::apply_lines(Input& in, bool at_end) {
  bool changed = false;
  size_t pos = 0;
  for (;;) {
    size_t nl = in.pending.find('\n', pos);
    if (nl == std::string::npos) break;
    std::string_view line(in.pending.data() + pos, nl - pos);
    if (in.mode == Input::Mode::unknown) {
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
        pos = nl + 1;
        continue;
      }
      if (!looks_like_stream(line)) {
        // A capture document: kept whole until its input ends.
        in.mode = Input::Mode::document;
        in.pending.erase(0, pos);
        return false;
      }
      open_stream(in);
    }
    changed |= in.stream->feed_line(line);
    pos = nl + 1;
  }
  in.pending.erase(0, pos);
  if (at_end && in.mode == Input::Mode::stream && !in.pending.empty()) {
    changed |= in.stream->feed_line(in.pending);
    in.pending.clear();
  }
  return changed;
}

bool FollowSession::feed(size_t i, std::string_view chunk) {
  Input& in = *inputs_.at(i);
  in.pending.append(chunk);
  if (in.mode == Input::Mode::document) return false;
  bool changed = apply_lines(in, false);
  dirty_ |= changed;
  return changed;
}

bool FollowSession::feed_stream_line(size_t i, std::string_view line) {
  Input& in = *inputs_.at(i);
  if (in.mode == Input::Mode::unknown) {
    if (!looks_like_stream(line)) throw Error(in.source + ": no host line before the events");
    open_stream(in);
  }
  bool changed = in.stream->feed_line(line);
  dirty_ |= changed;
  return changed;
}

bool FollowSession::finish_input(size_t i) {
  Input& in = *inputs_.at(i);
  if (in.finished) return false;
  in.finished = true;
  bool changed = false;
  if (in.mode == Input::Mode::unknown) {
    if (in.pending.find_first_not_of(" \t\r\n") == std::string::npos)
      throw Error(in.source + ": empty input");
    in.mode = looks_like_stream(in.pending) ? Input::Mode::stream : Input::Mode::document;
    if (in.mode == Input::Mode::stream) open_stream(in);
  }
  if (in.mode == Input::Mode::document) {
    load_text(store_, in.pending, in.source);
    in.pending.clear();
    in.pending.shrink_to_fit();
    changed = true;
  } else {
    changed = apply_lines(in, true);
    in.stream->finish();
  }
  dirty_ |= changed;
  return changed;
}

Graph FollowSession::rebuild() {
  GraphOptions g = graph_options(o_);
  if (!incremental_) return build_graph(store_, g);
  bool told = live_.update(store_, g.join, [this](const Connection& c, int sign) {
    if (tally_) tally_->change(c, sign);
  });
  if (!GraphTally::handles(store_, g)) {
    tally_.reset();
    return build_graph(store_, g, [this](const ConnectionSink& sink) {
      live_.for_each(sink);
      return live_.stats();
    });
  }
  // Started over when the join did, or when a connection that went took an edge's first or
  // last time with it (those need every connection of the edge).
  if (!told || !tally_ || tally_->stale()) {
    tally_ = std::make_unique<GraphTally>(store_, g);
    live_.for_each([this](const Connection& c) { tally_->change(c, 1); });
  }
  return tally_->graph(live_.stats());
}

void FollowSession::tick() {
  if (!dirty_) return;
  dirty_ = false;
  Graph g = rebuild();
  for (auto& c : diff_graphs(graph_, g)) {
    ojson line{{"seq", ++seq_}};
    for (auto& [k, v] : c.items()) line[k] = std::move(v);
    changes_ << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  }
  changes_.flush();
  graph_ = std::move(g);
}

void FollowSession::drop_ended_before(WallNs before) {
  // Called every second: most calls have nothing to drop, and need not copy the store.
  if (std::none_of(store_.ends.begin(), store_.ends.end(),
                   [before](const FlowEnd& e) { return e.closed && e.last < before; }))
    return;
  size_t n = store_.ends.size();
  std::vector<size_t> remap = store_.drop_ended_before(before);
  if (store_.ends.size() == n) return;
  for (auto& in : inputs_)
    if (in->stream) in->stream->remap(remap);
  if (incremental_) live_.remap(remap);
  dirty_ = true;
}

void FollowSession::settle() {
  if (!dirty_) return;
  dirty_ = false;
  graph_ = rebuild();
}

namespace {

struct Source {
  std::string path;
  int fd = -1;
  bool regular = false;
  bool done = false;
};

}  // namespace

int run_follow(const StitchOptions& o, std::ostream& changes, std::ostream& err,
               const FollowHooks& hooks) {
  FollowSession session(o, changes);
  std::vector<Source> sources;
  for (const auto& p : o.inputs) {
    Source s;
    s.path = p == "-" ? "<stdin>" : p;
    s.fd = p == "-" ? 0 : open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (s.fd < 0) throw Error(s.path + ": cannot open: " + std::strerror(errno));
    struct stat st{};
    if (fstat(s.fd, &st) != 0) throw Error(s.path + ": cannot stat: " + std::strerror(errno));
    if (S_ISDIR(st.st_mode)) throw Error(s.path + ": is a directory, expected a capture file");
    // stdin ends the run at its EOF even when it is a redirected file.
    s.regular = S_ISREG(st.st_mode) && p != "-";
    session.add_input(s.path);
    sources.push_back(s);
  }
  bool any_pipe = false;
  for (const auto& s : sources) any_pipe |= !s.regular;

  StopSignals stop_signals;

  using Clock = std::chrono::steady_clock;
  auto last_write = Clock::now();
  auto write_output = [&] {
    if (!o.output.empty()) emit_graph(session.graph(), o, changes);
  };
  std::vector<char> buf(1 << 16);
  try {
    while (!StopSignals::requested()) {
      std::vector<pollfd> pfds;
      std::vector<size_t> which;
      for (size_t i = 0; i < sources.size(); ++i)
        if (!sources[i].regular && !sources[i].done) {
          pfds.push_back({sources[i].fd, POLLIN, 0});
          which.push_back(i);
        }
      int r = poll(pfds.data(), pfds.size(), 200);
      if (r < 0 && errno != EINTR) throw Error(std::string("poll: ") + std::strerror(errno));
      std::unique_lock<std::mutex> turn;
      if (hooks.session_mutex) turn = std::unique_lock(*hooks.session_mutex);
      for (size_t k = 0; r > 0 && k < pfds.size(); ++k) {
        if (!(pfds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        Source& s = sources[which[k]];
        ssize_t n = read(s.fd, buf.data(), buf.size());
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n < 0) throw Error(s.path + ": cannot read: " + std::strerror(errno));
        if (n == 0) {
          s.done = true;
          session.finish_input(which[k]);
        } else {
          session.feed(which[k], std::string_view(buf.data(), static_cast<size_t>(n)));
        }
      }
      // Regular files: read what was appended since last time (a bounded amount per turn).
      for (size_t i = 0; i < sources.size(); ++i) {
        Source& s = sources[i];
        if (!s.regular || s.done) continue;
        for (int chunk = 0; chunk < 256; ++chunk) {
          ssize_t n = read(s.fd, buf.data(), buf.size());
          if (n < 0 && errno == EINTR) continue;
          if (n < 0) throw Error(s.path + ": cannot read: " + std::strerror(errno));
          if (n == 0) break;
          session.feed(i, std::string_view(buf.data(), static_cast<size_t>(n)));
        }
        if (session.is_document(i)) {  // a finished capture document: read once
          s.done = true;
          session.finish_input(i);
        }
      }
      session.tick();
      if (hooks.on_tick) hooks.on_tick(session);
      if (turn.owns_lock()) turn.unlock();
      if (o.every > 0 && Clock::now() - last_write >= std::chrono::duration<double>(o.every)) {
        write_output();
        last_write = Clock::now();
      }
      if (any_pipe && !hooks.until_signal) {
        bool open_pipe = false;
        for (const auto& s : sources) open_pipe |= !s.regular && !s.done;
        if (!open_pipe) break;
      }
    }
    // Files end where they are now; a half-written last line of a file still being
    // appended to is left out, and said so.
    std::unique_lock<std::mutex> last;
    if (hooks.session_mutex) last = std::unique_lock(*hooks.session_mutex);
    for (size_t i = 0; i < sources.size(); ++i) {
      if (sources[i].done) continue;
      if (sources[i].regular) {
        try {
          session.finish_input(i);
        } catch (const Error& e) {
          if (!StopSignals::requested()) throw;
          err << "netviz-stitch: note: " << e.what() << " (left out at exit)\n";
        }
      } else {
        session.finish_input(i);
      }
    }
    session.tick();
    write_output();
  } catch (...) {
    for (auto& s : sources)
      if (s.fd > 0) close(s.fd);
    throw;
  }
  for (auto& s : sources)
    if (s.fd > 0) close(s.fd);
  return 0;
}

}  // namespace netviz
