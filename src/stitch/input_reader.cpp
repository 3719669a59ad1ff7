#include "stitch/input_reader.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include "format/capture_json.h"
#include "format/capture_reader.h"
#include "format/event_json.h"
#include "util/error.h"

namespace netviz {

std::string read_input(const std::string& path) {
  const bool is_stdin = path == "-";
  const std::string name = is_stdin ? "<stdin>" : path;
  int fd = is_stdin ? 0 : open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(name + ": cannot open: " + std::strerror(errno));
  struct stat st{};
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    if (!is_stdin) close(fd);
    throw Error(name + ": is a directory, expected a capture file");
  }
  std::string text;
  if (S_ISREG(st.st_mode)) text.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      if (!is_stdin) close(fd);
      throw Error(name + ": cannot read: " + std::strerror(e));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  if (!is_stdin) close(fd);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) throw Error(name + ": empty input");
  return text;
}

bool looks_like_stream(std::string_view text) {
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return false;
  size_t end = text.find('\n', start);
  std::string_view first = text.substr(start, end == std::string_view::npos ? text.size() - start
                                                                            : end - start);
  // A document written by netviz opens with "{" alone; a stream opens with a complete
  // {"event":"host",...} object on its first line.
  if (first.find("\"event\"") == std::string_view::npos) return false;
  auto j = nlohmann::json::parse(first.begin(), first.end(), nullptr, false);
  return j.is_object() && j.contains("event");
}

void StreamIngest::remap(const std::vector<size_t>& new_index) {
  for (auto it = flow_index_.begin(); it != flow_index_.end();) {
    size_t to = it->second < new_index.size() ? new_index[it->second] : SIZE_MAX;
    if (to == SIZE_MAX) {
      it = flow_index_.erase(it);
    } else {
      it->second = to;
      ++it;
    }
  }
}

void StreamIngest::add_flow(const Flow& f) {
  // A connection handed on after accept() (or connect()) is reported again under the process
  // that served it: keyed by the first owner, so the later line replaces the earlier end.
  // The key's numbers are their bytes (one reused buffer): this runs for every line.
  std::string& key = key_;
  key.clear();
  auto raw = [&key](const auto& v) { key.append(reinterpret_cast<const char*>(&v), sizeof v); };
  raw(f.netns);
  raw(f.local.port);
  raw(f.remote ? f.remote->port : 0u);
  raw(f.handed_from ? f.handed_from->pid : f.pid);
  raw(f.first_seen);
  key.append(1, static_cast<char>(f.proto)).append(f.local.addr).append(1, '\0');
  key.append(f.remote ? f.remote->addr : std::string("\1-"));
  auto [it, fresh] = flow_index_.try_emplace(key, store_.ends.size());
  if (fresh)
    store_.ends.push_back(scope_->make_end(f));
  else
    store_.ends[it->second] = scope_->make_end(f);
  if (touched_) touched_->push_back(it->second);
}

bool StreamIngest::feed_line(std::string_view line) {
  ++line_no_;
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return false;
  // Most lines are flows as netviz writes them: read without a JSON tree.
  if (scope_ && read_flow_line_fast(line, fast_flow_)) {
    add_flow(fast_flow_);
    return true;
  }
  StreamLine l = parse_stream_line(line, source_, line_no_);
  std::string where = source_ + ":" + std::to_string(line_no_);
  if (l.kind == StreamLine::Kind::host) {
    if (scope_) throw Error(where + ": a second host line in one stream");
    scope_.emplace(store_, l.host);
    return true;
  }
  if (!scope_) throw Error(where + ": expected the stream's host line first, got \"" + l.event + "\"");
  if (l.kind == StreamLine::Kind::flow) {
    add_flow(l.flow);
    return true;
  }
  if (l.kind == StreamLine::Kind::stats) {
    store_.lost_events += l.stats.lost_events;
    if (l.stats.lost_events) store_.lost_by_host[scope_->host_name()] += l.stats.lost_events;
    if (l.stats.lost_events)
      store_.notes.push_back(source_ + ": the tracer lost " + std::to_string(l.stats.lost_events) +
                             " events; some flows may be missing");
    return false;
  }
  if (l.event == "listen" || l.event == "bind") {
    // A socket event: the socket's fields plus its owner.
    nlohmann::json j = nlohmann::json::parse(line.begin(), line.end());
    JsonPath at{where, ""};
    Socket s = socket_from_json(j, at);
    if (l.event == "listen" && (s.state == SockState::none)) s.state = SockState::listen;
    int32_t pid = j.value("pid", 0);
    std::string comm = j.contains("comm") && j["comm"].is_string() ? j["comm"].get<std::string>()
                                                                   : std::string();
    bool listening = s.state == SockState::listen || (s.proto == Proto::udp && !s.remote && s.local.port);
    if (!listening) return false;
    scope_->add_listener(s, pid, comm);
    return true;
  }
  return false;
}

