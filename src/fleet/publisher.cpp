#include "fleet/publisher.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <cctype>
#include <iostream>
#include <chrono>

#include "util/error.h"

namespace netviz {

std::string fleet_subject(const std::string& machine_id, uint64_t netns) {
  // Subject tokens cannot hold '.', '*', '>' or blanks; a machine id is hex, kept as is.
  std::string id;
  for (char c : machine_id)
    id += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  if (id.empty()) id = "unknown";
  if (netns) id += "-" + std::to_string(netns);
  return "netviz." + id + ".events";
}

Publisher::Publisher(PublishOptions o, std::ostream& err) : o_(std::move(o)), err_(err) {}

void Publisher::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
}

// In the publisher's thread: the first attempt may wait for a server that is down, and the
// ring-buffer reader must not.
bool Publisher::connect() {
  std::string down;
  try {
    nc_ = nats_connect(o_.access, &down);
  } catch (const Error& e) {
    say(std::string(e.what()) + "; retrying every 5 s, events wait in the spool");
    return false;
  }
  (void)down;  // the caller's nats_probe() said it; the client keeps retrying
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 5000;
  if (natsConnection_JetStream(&js_, nc_, &jo) != NATS_OK) {
    say("NATS: cannot start a JetStream context; retrying every 5 s");
    natsConnection_Destroy(nc_);
    nc_ = nullptr;
    return false;
  }
  return true;
}

Publisher::~Publisher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (js_) jsCtx_Destroy(js_);
  if (nc_) natsConnection_Destroy(nc_);
  if (spill_fd_ >= 0) close(spill_fd_);
}

void Publisher::say(const std::string& line) {
  std::string text = o_.program + ": " + mask_secrets(line, o_.access.servers) + "\n";
  // From the publisher's thread while the tracer writes stderr too (unsynchronised with
  // stdio): one write(2) per line keeps lines whole and shares no stream state.
  if (&err_ == &std::cerr) {
    ssize_t n = write(STDERR_FILENO, text.data(), text.size());
    (void)n;
    return;
  }
  err_ << text;
  err_.flush();
}

bool Publisher::push(std::string_view line) {
  size_t n = line.size() + 1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (spool_bytes_ + n > o_.spool_max) {
      uint64_t lost = ++lost_;
      if (!overflowing_) {
        overflowing_ = true;
        say("spool full (" + std::to_string(o_.spool_max) +
            " bytes, --spool-max): events are dropped and counted as lost_transport until NATS "
            "takes the backlog (" + std::to_string(lost) + " lost so far)");
      }
      return false;
    }
    overflowing_ = false;
    if (file_lines_ == 0 && memory_bytes_ + n <= o_.spool_memory) {
      spool_.emplace_back(line);
      memory_bytes_ += n;
    } else if (!spill(line)) {
      ++lost_;
      return false;
    }
    spool_bytes_ += n;
  }
  cv_.notify_one();
  return true;
}

size_t Publisher::drain(int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  drained_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                    [this] { return !waiting() && in_flight_lines_ == 0; });
  size_t left = spool_.size() + file_lines_ + in_flight_lines_;
  if (left)
    say(std::to_string(left) + " events not yet stored by NATS " +
        masked_list(o_.access.servers) + " at exit: lost");
  return left;
}

// The stream holding every host's subject, created when missing: file storage, the
// retention and size cap asked for. A host account allowed only to publish cannot look;
// its messages go out anyway and the server tells whether a stream took them.
bool Publisher::ensure_stream() {
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, js_, o_.stream.c_str(), nullptr, &jerr);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(si);
    return true;
  }
  if (s != NATS_NOT_FOUND) return false;
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = o_.stream.c_str();
  const char* subjects[] = {"netviz.*.events"};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.MaxAge = o_.retention_ns;
  cfg.MaxBytes = o_.stream_max_bytes;
  cfg.Replicas = o_.replicas;
  cfg.Duplicates = 2LL * 60 * 1'000'000'000;  // the window in which a retry is recognised
  s = js_AddStream(&si, js_, &cfg, nullptr, &jerr);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(si);
    say("created JetStream stream " + o_.stream + " (netviz.*.events, file storage)");
    return true;
  }
  // Another host may have created it in between.
  return js_GetStreamInfo(&si, js_, o_.stream.c_str(), nullptr, &jerr) == NATS_OK
             ? (jsStreamInfo_Destroy(si), true)
             : false;
}

