#include "commands/subscribe_command.h"

#include <signal.h>
#include <time.h>

#include <cctype>
#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include "fleet/fleet_values.h"
#include "fleet/subscriber.h"
#include "commands/follow.h"
#include "commands/graph_output.h"
#include "stitch/input_reader.h"
#include "util/error.h"
#include "util/stop_signals.h"
#include "util/time.h"

namespace netviz {

namespace {

SubscribeOptions subscribe_options(const StitchOptions& o) {
  SubscribeOptions s;
  s.access.servers = parse_nats_urls(o.subscribe, "--subscribe");
  s.access.creds = o.nats_creds;
  s.access.ca = o.nats_ca;
  s.access.cert = o.nats_cert;
  s.access.key = o.nats_key;
  s.access.client_name = "netviz-stitch";
  if (!o.durable.empty()) {
    for (char c : o.durable)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
        throw Error("--durable: \"" + o.durable + "\": letters, digits, - and _ only");
    s.durable = o.durable;
  }
  if (!o.since.empty()) {
    if (auto t = parse_time(o.since))
      s.since = *t;
    else
      s.since = wall_now_ns() - parse_duration_ns(o.since, "--since");
  }
  return s;
}

std::chrono::nanoseconds thread_cpu() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec);
}

// Each host's subject is one stream input; a tracer restarted on that host opens a new one
// with its own host line.
struct HostInput {
  size_t index = 0;
  size_t lines = 0;
  int generation = 0;
  uint64_t bad = 0;
  uint64_t total = 0;  // netviz lines over every generation
};

class FleetFeed {
 public:
  FleetFeed(FollowSession& s, std::ostream& err) : session_(s), err_(err) {}

  void message(const FleetMessage& m) {
    std::string subject(m.subject);
    auto [it, fresh] = hosts_.try_emplace(subject);
    HostInput& h = it->second;
    if (fresh) open(h, subject);
    std::string_view data = m.data;
    size_t pos = 0;
    while (pos < data.size()) {
      size_t nl = data.find('\n', pos);
      std::string_view line = data.substr(pos, nl == std::string_view::npos ? data.size() - pos : nl - pos);
      pos = nl == std::string_view::npos ? data.size() : nl + 1;
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      if (h.lines && line.rfind("{\"event\":\"host\"", 0) == 0) open(h, subject);
      try {
        session_.feed_stream_line(h.index, line);
        ++h.lines;
        ++h.total;
      } catch (const Error& e) {
        if (!h.bad++)
          err_ << "netviz-stitch: " << subject << " stream seq " << m.stream_seq
               << ": not a netviz event (" << e.what()
               << "); skipped, and later ones from this host counted\n";
      }
    }
  }

  void report(bool verbose) const {
    for (const auto& [subject, h] : hosts_) {
      if (verbose)
        err_ << "netviz-stitch: " << subject << ": " << h.total << " lines from "
             << h.generation << " tracer run(s)\n";
      if (h.bad)
        err_ << "netviz-stitch: " << subject << ": " << h.bad << " lines were not netviz events (skipped)\n";
    }
  }

 private:
  void open(HostInput& h, const std::string& subject) {
    ++h.generation;
    h.lines = 0;
    h.index = session_.add_input(h.generation == 1 ? subject
                                                   : subject + "#" + std::to_string(h.generation));
  }
  FollowSession& session_;
  std::ostream& err_;
  std::map<std::string, HostInput> hosts_;
};

}  // namespace

int run_subscribe(const StitchOptions& o, std::ostream& out, std::ostream& err,
                  const FollowHooks& hooks) {
  SubscribeOptions so = subscribe_options(o);
  keep_big_blocks_in_heap();
  const int64_t window = o.window.empty() ? 0 : parse_duration_ns(o.window, "--window");
  Subscriber sub(so, err);
  std::ostream discard(nullptr);  // without --follow only the final graph is written
  FollowSession session(o, o.follow ? out : discard, o.follow);
  FleetFeed feed(session, err);
  uint64_t pending = 1;  // messages the server still had after the last one delivered
  // The live page's threads read the session: every change to it holds their lock.
  auto locked = [&hooks] {
    return hooks.session_mutex ? std::unique_lock(*hooks.session_mutex) : std::unique_lock<std::mutex>();
  };
  auto on_msg = [&feed, &pending, &locked](const FleetMessage& m) {
    auto lock = locked();
    feed.message(m);
    pending = m.pending;
  };
  auto locked_settle = [&session, &locked] {
    auto lock = locked();
    session.settle();
  };
  auto tick = [&session, &hooks, &locked] {
    auto lock = locked();
    session.tick();
    if (hooks.on_tick) hooks.on_tick(session);
  };

  StopSignals stop_signals;

  using Clock = std::chrono::steady_clock;
  auto last_write = Clock::now(), last_tick = Clock::now();
  Clock::duration tick_every = std::chrono::milliseconds(100);
  bool opened = false;
  auto last_expire = Clock::now();
  while (!StopSignals::requested()) {
    if (!opened) {
      if (!sub.open()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        continue;
      }
      opened = true;
      // A durable consumer that an earlier run acknowledged up to some point: that run's
      // graph is rebuilt from the stream without writing its changes again.
      if (sub.resumed_ack_floor()) {
        if (!sub.replay_acknowledged(on_msg))
          err << "netviz-stitch: note: the messages acknowledged by the earlier run could not "
                 "all be read again; edges from before the restart may be missing\n";
        locked_settle();
        if (o.verbose)
          err << "netviz-stitch: resumed durable " << o.durable << " after stream seq "
              << sub.resumed_ack_floor() << "\n";
      }
    }
    // Following, an idle fetch pauses 20 ms before the next looks again: part of every
    // change's latency.
    int n = sub.fetch(o.follow ? 50 : 500, on_msg);
    if (n < 0) continue;
    // A stitcher runs for weeks in bounded memory: ended flows older than the window go.
    if (window && Clock::now() - last_expire >= std::chrono::seconds(1)) {
      auto lock = locked();
      session.drop_ended_before(wall_now_ns() - window);
      last_expire = Clock::now();
    }
    // A tick costs what changed since the last one; should one cost much (a --window drop
    // that starts the graph again), the next waits twice its CPU time so reading keeps up.
    // CPU time, not wall: on a busy machine the wall time is mostly waiting for a CPU, and
    // spacing ticks by it would hold every change back by as much again.
    if (o.follow && Clock::now() - last_tick >= tick_every) {
      auto t0 = thread_cpu();
      tick();
      last_tick = Clock::now();
      tick_every = std::max<Clock::duration>(std::chrono::milliseconds(100), 2 * (thread_cpu() - t0));
    }
    if (o.every > 0 && Clock::now() - last_write >= std::chrono::duration<double>(o.every)) {
      if (!o.output.empty()) emit_graph(session.graph(), o, out);
      last_write = Clock::now();
    }
    if (!o.follow && (n == 0 || pending == 0)) break;  // caught up with what the stream holds
  }
  if (window) {
    auto lock = locked();
    session.drop_ended_before(wall_now_ns() - window);
  }
  tick();
  feed.report(o.verbose);
  if (!o.follow || !o.output.empty()) emit_graph(session.graph(), o, out);
  return 0;
}

}  // namespace netviz
