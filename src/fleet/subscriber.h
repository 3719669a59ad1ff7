#pragma once
// netviz-stitch --subscribe: every host's subject of the JetStream stream through one pull
// consumer, durable when named so a restarted stitcher resumes where it stopped.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "fleet/fetch_ahead.h"
#include "fleet/nats_connect.h"
#include "model/capture.h"

namespace netviz {

struct SubscribeOptions {
  NatsAccess access;
  std::string stream = "NETVIZ";
  std::string subjects = "netviz.*.events";
  std::string durable;          // --durable; "" = a consumer that ends with the stitcher
  std::optional<WallNs> since;  // --since, for a new consumer: from that time, else from the start
  std::string program = "netviz-stitch";
};

// One message as the stitcher sees it.
struct FleetMessage {
  std::string_view subject;
  uint64_t stream_seq = 0;
  uint64_t pending = 0;  // messages left after this one when it was delivered
  std::string_view data;
};

class Subscriber {
 public:
  // Connects; throws netviz::Error when the server refuses (exit 2). A server that is
  // down is said on `err` and retried in the background.
  Subscriber(SubscribeOptions o, std::ostream& err);
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  // Sets up the consumer once the server answers; false until then (said once on `err`).
  bool open();
  // The messages the server holds now (a few MB at most; none: a pause of up to
  // `timeout_ms`), each handed to `on_msg`; then the last is acknowledged, and with it all
  // before it (marked done once in the graph). Returns how many came; -1 while the consumer
  // cannot be set up or read (server down, no stream).
  int fetch(int64_t timeout_ms, const std::function<void(const FleetMessage&)>& on_msg);
  // Stream sequence up to which an existing durable consumer had acknowledged everything when
  // this stitcher started (0: new consumer): what an earlier run already put in its graph.
  uint64_t resumed_ack_floor() const { return ack_floor_; }
  // The messages up to resumed_ack_floor(), read without acknowledging (a stitcher that
  // resumes rebuilds its graph from them). Returns false if the server could not give them.
  bool replay_acknowledged(const std::function<void(const FleetMessage&)>& on_msg);

 private:
  void say(const std::string& line);

  SubscribeOptions o_;
  std::ostream& err_;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  natsSubscription* sub_ = nullptr;
  std::unique_ptr<FetchAhead> ahead_;  // started once there is a backlog
  uint64_t ack_floor_ = 0;
  bool said_waiting_ = false;
};

}  // namespace netviz
