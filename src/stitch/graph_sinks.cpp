#include "stitch/graph_sinks.h"

#include <cstdio>
#include <map>
#include <ostream>

#include "util/time.h"

namespace netviz {

namespace {

// Length of the valid UTF-8 sequence at s[i], 0 when invalid.
size_t utf8_len(std::string_view s, size_t i) {
  unsigned char c = s[i];
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return 0;
  return n;
}

// Text for inside a DOT string. `\` is escaped so dot shows it and never reads \N, \G...
std::string dot_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\\\x%02x", c);
      out += buf;
      ++i;
    } else if (size_t n = utf8_len(s, i)) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      char buf[8];
      snprintf(buf, sizeof buf, "\\\\x%02x", c);
      out += buf;
      ++i;
    }
  }
  return out;
}

std::string q(std::string_view s) { return dot_quote(s); }

// A label of several lines, each escaped on its own.
std::string lines(std::initializer_list<std::string> parts) {
  std::string out = "\"";
  bool first = true;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!first) out += "\\n";
    out += dot_escape(p);
    first = false;
  }
  return out + "\"";
}

std::string pid_list(const std::vector<int32_t>& pids) {
  std::string s;
  size_t shown = 0;
  for (int32_t p : pids) {
    if (shown == 8) {
      s += ", +" + std::to_string(pids.size() - shown);
      break;
    }
    if (!s.empty()) s += ",";
    s += std::to_string(p);
    ++shown;
  }
  return s;
}

std::string node_label(const GraphNode& n) {
  std::string listens, ingress;
  for (const auto& l : n.listens) listens += (listens.empty() ? "listens " : ", ") + l;
  for (const auto& i : n.ingress) ingress += (ingress.empty() ? "ingress " : ", ") + i;
  std::string service = n.service.empty() ? "" : "service " + n.service;
  std::string pids = n.pids.size() == 1 ? "pid " + pid_list(n.pids) : "pids " + pid_list(n.pids);
  if (n.type == "process") return lines({n.comm, service, pids, listens, ingress});
  if (n.type == "pid") return lines({n.comm, service, "pid " + pid_list(n.pids), listens, ingress});
  if (n.type == "service")
    return lines({n.service.empty() ? n.comm + " (no service)" : n.service, pids, listens, ingress});
  if (n.type == "unknown") return lines({"(unknown process)"});
  if (n.type == "host") return lines({n.host, listens, ingress});
  if (n.type == "endpoint" || (n.type == "external" && n.port))
    return lines({endpoint_text(n.addr, n.port), listens.empty() ? "" : "listening"});
  return lines({n.addr});
}

std::string node_attrs(const GraphNode& n) {
  std::string a = "label=" + node_label(n);
  if (n.type == "unknown") a += ", style=dashed";
  if (n.type == "external") a += ", shape=ellipse, color=gray40, fontcolor=gray40";
  if (n.type == "endpoint") a += ", shape=oval";
  if (n.type == "host") a += ", shape=box3d";
  return a;
}

}  // namespace

std::string dot_quote(std::string_view s) { return "\"" + dot_escape(s) + "\""; }

std::string human_bytes(uint64_t b) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1000 && u < 5) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  if (u == 0)
    snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
  else
    snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

