#include "sinks/socket_document.h"

#include <charconv>
#include <cstdio>

#include "format/capture_json.h"
#include "util/time.h"

namespace netviz {

namespace {

void append_string(std::string& out, const std::string& s) {
  out += '"';
  bool plain = true;
  for (unsigned char c : s)
    if (c < 0x20 || c == '"' || c == '\\') {
      plain = false;
      break;
    }
  if (plain) {
    out += s;
    out += '"';
    return;
  }
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

template <typename T>
void append_int(std::string& out, T v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Text that is not valid UTF-8 (a unix socket path, a comm) makes nlohmann throw; fall
// back to it there so both writers fail or succeed alike.
bool plain_utf8(const std::string& s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

void append_endpoint(std::string& out, const Endpoint& e) {
  out += "{\"addr\":";
  append_string(out, e.addr);
  out += ",\"port\":";
  append_int(out, e.port);
  out += '}';
}

void append_remote(std::string& out, const std::optional<Endpoint>& e) {
  if (e)
    append_endpoint(out, *e);
  else
    out += "null";
}

}  // namespace

void append_socket_json(std::string& out, const Socket& s) {
  bool plain = plain_utf8(s.local.addr) && (!s.remote || plain_utf8(s.remote->addr));
  for (const auto& o : s.owners) plain = plain && plain_utf8(o.comm);
  if (!plain) {
    out += to_json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  out += "{\"proto\":";
  append_string(out, s.proto);
  out += ",\"family\":";
  append_string(out, s.family);
  out += ",\"local\":";
  append_endpoint(out, s.local);
  out += ",\"remote\":";
  append_remote(out, s.remote);
  out += ",\"state\":";
  append_string(out, s.state);
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
    append_string(out, s.owners[i].comm);
    out += ",\"fd\":";
    append_int(out, s.owners[i].fd);
    out += '}';
  }
  out += "]}";
}

void append_flow_json(std::string& out, const Flow& f) {
  // Flows with traced extras (durations, latencies) are rare in a snapshot; let the
  // reference writer render those.
  if (f.duration_ns || f.connect_latency_ns || !plain_utf8(f.comm) ||
      !plain_utf8(f.local.addr) || (f.remote && !plain_utf8(f.remote->addr))) {
    out += to_json(f).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  out += "{\"proto\":";
  append_string(out, f.proto);
  out += ",\"family\":";
  append_string(out, f.family);
  out += ",\"local\":";
  append_endpoint(out, f.local);
  out += ",\"remote\":";
  append_remote(out, f.remote);
  out += ",\"direction\":";
  append_string(out, f.direction);
  out += ",\"pid\":";
  append_int(out, f.pid);
  out += ",\"comm\":";
  append_string(out, f.comm);
  out += ",\"netns\":";
  append_int(out, f.netns);
  // A snapshot's flows share one scan time: format it once.
  thread_local WallNs cached_time = 0;
  thread_local std::string cached_text = format_time(0);
  auto time_text = [&](WallNs t) -> const std::string& {
    if (t != cached_time) {
      cached_time = t;
      cached_text = format_time(t);
    }
    return cached_text;
  };
  out += ",\"first_seen\":";
  append_string(out, time_text(f.first_seen));
  out += ",\"last_seen\":";
  append_string(out, time_text(f.last_seen));
  out += ",\"duration_ms\":null,\"bytes_sent\":";
  append_int(out, f.bytes_sent);
  out += ",\"bytes_received\":";
  append_int(out, f.bytes_received);
  out += ",\"connect_latency_us\":null";
  if (f.proto == "udp") {
    out += ",\"packets\":";
    append_int(out, f.packets);
  }
  if (!f.state.empty()) {
    out += ",\"state\":";
    append_string(out, f.state);
  }
  out += ",\"attribution\":";
  append_string(out, f.attribution);
  out += '}';
}

void write_capture_streamed(std::ostream& out, const Capture& c, bool with_cmdline) {
  constexpr auto kReplace = nlohmann::json::error_handler_t::replace;
  std::string buf;
  buf.reserve(1 << 20);
  auto flush = [&](bool force) {
    if (force || buf.size() > (1 << 20) - 4096) {
      out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.clear();
    }
  };
  buf += "{\"netviz\":";
  append_int(buf, c.version);
  buf += ",\n\"host\":";
  buf += to_json(c.host).dump(-1, ' ', false, kReplace);
  buf += ",\n\"processes\":[";
  for (size_t i = 0; i < c.processes.size(); ++i) {
    buf += i ? ",\n" : "\n";
    buf += to_json(c.processes[i], with_cmdline).dump(-1, ' ', false, kReplace);
    flush(false);
  }
  buf += "],\n\"sockets\":[";
  for (size_t i = 0; i < c.sockets.size(); ++i) {
    buf += i ? ",\n" : "\n";
    append_socket_json(buf, c.sockets[i]);
    flush(false);
  }
  buf += "],\n\"flows\":[";
  for (size_t i = 0; i < c.flows.size(); ++i) {
    buf += i ? ",\n" : "\n";
    append_flow_json(buf, c.flows[i]);
    flush(false);
  }
  buf += "],\n\"stats\":";
  buf += to_json(c.stats).dump(-1, ' ', false, kReplace);
  buf += "}\n";
  flush(true);
}

}  // namespace netviz
