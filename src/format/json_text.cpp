#include "format/json_text.h"

#include <charconv>
#include <cstdint>

#include "format/capture_json.h"
#include "format/kind_names.h"
#include "util/time.h"

namespace netviz {

namespace {

template <typename T>
void append_int(std::string& out, T v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// nlohmann's shortest round-trip form, so the bytes match to_json().
void append_double(std::string& out, double v) { out += ojson(v).dump(); }

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) {
      // Escapes, and invalid UTF-8 (a comm, a unix path) replaced as the document writer does.
      out += ojson(std::string(s)).dump(-1, ' ', false, ojson::error_handler_t::replace);
      return;
    }
  out += '"';
  out += s;
  out += '"';
}

// The "YYYY-MM-DDTHH:MM:SS." prefix is cached per second: flow records carry several times,
// nearly always within the same second.
void append_json_time(std::string& out, WallNs t) {
  thread_local int64_t cached_sec = INT64_MIN;
  thread_local std::string cached_prefix;
  int64_t sec = t / 1'000'000'000;
  int64_t ns = t % 1'000'000'000;
  if (ns < 0) {
    ns += 1'000'000'000;
    --sec;
  }
  if (sec != cached_sec) {
    std::string full = format_time(sec * 1'000'000'000);
    cached_prefix = full.substr(0, full.size() - 10);  // drop "000000000Z"
    cached_sec = sec;
  }
  out += '"';
  out += cached_prefix;
  char digits[11];
  for (int i = 8; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + ns % 10);
    ns /= 10;
  }
  digits[9] = 'Z';
  digits[10] = '"';
  out.append(digits, 11);
}

void append_json_endpoint(std::string& out, const Endpoint& e) {
  out += "{\"addr\":";
  append_json_string(out, e.addr);
  out += ",\"port\":";
  append_int(out, e.port);
  out += '}';
}

// The enums' text (format/kind_names.cpp) never needs escaping.
static void append_kind(std::string& out, const char* text) {
  out += '"';
  out += text;
  out += '"';
}

static void append_remote(std::string& out, const std::optional<Endpoint>& e) {
  if (e)
    append_json_endpoint(out, *e);
  else
    out += "null";
}

void append_socket_json(std::string& out, const Socket& s) {
  out += "{\"proto\":";
  append_kind(out, to_text(s.proto));
  out += ",\"family\":";
  append_kind(out, to_text(s.family));
  out += ",\"local\":";
  append_json_endpoint(out, s.local);
  out += ",\"remote\":";
  append_remote(out, s.remote);
  out += ",\"state\":";
  append_kind(out, to_text(s.state));
  out += ",\"inode\":";
  append_int(out, s.inode);
  out += ",\"netns\":";
  append_int(out, s.netns);
  out += ",\"owners\":[";
  for (size_t i = 0; i < s.owners.size(); ++i) {
    if (i) out += ',';
    out += "{\"pid\":";
    append_int(out, s.owners[i].pid);
    out += ",\"comm\":";
    append_json_string(out, s.owners[i].comm);
    out += ",\"fd\":";
    append_int(out, s.owners[i].fd);
    out += '}';
  }
  out += "]}";
}

static void append_nat(std::string& o, const Nat& n) {
  o += ",\"nat\":{";
  if (n.local) {
    o += "\"local\":";
    append_json_endpoint(o, *n.local);
  }
  if (n.remote) {
    o += n.local ? ",\"remote\":" : "\"remote\":";
    append_json_endpoint(o, *n.remote);
  }
  o += '}';
}

void append_flow_members(std::string& o, const Flow& f) {
  o += "\"proto\":";
  append_kind(o, to_text(f.proto));
  o += ",\"family\":";
  append_kind(o, to_text(f.family));
  o += ",\"local\":";
  append_json_endpoint(o, f.local);
  o += ",\"remote\":";
  append_remote(o, f.remote);
  o += ",\"direction\":";
  append_kind(o, to_text(f.direction));
  o += ",\"pid\":";
  append_int(o, f.pid);
  o += ",\"comm\":";
  append_json_string(o, f.comm);
  if (!f.service.empty()) {
    o += ",\"service\":";
    append_json_string(o, f.service);
  }
  o += ",\"netns\":";
  append_int(o, f.netns);
  o += ",\"first_seen\":";
  append_json_time(o, f.first_seen);
  o += ",\"last_seen\":";
  append_json_time(o, f.last_seen);
  o += ",\"duration_ms\":";
  if (f.duration_ns)
    append_double(o, *f.duration_ns / 1e6);
  else
    o += "null";
  o += ",\"bytes_sent\":";
  append_int(o, f.bytes_sent);
  o += ",\"bytes_received\":";
  append_int(o, f.bytes_received);
  o += ",\"connect_latency_us\":";
  if (f.connect_latency_ns)
    append_double(o, *f.connect_latency_ns / 1e3);
  else
    o += "null";
  if (f.proto == Proto::udp) {
    o += ",\"packets\":";
    append_int(o, f.packets);
  }
  if (f.state != SockState::none) {
    o += ",\"state\":";
    append_kind(o, to_text(f.state));
  }
  o += ",\"attribution\":";
  append_kind(o, to_text(f.attribution));
  if (f.handed_from) {
    o += f.direction == Direction::inbound ? ",\"accepted_by\":{\"pid\":" : ",\"connected_by\":{\"pid\":";
    append_int(o, f.handed_from->pid);
    o += ",\"comm\":";
    append_json_string(o, f.handed_from->comm);
    o += '}';
  }
  if (f.peer) {
    o += ",\"peer\":{\"pid\":";
    append_int(o, f.peer->pid);
    o += ",\"comm\":";
    append_json_string(o, f.peer->comm);
    o += '}';
  }
  if (f.nat) append_nat(o, *f.nat);
}

void append_flow_json(std::string& out, const Flow& f) {
  out += '{';
  append_flow_members(out, f);
  out += '}';
}

}  // namespace netviz
