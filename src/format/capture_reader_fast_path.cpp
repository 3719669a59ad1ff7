// The fast path of read_capture: a strict subset of JSON as netviz writes it.
// It never reports an error itself; it returns false and the checked reader takes over.
#include <cctype>
#include <charconv>
#include <cstring>

#include "format/capture_json.h"
#include "format/capture_reader.h"
#include "format/event_json.h"
#include "format/kind_names.h"
#include "util/time.h"

namespace netviz {

namespace {

struct Bail {};

class Fast {
 public:
  Fast(std::string_view t, const std::string& source, CaptureVisitor* v)
      : p_(t.data()), end_(t.data() + t.size()), source_(source), v_(v) {}

  // One flow event line of a stream: the flow's fields plus "event" (a flow event) and "time".
  Flow& flow_line() {
    line_ = true;
    flow();
    ws();
    if (p_ != end_ || !saw_event_) throw Bail{};
    return flow_;
  }

  void document() {
    ws();
    expect('{');
    bool saw_netviz = false, saw_host = false, saw_flows = false;
    if (peek() == '}') throw Bail{};
    for (;;) {
      std::string_view k = key();
      if (k == "netviz") {
        int64_t n = integer();
        if (n != kFormatVersion) throw Bail{};
        saw_netviz = true;
      } else if (k == "host") {
        if (saw_host) throw Bail{};
        std::string_view span = skip_value();
        nlohmann::json j = nlohmann::json::parse(span.begin(), span.end(), nullptr, false);
        if (j.is_discarded()) throw Bail{};
        JsonPath at{source_, "host"};
        v_->on_host(host_from_json(j, at));  // throws on bad values: the checked path decides
        saw_host = true;
      } else if (k == "flows") {
        if (!saw_host) throw Bail{};
        saw_flows = true;
        array([this] {
          flow();
          v_->on_flow(Flow(flow_));
        });
      } else if (k == "sockets") {
        if (!saw_host) throw Bail{};
        size_t i = 0;
        array([this, &i] {
          std::string_view span = skip_value();
          nlohmann::json j = nlohmann::json::parse(span.begin(), span.end(), nullptr, false);
          if (j.is_discarded()) throw Bail{};
          JsonPath at{source_, "sockets[" + std::to_string(i++) + "]"};
          v_->on_socket(socket_from_json(j, at));
        });
      } else if (k == "stats") {
        std::string_view span = skip_value();
        nlohmann::json j = nlohmann::json::parse(span.begin(), span.end(), nullptr, false);
        if (j.is_discarded()) throw Bail{};
        if (j.is_object()) {
          auto l = j.find("lost_events");
          if (l != j.end() && l->is_number_unsigned()) v_->on_lost_events(l->get<uint64_t>());
        }
      } else {
        skip_value();
      }
      ws();
      if (peek() == ',') {
        ++p_;
        continue;
      }
      expect('}');
      break;
    }
    ws();
    if (p_ != end_) throw Bail{};
    if (!saw_netviz || !saw_host || !saw_flows) throw Bail{};
  }

