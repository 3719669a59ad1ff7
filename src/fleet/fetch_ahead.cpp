#include "fleet/fetch_ahead.h"

#include <algorithm>
#include <chrono>

namespace netviz {

FetchedBatch fetch_batch(natsSubscription* sub, jsFetchRequest req) {
  FetchedBatch r;
  req.NoWait = true;
  r.status = natsSubscription_FetchRequest(&r.list, sub, &req);
  if (r.status == NATS_NOT_FOUND) {  // nothing there now: look again after a pause
    std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<int64_t>(req.Expires, kIdlePause)));
    r.status = NATS_TIMEOUT;
  }
  return r;
}

FetchAhead::FetchAhead(natsSubscription* sub) : sub_(sub), thread_([this] { loop(); }) {}

FetchAhead::~FetchAhead() {
  {
    std::lock_guard lock(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (done_ && result_.status == NATS_OK) {
    for (int i = 0; i < result_.list.Count; ++i) natsMsg_Nak(result_.list.Msgs[i], nullptr);
    natsMsgList_Destroy(&result_.list);
  }
}

void FetchAhead::start(const jsFetchRequest& req) {
  {
    std::lock_guard lock(mu_);
    req_ = req;
    want_ = true;
    done_ = false;
  }
  started_ = true;
  cv_.notify_all();
}

FetchedBatch FetchAhead::take() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return done_; });
  done_ = false;
  started_ = false;
  FetchedBatch r = result_;
  result_ = FetchedBatch{};
  return r;
}

void FetchAhead::loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return want_ || quit_; });
    if (quit_) return;
    want_ = false;
    jsFetchRequest req = req_;
    lock.unlock();
    FetchedBatch r = fetch_batch(sub_, req);
    lock.lock();
    result_ = r;
    done_ = true;
    cv_.notify_all();
  }
}

}  // namespace netviz
