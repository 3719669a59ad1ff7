#pragma once
// netviz-trace --publish: JSON lines to a JetStream subject, from a thread of its own so the
// ring-buffer reader never waits for the network. Lines wait in a bounded spool while the
// server is away and go out in order afterwards; what does not fit is counted, not hidden.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>

#include "fleet/nats_connect.h"

namespace netviz {

struct PublishOptions {
  NatsAccess access;
  std::string subject;     // netviz.<host id>.events
  std::string msg_id_base; // boot id and run start: Nats-Msg-Id is "<base>.<sequence>"
  std::string stream = "NETVIZ";
  size_t spool_max = 64u << 20;  // bytes of lines waiting, in memory and in the spill file
  size_t spool_memory = 8u << 20; // of which in memory; beyond, lines go to a file
  std::string spill_dir = "/var/tmp";  // where the unnamed spill file is made (O_TMPFILE)
  int64_t retention_ns = 24LL * 3600 * 1'000'000'000;
  int64_t stream_max_bytes = 1LL << 30;
  int replicas = 1;
  size_t batch_max = 256u << 10;  // bytes of lines in one message
  std::string program = "netviz-trace";  // prefix of the lines said on `err`
};

// The JetStream subject of one host: machine id, and the namespace inode when one was chosen.
std::string fleet_subject(const std::string& machine_id, uint64_t netns);

class Publisher {
 public:
  // Lines pushed before start() wait in the spool. nats_probe() is the caller's check that
  // the server list and credentials are usable at all.
  Publisher(PublishOptions o, std::ostream& err);
  // Starts the sending thread, which connects (retrying while no server answers).
  void start();
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // One line without its newline. Never waits on the network; false when the spool was full
  // and the line was dropped (counted in lost()).
  bool push(std::string_view line);
  // Waits up to `timeout_ms` for every pushed line to be stored by the server; returns the
  // number of lines still not stored (said on `err` when not 0).
  size_t drain(int64_t timeout_ms);
  uint64_t lost() const { return lost_.load(); }
  uint64_t published_messages() const { return published_.load(); }

 private:
  void run();
  bool connect();
  bool spill(std::string_view line);      // mu_ held
  bool take_from_file(std::string& out, size_t& lines);  // mu_ held
  bool waiting() const { return !spool_.empty() || file_lines_ > 0; }
  bool ensure_stream();
  void say(const std::string& line);

  PublishOptions o_;
  std::ostream& err_;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_, drained_;
  std::deque<std::string> spool_;
  size_t spool_bytes_ = 0;  // lines in spool_, in the file and in the message in flight
  size_t memory_bytes_ = 0;
  // Once lines go to the file, all later ones do too until it is read empty: order kept.
  int spill_fd_ = -1;
  uint64_t file_write_ = 0, file_read_ = 0;
  size_t file_lines_ = 0;
  bool said_spill_ = false;
  size_t in_flight_lines_ = 0;
  bool stop_ = false;
  bool overflowing_ = false;
  std::atomic<uint64_t> lost_{0};
  std::atomic<uint64_t> published_{0};
  bool stream_ok_ = false;
  std::thread thread_;
};

}  // namespace netviz