 private:
  char peek() {
    ws();
    if (p_ == end_) throw Bail{};
    return *p_;
  }
  void ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\t' || *p_ == '\r')) ++p_;
  }
  void expect(char c) {
    ws();
    if (p_ == end_ || *p_ != c) throw Bail{};
    ++p_;
  }
  bool literal(const char* lit) {
    size_t n = std::strlen(lit);
    if (static_cast<size_t>(end_ - p_) >= n && std::memcmp(p_, lit, n) == 0) {
      p_ += n;
      return true;
    }
    return false;
  }
  // A string without escapes or control characters (anything else: the checked path).
  std::string_view str() {
    expect('"');
    const char* s = p_;
    while (p_ != end_ && *p_ != '"') {
      unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '\\' || c < 0x20 || c >= 0x80) throw Bail{};
      ++p_;
    }
    if (p_ == end_) throw Bail{};
    return std::string_view(s, static_cast<size_t>(p_++ - s));
  }
  std::string_view key() {
    std::string_view k = str();
    expect(':');
    return k;
  }
  bool null() {
    ws();
    return literal("null");
  }
  int64_t integer() {
    std::string_view n = num_span();
    int64_t v = 0;
    auto [q, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
    if (ec != std::errc() || q != n.data() + n.size()) throw Bail{};  // floats, overflow
    return v;
  }
  uint64_t unsigned_int() {
    std::string_view n = num_span();
    uint64_t v = 0;
    auto [q, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
    if (ec != std::errc() || q != n.data() + n.size()) throw Bail{};  // negative, floats
    return v;
  }
  double number() {
    std::string_view n = num_span();
    double d = 0;
    auto [q, ec] = std::from_chars(n.data(), n.data() + n.size(), d);
    if (ec != std::errc() || q != n.data() + n.size()) throw Bail{};
    return d;
  }
  WallNs time() {
    auto t = parse_time(str());
    if (!t) throw Bail{};
    return *t;
  }
  template <typename F>
  void array(F&& each) {
    ws();
    if (null()) return;
    expect('[');
    if (peek() == ']') {
      ++p_;
      return;
    }
    for (;;) {
      each();
      if (peek() == ',') {
        ++p_;
        continue;
      }
      expect(']');
      return;
    }
  }
  // The span of a JSON number, checked against the grammar (from_chars alone is laxer).
  std::string_view num_span() {
    ws();
    const char* s = p_;
    auto digits = [this] {
      const char* d = p_;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      if (p_ == d) throw Bail{};
    };
    if (p_ != end_ && *p_ == '-') ++p_;
    if (p_ != end_ && *p_ == '0')
      ++p_;
    else
      digits();
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      digits();
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      digits();
    }
    return std::string_view(s, static_cast<size_t>(p_ - s));
  }
  void skip_string() {
    expect('"');
    while (p_ != end_ && *p_ != '"') {
      unsigned char c = static_cast<unsigned char>(*p_);
      if (c < 0x20 || c >= 0x80) throw Bail{};  // UTF-8 is the checked reader's to judge
      if (c == '\\') {
        if (++p_ == end_) throw Bail{};
        char e = *p_;
        if (e == 'u') {
          for (int i = 0; i < 4; ++i)
            if (++p_ == end_ || !std::isxdigit(static_cast<unsigned char>(*p_))) throw Bail{};
        } else if (!std::strchr("\"\\/bfnrt", e) || e == 0) {
          throw Bail{};
        }
      }
      ++p_;
    }
    if (p_ == end_) throw Bail{};
    ++p_;
  }
  void skip_any(int depth = 0) {
    if (depth > 64) throw Bail{};
    char c = peek();
    if (c == '{') {
      ++p_;
      if (peek() == '}') {
        ++p_;
        return;
      }
      for (;;) {
        skip_string();
        expect(':');
        skip_any(depth + 1);
        if (peek() == ',') {
          ++p_;
          continue;
        }
        expect('}');
        return;
      }
    }
    if (c == '[') {
      ++p_;
      if (peek() == ']') {
        ++p_;
        return;
      }
      for (;;) {
        skip_any(depth + 1);
        if (peek() == ',') {
          ++p_;
          continue;
        }
        expect(']');
        return;
      }
    }
    if (c == '"') return skip_string();
    if (literal("true") || literal("false") || literal("null")) return;
    num_span();
  }
  // Skips one value, checking its syntax; returns its text.
  std::string_view skip_value() {
    ws();
    const char* s = p_;
    skip_any();
    return std::string_view(s, static_cast<size_t>(p_ - s));
  }
  void endpoint(Endpoint& e) {
    expect('{');
    bool addr = false;
    e.port = 0;
    if (peek() != '}') {
      for (;;) {
        std::string_view k = key();
        if (k == "addr") {
          e.addr.assign(str());
          addr = true;
        } else if (k == "port") {
          if (!null()) {
            uint64_t p = unsigned_int();
            if (p > 65535) throw Bail{};
            e.port = static_cast<uint32_t>(p);
          }
        } else {
          skip_value();
        }
        if (peek() == ',') {
          ++p_;
          continue;
        }
        break;
      }
    }
    expect('}');
    if (!addr) throw Bail{};
  }
  std::optional<int64_t> scaled(double scale) {
    if (null()) return std::nullopt;
    double d = number();
    if (d < 0) throw Bail{};
    return static_cast<int64_t>(d * scale);
  }
  void opt_string(std::string& out) {
    if (null())
      out.clear();
    else
      out.assign(str());
  }

  // One of the contract's values; anything else goes to the checked reader, which names it.
  template <typename E>
  E kind(std::optional<E> (*parse)(std::string_view)) {
    auto v = parse(str());
    if (!v) throw Bail{};
    return *v;
  }
  template <typename E>
  E opt_kind(std::optional<E> (*parse)(std::string_view)) {
    return null() ? E::none : kind(parse);
  }

  // {"pid": N, "comm": "..."} or null, as the checked reader takes it (pid required).
  void owner(std::optional<Owner>& out) {
    if (null()) return;
    Owner o;
    bool has_pid = false;
    expect('{');
    if (peek() != '}') {
      for (;;) {
        std::string_view k = key();
        if (k == "pid") {
          int64_t v = integer();
          if (v < 0 || v > INT32_MAX) throw Bail{};
          o.pid = static_cast<int32_t>(v);
          has_pid = true;
        } else if (k == "comm") {
          opt_string(o.comm);
        } else {
          skip_value();
        }
        if (peek() != ',') break;
        ++p_;
      }
    }
    expect('}');
    if (!has_pid) throw Bail{};
    out = std::move(o);
  }

  // {"local": {...}, "remote": {...}}, either optional, as the checked reader takes it.
  void nat(std::shared_ptr<const Nat>& out) {
    if (null()) return;
    Nat n;
    expect('{');
    if (peek() != '}') {
      for (;;) {
        std::string_view k = key();
        std::optional<Endpoint>* e = k == "local" ? &n.local : k == "remote" ? &n.remote : nullptr;
        if (!e) {
          skip_value();
        } else if (!null()) {
          e->emplace();
          endpoint(**e);
        }
        if (peek() != ',') break;
        ++p_;
      }
    }
    expect('}');
    if (!n.local && !n.remote) throw Bail{};
    out = std::make_shared<const Nat>(std::move(n));
  }

  void flow() {
    Flow& f = flow_;
    f.proto = Proto::none;
    f.family = Family::none;
    f.remote.reset();
    f.direction = Direction::none;
    f.comm.clear();
    f.service.clear();
    f.netns = 0;
    f.first_seen = f.last_seen = 0;
    f.duration_ns.reset();
    f.bytes_sent = f.bytes_received = f.packets = 0;
    f.connect_latency_ns.reset();
    f.attribution = Attribution::none;
    f.state = SockState::none;
    f.handed_from.reset();
    f.peer.reset();
    f.nat.reset();
    enum : unsigned { kProto = 1, kFamily = 2, kLocal = 4, kRemote = 8, kDir = 16, kPid = 32,
                      kComm = 64, kLast = 128 };
    unsigned seen = 0;
    expect('{');
    if (peek() == '}') throw Bail{};
    for (;;) {
      std::string_view k = key();
      switch (line_key(k) ? '\1' : k.size() ? k[0] : 0) {
        case '\1':
          break;
        case 'p':
          if (k == "proto") {
            f.proto = kind(parse_proto);
            seen |= kProto;
          } else if (k == "pid") {
            int64_t v = integer();
            if (v < -1 || v > INT32_MAX) throw Bail{};
            f.pid = static_cast<int32_t>(v);
            seen |= kPid;
          } else if (k == "packets") {
            f.packets = null() ? 0 : unsigned_int();
          } else if (k == "peer") {
            owner(f.peer);
          } else {
            skip_value();
          }
          break;
        case 'f':
          if (k == "family") {
            f.family = kind(parse_family);
            seen |= kFamily;
          } else if (k == "first_seen") {
            f.first_seen = null() ? 0 : time();
          } else {
            skip_value();
          }
          break;
        case 'l':
          if (k == "local") {
            endpoint(f.local);
            seen |= kLocal;
          } else if (k == "last_seen") {
            if (null()) {
              seen &= ~kLast;
            } else {
              f.last_seen = time();
              seen |= kLast;
            }
          } else {
            skip_value();
          }
          break;
        case 'r':
          if (k == "remote") {
            if (null()) {
              f.remote.reset();
            } else {
              f.remote.emplace();
              endpoint(*f.remote);
            }
            seen |= kRemote;
          } else {
            skip_value();
          }
          break;
        case 'd':
          if (k == "direction") {
            f.direction = kind(parse_direction);
            if (f.direction == Direction::none) throw Bail{};
            seen |= kDir;
          } else if (k == "duration_ms") {
            f.duration_ns = scaled(1e6);
          } else {
            skip_value();
          }
          break;
        case 'c':
          if (k == "comm") {
            f.comm.assign(str());
            seen |= kComm;
          } else if (k == "connect_latency_us") {
            f.connect_latency_ns = scaled(1e3);
          } else if (k == "connected_by") {
            owner(f.handed_from);
          } else {
            skip_value();
          }
          break;
        case 'n':
          if (k == "netns")
            f.netns = null() ? 0 : unsigned_int();
          else if (k == "nat")
            nat(f.nat);
          else
            skip_value();
          break;
        case 'b':
          if (k == "bytes_sent")
            f.bytes_sent = null() ? 0 : unsigned_int();
          else if (k == "bytes_received")
            f.bytes_received = null() ? 0 : unsigned_int();
          else
            skip_value();
          break;
        case 'a':
          if (k == "attribution")
            f.attribution = opt_kind(parse_attribution);
          else if (k == "accepted_by")
            owner(f.handed_from);
          else
            skip_value();
          break;
        case 's':
          if (k == "state")
            f.state = opt_kind(parse_state);
          else if (k == "service")
            opt_string(f.service);
          else
            skip_value();
          break;
        default:
          skip_value();
      }
      if (peek() == ',') {
        ++p_;
        continue;
      }
      expect('}');
      break;
    }
    constexpr unsigned kRequired = kProto | kFamily | kLocal | kRemote | kDir | kPid | kComm;
    if ((seen & kRequired) != kRequired || f.proto == Proto::none) throw Bail{};
    if (!(seen & kLast)) f.last_seen = f.first_seen;
    if (f.last_seen < f.first_seen) throw Bail{};
  }

  // A stream line's own keys: the event must be a flow event; a time must be a valid one.
  bool line_key(std::string_view k) {
    if (!line_) return false;
    if (k == "event") {
      if (!is_flow_event(str())) throw Bail{};
      saw_event_ = true;
      return true;
    }
    if (k == "time") {
      ws();
      if (p_ != end_ && *p_ == '"') time();
      else skip_value();
      return true;
    }
    return false;
  }

  const char* p_;
  const char* end_;
  const std::string& source_;
  CaptureVisitor* v_;
  Flow flow_;
  bool line_ = false;       // reading one stream line, not a document
  bool saw_event_ = false;
};

}  // namespace

bool read_capture_fast_path(std::string_view text, const std::string& source,
                            CaptureVisitor& v) {
  try {
    Fast(text, source, &v).document();
    return true;
  } catch (const Bail&) {
    return false;
  } catch (const std::exception&) {
    return false;  // a value error: the checked reader reports it with its own path
  }
}

}  // namespace netviz

namespace netviz {

bool read_flow_line_fast(std::string_view line, Flow& out) {
  static const std::string kNoSource;
  try {
    out = std::move(Fast(line, kNoSource, nullptr).flow_line());
    return true;
  } catch (const Bail&) {
    return false;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace netviz
