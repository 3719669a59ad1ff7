#include "sinks/socket_table.h"

#include <algorithm>
#include <array>
#include <map>
#include <string>
#include <unordered_map>

#include "format/kind_names.h"
namespace netviz {

namespace {

std::string endpoint_text(const Socket& s, const Endpoint& e) {
  std::string port = e.port ? std::to_string(e.port) : "*";
  if (s.family == Family::ipv6) return "[" + e.addr + "]:" + port;
  if (s.family == Family::ipv4) return e.addr + ":" + port;
  if (s.proto == Proto::packet) return e.addr + ":" + port;
  return e.addr.empty() ? "*" : e.addr;  // unix: the path
}

std::string owners_text(const Socket& s) {
  if (s.owners.empty()) return "";
  std::string out = "users:(";
  for (size_t i = 0; i < s.owners.size(); ++i) {
    const Owner& o = s.owners[i];
    if (i) out += ',';
    out += "(\"" + o.comm + "\",pid=" + std::to_string(o.pid) + ",fd=" + std::to_string(o.fd) + ")";
  }
  return out + ")";
}

}  // namespace

void write_socket_table(std::ostream& out, const std::vector<Socket>& sockets,
                        const std::vector<NetnsInfo>& netns, uint64_t hidden_time_wait) {
  std::unordered_map<uint64_t, std::string> ns_names;
  for (const auto& n : netns)
    if (!n.name.empty()) ns_names[n.inode] = n.name;
  constexpr size_t kCols = 6;
  using Row = std::array<std::string, kCols>;
  std::vector<Row> rows;
  rows.reserve(sockets.size() + 1);
  rows.push_back({"Netid", "State", "Local Address:Port", "Peer Address:Port", "Netns", "Process"});
  for (const auto& s : sockets) {
    auto ns = ns_names.find(s.netns);
    std::string netid = to_text(s.proto);
    if (s.family == Family::ipv6 && s.proto != Proto::unix) netid += "6";
    rows.push_back({netid, to_text(s.state),
                    endpoint_text(s, s.local), s.remote ? endpoint_text(s, *s.remote) : "*",
                    ns != ns_names.end() ? ns->second : std::to_string(s.netns), owners_text(s)});
  }
  std::array<size_t, kCols> width{};
  for (const auto& r : rows)
    for (size_t c = 0; c < kCols; ++c) width[c] = std::max(width[c], r[c].size());
  std::string line;
  for (const auto& r : rows) {
    line.clear();
    for (size_t c = 0; c < kCols; ++c) {
      line += r[c];
      if (c + 1 < kCols) line.append(width[c] - r[c].size() + 1, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    line += '\n';
    out << line;
  }
  std::map<std::string, uint64_t> by_state;
  for (const auto& s : sockets) ++by_state[s.state == SockState::none ? "UNKNOWN" : to_text(s.state)];
  line = std::to_string(sockets.size()) + (sockets.size() == 1 ? " socket" : " sockets");
  const char* sep = ": ";
  for (const auto& [state, n] : by_state) {
    line += sep + std::to_string(n) + " " + state;
    sep = ", ";
  }
  if (hidden_time_wait)
    line += "; " + std::to_string(hidden_time_wait) +
            " TIME_WAIT not shown (--state time-wait or --state all shows them)";
  out << line << '\n';
}

}  // namespace netviz