void StreamIngest::finish() {
  if (!scope_) throw Error(source_ + ": no host line: not a netviz JSON-lines stream");
}

namespace {

class StoreVisitor : public CaptureVisitor {
 public:
  StoreVisitor(FlowStore& s, const std::string& source)
      : store_(s), source_(source), ends_(s.ends.size()), listeners_(s.listeners.size()),
        notes_(s.notes.size()), lost_(s.lost_events), lost_by_host_(s.lost_by_host) {}
  void reset() override {
    store_.ends.resize(ends_);
    store_.listeners.resize(listeners_);
    store_.notes.resize(notes_);
    store_.lost_events = lost_;
    store_.lost_by_host = lost_by_host_;
    scope_.reset();
  }
  void on_host(const HostInfo& h) override { scope_.emplace(store_, h); }
  void on_flow(Flow&& f) override { scope_->add_flow(f); }
  void on_socket(Socket&& s) override { scope_->add_socket(s); }
  void on_lost_events(uint64_t n) override {
    store_.lost_events += n;
    if (n) store_.lost_by_host[scope_ ? scope_->host_name() : std::string()] += n;
    if (n)
      store_.notes.push_back(source_ + ": the tracer lost " + std::to_string(n) +
                             " events; some flows may be missing");
  }

 private:
  FlowStore& store_;
  const std::string& source_;
  size_t ends_, listeners_, notes_;
  uint64_t lost_;
  std::map<std::string, uint64_t> lost_by_host_;
  std::optional<FlowStore::Scope> scope_;
};

}  // namespace

void load_text(FlowStore& store, std::string_view text, const std::string& source) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    throw Error(source + ": empty input");
  if (looks_like_stream(text)) {
    StreamIngest in(store, source);
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      size_t end = nl == std::string_view::npos ? text.size() : nl;
      in.feed_line(text.substr(pos, end - pos));
      pos = end + 1;
    }
    in.finish();
    return;
  }
  StoreVisitor v(store, source);
  read_capture(text, source, v);
}

void keep_big_blocks_in_heap() {
  mallopt(M_MMAP_THRESHOLD, 512 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
}

void load_inputs(FlowStore& store, const std::vector<std::string>& paths, int threads) {
  size_t n = paths.size();
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = static_cast<int>(std::min<size_t>(threads, n));
  keep_big_blocks_in_heap();
  if (threads <= 1) {
    for (const auto& p : paths) load_text(store, read_input(p), p == "-" ? "<stdin>" : p);
    return;
  }
  // Each input into its own store, merged in order as soon as it and all before it are
  // done, so at most a few parsed inputs wait in memory.
  std::vector<FlowStore> parts(n);
  std::vector<std::exception_ptr> errors(n);
  std::vector<char> done(n, 0);
  std::mutex m;
  size_t next = 0, merged = 0;
  auto worker = [&] {
    for (;;) {
      size_t i;
      {
        std::lock_guard<std::mutex> g(m);
        if (next >= n) return;
        i = next++;
      }
      try {
        const std::string& p = paths[i];
        load_text(parts[i], read_input(p), p == "-" ? "<stdin>" : p);
      } catch (...) {
        errors[i] = std::current_exception();
      }
      std::lock_guard<std::mutex> g(m);
      done[i] = 1;
      while (merged < n && done[merged]) {
        if (!errors[merged]) store.merge(std::move(parts[merged]));
        ++merged;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);  // the first failing input in command-line order
}

}  // namespace netviz
