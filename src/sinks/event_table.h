#pragma once
// Readable columns for a terminal, one line per event, in the spirit of tcplife.
#include <ostream>

#include "sinks/event_sink.h"

namespace netviz {

class EventTableSink : public EventSink {
 public:
  explicit EventTableSink(std::ostream& out) : out_(out) {}
  void host(const HostInfo& h, WallNs time) override;
  void flow(std::string_view event, const Flow& f, WallNs time) override;
  void socket(const TraceEvent& e) override;
  void process(const TraceEvent& e) override;
  void stats(const Stats& s, WallNs time) override;
  bool flush() override;

 private:
  void line(std::string_view event, WallNs time, int32_t pid, const std::string& comm,
            const std::string& service, const std::string& proto, const std::string& local, const std::string& remote,
            const std::string& extra);
  std::ostream& out_;
};

// "127.0.0.1:80", "[::1]:80".
std::string endpoint_text(const Endpoint& e, const std::string& family);

}  // namespace netviz
