#include "sinks/socket_jsonl.h"

#include "format/json_text.h"

namespace netviz {

void write_socket_line(std::ostream& out, const Socket& s) {
  std::string line = "{\"event\":\"socket\",";
  append_socket_json(line, s);
  line.erase(18, 1);  // the socket object's own '{'
  line += '\n';
  out.write(line.data(), static_cast<std::streamsize>(line.size()));
}

void write_socket_lines(std::ostream& out, const std::vector<Socket>& sockets) {
  std::string buf;
  buf.reserve(1 << 20);
  for (const auto& s : sockets) {
    size_t start = buf.size();
    buf += "{\"event\":\"socket\",";
    append_socket_json(buf, s);
    buf.erase(start + 18, 1);
    buf += '\n';
    if (buf.size() > (1 << 20) - 4096) {
      out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.clear();
    }
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
}

}  // namespace netviz
