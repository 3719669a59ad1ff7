#include "sinks/socket_jsonl.h"

#include "format/capture_json.h"

namespace netviz {

void write_socket_line(std::ostream& out, const Socket& s) {
  ojson j{{"event", "socket"}};
  ojson fields = to_json(s);  // named: items() must not outlive a temporary
  for (auto& [k, v] : fields.items()) j[k] = std::move(v);
  out << j.dump() << '\n';
}

void write_socket_lines(std::ostream& out, const std::vector<Socket>& sockets) {
  for (const auto& s : sockets) write_socket_line(out, s);
}

}  // namespace netviz