// Memory is full: the line goes to an unnamed file (O_TMPFILE in a private directory that is
// removed at once), so nothing is left behind whatever ends the tracer.
bool Publisher::spill(std::string_view line) {
  if (spill_fd_ < 0) {
    std::string dir = o_.spill_dir + "/netviz-spool.XXXXXX";
    if (!mkdtemp(dir.data())) {
      say("cannot make a spool directory in " + o_.spill_dir + ": " + std::strerror(errno));
      return false;
    }
    spill_fd_ = open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    int e = errno;
    rmdir(dir.c_str());
    if (spill_fd_ < 0) {
      say("cannot make a spool file in " + o_.spill_dir + ": " + std::strerror(e));
      return false;
    }
  }
  if (!said_spill_) {
    say("NATS is behind: events beyond " + std::to_string(o_.spool_memory) +
        " bytes wait in a spool file in " + o_.spill_dir);
    said_spill_ = true;
  }
  std::string text(line);
  text += '\n';
  ssize_t w = pwrite(spill_fd_, text.data(), text.size(), static_cast<off_t>(file_write_));
  if (w != static_cast<ssize_t>(text.size())) return false;
  file_write_ += text.size();
  ++file_lines_;
  return true;
}

bool Publisher::take_from_file(std::string& out, size_t& lines) {
  if (file_lines_ == 0) return true;
  size_t want = static_cast<size_t>(std::min<uint64_t>(o_.batch_max, file_write_ - file_read_));
  std::string buf(want, '\0');
  ssize_t r = pread(spill_fd_, buf.data(), want, static_cast<off_t>(file_read_));
  if (r <= 0) return false;
  buf.resize(static_cast<size_t>(r));
  size_t end = buf.rfind('\n');
  if (end == std::string::npos) return false;  // a line longer than a message: not written by us
  buf.resize(end + 1);
  size_t n = static_cast<size_t>(std::count(buf.begin(), buf.end(), '\n'));
  file_read_ += buf.size();
  file_lines_ -= n;
  lines += n;
  out += buf;
  if (file_lines_ == 0) {  // read empty: back to memory, the file starts over
    file_read_ = file_write_ = 0;
    if (ftruncate(spill_fd_, 0) != 0) {
    }
  }
  return true;
}

void Publisher::run() {
  while (!connect()) {
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, std::chrono::seconds(5), [this] { return stop_; })) return;
  }
  uint64_t seq = 0;
  std::string payload, msg_id;
  size_t payload_lines = 0;
  bool was_down = false;
  auto last_stream_try = std::chrono::steady_clock::time_point{};
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (payload_lines == 0) {
        cv_.wait_for(lock, std::chrono::milliseconds(200),
                     [this] { return stop_ || waiting(); });
        if (!waiting()) {
          drained_.notify_all();
          if (stop_) return;
          continue;
        }
        // A short linger gathers what arrives in the next few milliseconds into the same
        // message: a host's trickle of events costs the server a message per 10 ms at most.
        if (!stop_ && spool_bytes_ < o_.batch_max / 2)
          cv_.wait_for(lock, std::chrono::milliseconds(10), [this] { return stop_; });
        // A message holds the lines waiting now, up to batch_max bytes: one line each when
        // events trickle, large messages under load. Once formed it keeps its id, so a
        // retry after a lost acknowledgement is recognised by the server as a duplicate.
        payload.clear();
        while (!spool_.empty() && (payload.empty() || payload.size() + spool_.front().size() + 1 <=
                                                          o_.batch_max)) {
          payload += spool_.front();
          payload += '\n';
          memory_bytes_ -= spool_.front().size() + 1;
          spool_.pop_front();
          ++payload_lines;
        }
        if (payload.empty() && !take_from_file(payload, payload_lines)) {
          // The file cannot be read back: what it holds is lost, and said.
          lost_ += file_lines_;
          say("spool file unreadable: " + std::to_string(file_lines_) + " events lost");
          spool_bytes_ -= file_write_ - file_read_;
          file_lines_ = 0;
          file_read_ = file_write_ = 0;
          continue;
        }
        in_flight_lines_ = payload_lines;
        msg_id = o_.msg_id_base + "." + std::to_string(++seq);
      } else if (stop_ && natsConnection_Status(nc_) != NATS_CONN_STATUS_CONNECTED) {
        return;  // drain() said what is left
      }
    }
    if (natsConnection_Status(nc_) != NATS_CONN_STATUS_CONNECTED) {
      was_down = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    auto now = std::chrono::steady_clock::now();
    if (!stream_ok_ && now - last_stream_try > std::chrono::seconds(1)) {
      last_stream_try = now;
      stream_ok_ = ensure_stream();
    }
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = msg_id.c_str();
    po.MaxWait = 5000;
    jsPubAck* ack = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_Publish(&ack, js_, o_.subject.c_str(), payload.data(),
                              static_cast<int>(payload.size()), &po, &jerr);
    if (s == NATS_OK) {
      jsPubAck_Destroy(ack);
      ++published_;
      if (was_down) {
        say("NATS reachable again; sending the spooled events");
        was_down = false;
      }
      std::lock_guard<std::mutex> lock(mu_);
      spool_bytes_ -= payload.size();
      in_flight_lines_ = 0;
      payload_lines = 0;
      if (!waiting()) drained_.notify_all();
      continue;
    }
    if (!was_down)
      say("publishing to NATS failed (" + nats_error_text(s, o_.access) +
          "); retrying, events wait in the spool");
    was_down = true;
    stream_ok_ = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;  // drain() gave up waiting and said what is left
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace netviz
