#pragma once
// The JSON-lines stream, line by line, to a Publisher: the same text the stdout sink
// writes (EventJsonSink), whatever stdout shows.
#include <sstream>

#include "fleet/publisher.h"
#include "sinks/event_jsonl.h"

namespace netviz {

class PublishSink : public EventSink {
 public:
  explicit PublishSink(Publisher& p) : publisher_(p), json_(buf_) {}
  void host(const HostInfo& h, WallNs time) override;
  void flow(std::string_view event, const Flow& f, WallNs time) override;
  void socket(const TraceEvent& e) override;
  void process(const TraceEvent& e) override;
  void stats(const Stats& s, WallNs time) override;
  bool flush() override { return true; }  // the publisher's thread sends; a NATS outage is no closed pipe

 private:
  void hand_over();
  Publisher& publisher_;
  std::ostringstream buf_;
  EventJsonSink json_;
};

}  // namespace netviz
