#pragma once
// One stream to two sinks (stdout and netviz-trace --publish): every event to both.
#include <memory>

#include "sinks/event_sink.h"

namespace netviz {

class TeeSink : public EventSink {
 public:
  TeeSink(std::unique_ptr<EventSink> a, std::unique_ptr<EventSink> b)
      : a_(std::move(a)), b_(std::move(b)) {}
  void host(const HostInfo& h, WallNs t) override { a_->host(h, t), b_->host(h, t); }
  void flow(std::string_view e, const Flow& f, WallNs t) override { a_->flow(e, f, t), b_->flow(e, f, t); }
  void socket(const TraceEvent& e) override { a_->socket(e), b_->socket(e); }
  void process(const TraceEvent& e) override { a_->process(e), b_->process(e); }
  void stats(const Stats& s, WallNs t) override { a_->stats(s, t), b_->stats(s, t); }
  // False when either output is gone: the run ends as it does for a closed pipe.
  bool flush() override {
    bool x = a_->flush();
    bool y = b_->flush();
    return x && y;
  }

 private:
  std::unique_ptr<EventSink> a_, b_;
};

}  // namespace netviz
