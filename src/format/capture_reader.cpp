#include "format/capture_reader.h"

#include <algorithm>
#include <vector>

#include "format/capture_json.h"
#include "util/error.h"

namespace netviz {

using nlohmann::json;

namespace {

// SAX handler: builds small trees for the values it needs and skips the rest.
class Reader {
 public:
  Reader(std::string_view text, const std::string& source, CaptureVisitor& v)
      : text_(text), source_(source), at_{source_, ""}, v_(v) {}

  // nlohmann SAX interface.
  bool null() { return value(json(nullptr)); }
  bool boolean(bool b) { return value(json(b)); }
  bool number_integer(json::number_integer_t n) { return value(json(n)); }
  bool number_unsigned(json::number_unsigned_t n) { return value(json(n)); }
  bool number_float(json::number_float_t d, const std::string&) { return value(json(d)); }
  bool string(json::string_t& s) { return value(json(std::move(s))); }
  bool binary(json::binary_t&) { return value(json(nullptr)); }
  bool start_object(std::size_t) { return open(json::value_t::object); }
  bool start_array(std::size_t) { return open(json::value_t::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(json::string_t& k) {
    if (depth_ == 1) {
      top_key_ = k;
    } else if (!stack_.empty()) {
      key_ = std::move(k);
    }
    return true;
  }
  bool parse_error(std::size_t pos, const std::string&, const nlohmann::detail::exception&) {
    size_t upto = std::min(pos, text_.size());
    size_t line = 1 + static_cast<size_t>(std::count(text_.begin(), text_.begin() + upto, '\n'));
    bool truncated = pos >= text_.size();
    // Past the end means the document stopped early: say so rather than blame a token.
    throw Error(source_ + ": line " + std::to_string(line) + ": " +
                (truncated ? "truncated JSON (unexpected end of input)" : "malformed JSON"));
  }

  void finish() {
    if (!saw_netviz_) at_.field("netviz").fail("missing");
    if (!have_host_) at_.field("host").fail("missing");
    if (!saw_flows_) at_.field("flows").fail("missing");
  }

 private:
  enum class Target { none, netviz, host, stats, flow, socket };

  Target target_for_top_key() const {
    if (top_key_ == "netviz") return Target::netviz;
    if (top_key_ == "host") return Target::host;
    if (top_key_ == "stats") return Target::stats;
    return Target::none;
  }

  // A value starts: where does it go?
  bool begin_value(json::value_t type, bool container) {
    if (depth_ == 0) {
      if (type != json::value_t::object) at_.fail("expected an object");
      return true;
    }
    if (depth_ == 1) {
      if (top_key_ == "netviz") saw_netviz_ = true;
      if (top_key_ == "flows" || top_key_ == "sockets") {
        bool flows = top_key_ == "flows";
        if (flows) saw_flows_ = true;
        if (type == json::value_t::array) {
          array_ = flows ? Target::flow : Target::socket;
          array_index_ = 0;
          return true;
        }
        if (type != json::value_t::null) at_.field(top_key_).fail("expected an array");
        return true;
      }
      target_ = target_for_top_key();
      if (target_ != Target::none) start_capture(container);
      return true;
    }
    if (depth_ == 2 && array_ != Target::none && stack_.empty()) {
      target_ = array_;
      start_capture(container);
    }
    return true;
  }

  void start_capture(bool) {
    root_ = json();
    capturing_ = true;
  }

  bool value(json&& v) {
    if (!capturing_) {
      begin_value(v.type(), false);
      if (!capturing_) return true;
    }
    if (stack_.empty()) {
      root_ = std::move(v);
      dispatch();
      return true;
    }
    json* top = stack_.back();
    if (top->is_array())
      top->push_back(std::move(v));
    else
      (*top)[key_] = std::move(v);
    return true;
  }

  bool open(json::value_t type) {
    if (!capturing_) begin_value(type, true);
    ++depth_;
    if (!capturing_) return true;
    json* slot;
    if (stack_.empty()) {
      root_ = json(type);
      slot = &root_;
    } else {
      json* top = stack_.back();
      if (top->is_array()) {
        top->push_back(json(type));
        slot = &top->back();
      } else {
        slot = &((*top)[key_] = json(type));
      }
    }
    stack_.push_back(slot);
    return true;
  }

  bool close() {
    --depth_;
    if (capturing_) {
      stack_.pop_back();
      if (stack_.empty()) dispatch();
    } else if (depth_ == 1) {
      array_ = Target::none;
    }
    return true;
  }

  void dispatch() {
    capturing_ = false;
    switch (target_) {
      case Target::netviz:
        if (!root_.is_number_integer())
          at_.field("netviz").fail("expected the format version, an integer");
        if (root_.get<int64_t>() != kFormatVersion)
          at_.field("netviz").fail("unsupported format version " + root_.dump() +
                                   " (this build reads " + std::to_string(kFormatVersion) + ")");
        break;
      case Target::host:
        v_.on_host(host_from_json(root_, at_.field("host")));
        have_host_ = true;
        for (auto& f : pending_flows_) v_.on_flow(std::move(f));
        for (auto& s : pending_sockets_) v_.on_socket(std::move(s));
        pending_flows_.clear();
        pending_sockets_.clear();
        break;
      case Target::stats:
        if (root_.is_object()) {
          auto l = root_.find("lost_events");
          if (l != root_.end() && l->is_number_unsigned()) v_.on_lost_events(l->get<uint64_t>());
        }
        break;
      case Target::flow: {
        Flow f = flow_from_json(root_, at_.field("flows").index(array_index_++));
        if (have_host_)
          v_.on_flow(std::move(f));
        else
          pending_flows_.push_back(std::move(f));
        break;
      }
      case Target::socket: {
        Socket s = socket_from_json(root_, at_.field("sockets").index(array_index_++));
        if (have_host_)
          v_.on_socket(std::move(s));
        else
          pending_sockets_.push_back(std::move(s));
        break;
      }
      case Target::none:
        break;
    }
    target_ = Target::none;
  }

  std::string_view text_;
  const std::string& source_;
  JsonPath at_;
  CaptureVisitor& v_;
  int depth_ = 0;
  std::string top_key_;
  std::string key_;
  Target target_ = Target::none;
  Target array_ = Target::none;
  size_t array_index_ = 0;
  bool capturing_ = false;
  json root_;
  std::vector<json*> stack_;
  bool saw_netviz_ = false, have_host_ = false, saw_flows_ = false;
  std::vector<Flow> pending_flows_;
  std::vector<Socket> pending_sockets_;
};

}  // namespace

void read_capture_checked(std::string_view text, const std::string& source, CaptureVisitor& v) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    throw Error(source + ": empty input");
  Reader r(text, source, v);
  json::sax_parse(text.begin(), text.end(), &r, json::input_format_t::json, true);
  r.finish();
}

bool read_capture_fast_path(std::string_view text, const std::string& source, CaptureVisitor& v);

void read_capture(std::string_view text, const std::string& source, CaptureVisitor& v) {
  if (read_capture_fast_path(text, source, v)) return;
  v.reset();
  read_capture_checked(text, source, v);
}

}  // namespace netviz
