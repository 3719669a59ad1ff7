#pragma once
// The reader of capture documents (the one netviz-stitch uses); the document is never held
// as one JSON tree. Each item of "flows" and "sockets" is built, validated by the item
// readers of capture_json.h (messages like "<source>: flows[3].local.port: ..."), handed to the
// visitor and dropped, so memory stays proportional to one item. "processes" and "stats"
// are checked for JSON syntax only; stats.lost_events is reported.
#include <cstdint>
#include <string>
#include <string_view>

#include "model/capture.h"

namespace netviz {

class CaptureVisitor {
 public:
  virtual ~CaptureVisitor() = default;
  // Called once, before any flow or socket (documents written by netviz put "host" first;
  // for others, items met before "host" are buffered).
  virtual void on_host(const HostInfo& h) = 0;
  virtual void on_flow(Flow&& f) = 0;
  virtual void on_socket(Socket&&) {}
  virtual void on_lost_events(uint64_t) {}
  // Forget everything received: the fast path gave up and the checked reader starts over.
  virtual void reset() = 0;
};

// Throws netviz::Error naming the source and the line (syntax) or the field (values).
// A hand-written parser reads the common case (flows as netviz writes them) straight into
// Flow structs; anything it is not sure about (escapes, odd numbers, any error) makes it
// give up, and the checked reader below reads the whole text again with nlohmann's SAX
// parser and the validation of capture_json, so errors and edge cases are judged once.
void read_capture(std::string_view text, const std::string& source, CaptureVisitor& v);
// The fast path alone: false when it gave up (the visitor may hold part of the items).
bool read_capture_fast_path(std::string_view text, const std::string& source, CaptureVisitor& v);
// One flow event line of a JSON-lines stream ("connect", "close", ...) as netviz writes it,
// read by the same fast path into `f`; false for any other line or when it is unsure
// (parse_stream_line then judges the line).
bool read_flow_line_fast(std::string_view line, Flow& f);
// The checked reader alone.
void read_capture_checked(std::string_view text, const std::string& source, CaptureVisitor& v);

}  // namespace netviz
