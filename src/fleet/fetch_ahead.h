#pragma once
// A JetStream pull fetch run on a thread of its own, so that the next batch travels from the
// server while the stitcher works through the one before it.
#include <nats/nats.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace netviz {

struct FetchedBatch {
  natsStatus status = NATS_OK;
  natsMsgList list{};  // owned by whoever took it: natsMsgList_Destroy
};

// One fetch: what the server holds now, up to the request's Batch and MaxBytes, without
// waiting; when it holds nothing, NATS_TIMEOUT after a pause of at most kIdlePause (or the
// request's Expires). Only no-wait requests: a waiting one the server answers after the
// client stopped waiting leaves its messages queued for the next fetch, and libnats 3.4's
// fetch writes past its array when more than half its batch is queued so (fixed in 3.9).
constexpr int64_t kIdlePause = 20'000'000;  // ns
FetchedBatch fetch_batch(natsSubscription* sub, jsFetchRequest req);

class FetchAhead {
 public:
  explicit FetchAhead(natsSubscription* sub);
  // Messages fetched and never taken are handed back to the server (nak) so that another
  // run of the same durable consumer gets them at once instead of after AckWait.
  ~FetchAhead();
  FetchAhead(const FetchAhead&) = delete;
  FetchAhead& operator=(const FetchAhead&) = delete;

  // Starts one fetch; at most one runs at a time.
  void start(const jsFetchRequest& req);
  bool running() const { return started_; }
  // Waits for the fetch start() began (it ends by itself at the request's Expires).
  FetchedBatch take();

 private:
  void loop();

  natsSubscription* sub_;
  std::mutex mu_;
  std::condition_variable cv_;
  jsFetchRequest req_{};
  FetchedBatch result_;
  bool want_ = false, done_ = false, quit_ = false;
  bool started_ = false;  // touched by the caller's thread only
  std::thread thread_;
};

}  // namespace netviz