void write_dot(std::ostream& out, const Graph& g, StitchView view) {
  out << "digraph netviz {\n"
         "  graph [rankdir=LR, fontname=\"Helvetica\", compound=true];\n"
         "  node [shape=box, fontname=\"Helvetica\", fontsize=11];\n"
         "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  // Nodes of the same host share a cluster; hosts in the host view and peers outside the
  // group stand alone.
  std::map<std::string, std::vector<const GraphNode*>> by_host;
  std::vector<const GraphNode*> loose;
  for (const auto& n : g.nodes) {
    if (n.host.empty() || view == StitchView::host)
      loose.push_back(&n);
    else
      by_host[n.host].push_back(&n);
  }
  size_t cluster = 0;
  for (const auto& [host, nodes] : by_host) {
    out << "  subgraph " << q("cluster_" + std::to_string(cluster++)) << " {\n"
        << "    label=" << q(host) << "; style=rounded; color=gray60;\n";
    for (const auto* n : nodes) out << "    " << q(n->id) << " [" << node_attrs(*n) << "];\n";
    out << "  }\n";
  }
  for (const auto* n : loose) out << "  " << q(n->id) << " [" << node_attrs(*n) << "];\n";
  for (const auto& e : g.edges) {
    std::string head = edge_head(e);
    std::string counts = e.joined == "listen"
                             ? "listening"
                             : std::to_string(e.flows) + (e.flows == 1 ? " flow, " : " flows, ") +
                                   human_bytes(e.bytes);
    std::string how = e.joined == "both" || e.joined == "listen" ? "" : "(" + e.joined + ")";
    std::string nat = e.nat.empty() ? "" : "NAT via " + e.nat;
    out << "  " << q(e.from) << " -> " << q(e.to) << " [label=" << lines({head, counts, how, nat});
    if (!e.nat.empty()) out << kNatEdgeStyle;
    if (e.joined == "one-side" || e.joined == "listener") out << ", style=dashed";
    if (e.joined == "external") out << ", style=dotted, color=gray40";
    if (e.joined == "failed") out << ", style=dashed, color=red3, fontcolor=red3";
    if (e.joined == "listen") out << ", style=dotted, arrowhead=none";
    out << "];\n";
  }
  out << "}\n";
}

ojson node_json(const GraphNode& n) {
  ojson j{{"id", n.id}, {"type", n.type}};
  j["host"] = n.host.empty() ? ojson(nullptr) : ojson(n.host);
  j["comm"] = n.comm.empty() && n.type != "process" && n.type != "pid" ? ojson(nullptr)
                                                                        : ojson(n.comm);
  if (!n.service.empty()) j["service"] = n.service;
  j["pids"] = n.pids;
  if (!n.addr.empty()) j["addr"] = n.addr;
  if (n.type == "endpoint" || (n.type == "external" && n.port)) j["port"] = n.port;
  if (!n.listens.empty()) j["listens"] = n.listens;
  if (!n.ingress.empty()) j["ingress"] = n.ingress;
  return j;
}

ojson edge_json(const GraphEdge& e) {
  ojson j{{"from", e.from}, {"to", e.to},       {"proto", e.proto}, {"port", e.port},
          {"flows", e.flows}, {"bytes", e.bytes}, {"open", e.open},   {"joined", e.joined}};
  if (!e.nat.empty()) j["nat"] = e.nat;
  if (!e.path.empty()) j["path"] = e.path;
  j["first_seen"] = e.first ? ojson(format_time(e.first)) : ojson(nullptr);
  j["last_seen"] = e.last ? ojson(format_time(e.last)) : ojson(nullptr);
  return j;
}

void write_graph_json(std::ostream& out, const Graph& g) {
  // Streamed one node or edge per line: a big graph is never one JSON tree in memory.
  auto dump = [](const ojson& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  ojson stats{{"flow_ends", g.stats.ends},
              {"joined_both", g.stats.both},
              {"joined_one_side", g.stats.one_side},
              {"joined_listener", g.stats.listener},
              {"external", g.stats.external},
              {"external_hidden", g.external_hidden},
              {"ambiguous_addresses", g.stats.ambiguous},
              {"no_remote", g.stats.no_remote},
              {"unix_pairs", g.stats.unix_pairs},
              {"failed", g.stats.failed},
              {"failed_hidden", g.failed_hidden},
              {"lost_events", g.lost_events},
              {"notes", g.notes}};
  out << "{\n \"netviz_graph\": 1,\n \"hosts\": " << dump(ojson(g.hosts)) << ",\n \"nodes\": [";
  for (size_t i = 0; i < g.nodes.size(); ++i)
    out << (i ? ",\n  " : "\n  ") << dump(node_json(g.nodes[i]));
  out << (g.nodes.empty() ? "],\n" : "\n ],\n") << " \"edges\": [";
  for (size_t i = 0; i < g.edges.size(); ++i)
    out << (i ? ",\n  " : "\n  ") << dump(edge_json(g.edges[i]));
  out << (g.edges.empty() ? "],\n" : "\n ],\n") << " \"stats\": " << dump(stats) << "\n}\n";
}

}  // namespace netviz
