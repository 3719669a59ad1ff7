#include "fleet/publish_sink.h"

namespace netviz {

void PublishSink::hand_over() {
  std::string text = buf_.str();
  buf_.str(std::string());
  size_t pos = 0;
  for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', pos)) {
    publisher_.push(std::string_view(text).substr(pos, nl - pos));
    pos = nl + 1;
  }
}

void PublishSink::host(const HostInfo& h, WallNs time) {
  json_.host(h, time);
  hand_over();
}
void PublishSink::flow(std::string_view event, const Flow& f, WallNs time) {
  // The hot path: one flow line, built directly.
  publisher_.push(flow_line_text(event, f, time));
}
void PublishSink::socket(const TraceEvent& e) {
  json_.socket(e);
  hand_over();
}
void PublishSink::process(const TraceEvent& e) {
  json_.process(e);
  hand_over();
}
void PublishSink::stats(const Stats& s, WallNs time) {
  json_.stats(s, time);
  hand_over();
}

}  // namespace netviz
