#include "sinks/capture_document.h"

#include "format/capture_json.h"
#include "format/json_text.h"

namespace netviz {

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
  buf += std::to_string(c.version);
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
