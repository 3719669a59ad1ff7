#include "stitch/render_dot.h"

#include <map>
#include <ostream>

#include "stitch/graph_sinks.h"
#include "util/time.h"

namespace netviz {

namespace {

std::string q(std::string_view s) { return dot_quote(s); }

// A quoted DOT string of several lines: each escaped on its own, joined by DOT's \n.
std::string ql(const std::string& s) {
  std::string out = "\"";
  size_t start = 0;
  for (;;) {
    size_t nl = s.find('\n', start);
    std::string part = dot_quote(std::string_view(s).substr(start, nl - start));
    out += part.substr(1, part.size() - 2);
    if (nl == std::string::npos) break;
    out += "\\n";
    start = nl + 1;
  }
  return out + "\"";
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string s;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!s.empty()) s += sep;
    s += p;
  }
  return s;
}

std::string pids_text(const std::vector<int32_t>& pids, size_t max) {
  std::string s;
  for (size_t i = 0; i < pids.size(); ++i) {
    if (i == max) return s + " +" + std::to_string(pids.size() - max);
    s += (i ? "," : "") + std::to_string(pids[i]);
  }
  return s;
}

std::string node_label(const GraphNode& n) {
  if (n.type == "process" || n.type == "pid") {
    std::string p = pids_text(n.pids, 3);
    return join({n.comm.empty() ? "(no comm)" : n.comm, n.service, p.empty() ? "" : "pid " + p,
                 join(n.ingress, ", ")},
                "\n");
  }
  if (n.type == "service") {
    std::string p = pids_text(n.pids, 3);
    return join({n.service.empty() ? n.comm + " (no service)" : n.service,
                 p.empty() ? "" : "pid " + p, join(n.ingress, ", ")}, "\n");
  }
  if (n.type == "unknown") return "(unknown process)";
  if (n.type == "host") return join({n.host, join(n.ingress, ", ")}, "\n");
  if (n.type == "endpoint" || (n.type == "external" && n.port)) return endpoint_text(n.addr, n.port);
  return n.addr;
}

std::string node_tooltip(const GraphNode& n) {
  std::vector<std::string> l{n.type + " " + n.id};
  if (!n.host.empty()) l.push_back("host " + n.host);
  if (!n.comm.empty()) l.push_back("comm " + n.comm);
  if (!n.service.empty()) l.push_back("service " + n.service);
  if (!n.pids.empty()) l.push_back("pids " + pids_text(n.pids, 64));
  if (!n.addr.empty()) l.push_back("address " + n.addr);
  for (const auto& s : n.listens) l.push_back("listens " + s);
  for (const auto& s : n.ingress) l.push_back("ingress " + s);
  return join(l, "\n");
}

std::string edge_tooltip(const GraphEdge& e) {
  std::vector<std::string> l{e.from + " -> " + e.to,
                             edge_head(e, e.path.empty() ? " port " : " ") + ", joined: " + e.joined};
  if (e.joined != "listen")
    l.push_back(std::to_string(e.flows) + " flows (" + std::to_string(e.open) + " open), " +
                human_bytes(e.bytes));
  if (!e.nat.empty()) l.push_back("NAT: the client connected to " + e.nat);
  if (e.first) l.push_back("first seen " + format_time(e.first));
  if (e.last) l.push_back("last seen " + format_time(e.last));
  return join(l, "\n");
}

// Edge styles of write_dot, so a picture and the DOT output agree.
const char* edge_style(const std::string& joined) {
  if (joined == "one-side" || joined == "listener") return ", style=dashed";
  if (joined == "external") return ", style=dotted, color=gray40";
  if (joined == "failed") return ", style=dashed, color=red3, fontcolor=red3";
  if (joined == "listen") return ", style=dotted, arrowhead=none";
  return "";
}

std::string node_shape(const GraphNode& n) {
  if (n.type == "unknown") return ", style=dashed";
  if (n.type == "external") return ", shape=ellipse, color=gray40, fontcolor=gray40";
  if (n.type == "endpoint") return ", shape=oval";
  if (n.type == "host") return ", shape=box3d";
  return "";
}

}  // namespace

std::string short_edge_label(const GraphEdge& e) {
  std::string s = edge_head(e, e.path.empty() ? "/" : " ");
  if (e.joined == "listen") return s + " listening";
  s += " \u00d7" + std::to_string(e.flows) + " " + human_bytes(e.bytes);
  return e.nat.empty() ? s : s + " NAT " + e.nat;
}

void write_picture_dot(std::ostream& out, const Graph& g, StitchView view) {
  out << "digraph netviz {\n"
         "  graph [rankdir=LR, fontname=\"Helvetica\", compound=true, overlap=false, "
         "outputorder=edgesfirst];\n"
         "  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=11];\n"
         "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  std::map<std::string, std::vector<size_t>> by_host;
  std::vector<size_t> loose;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const auto& n = g.nodes[i];
    if (n.host.empty() || view == StitchView::host)
      loose.push_back(i);
    else
      by_host[n.host].push_back(i);
  }
  auto node = [&](size_t i, const char* indent) {
    const auto& n = g.nodes[i];
    out << indent << q(n.id) << " [id=\"n" << i << "\", label=" << ql(node_label(n))
        << ", tooltip=" << ql(node_tooltip(n)) << node_shape(n) << "];\n";
  };
  size_t cluster = 0;
  for (const auto& [host, nodes] : by_host) {
    out << "  subgraph \"cluster_" << cluster++ << "\" {\n    label=" << q(host)
        << "; tooltip=" << q("host " + host) << "; style=rounded; color=gray60;\n";
    for (size_t i : nodes) node(i, "    ");
    out << "  }\n";
  }
  for (size_t i : loose) node(i, "  ");
  bool dashed = false, dotted = false, red = false;
  for (size_t i = 0; i < g.edges.size(); ++i) {
    const auto& e = g.edges[i];
    out << "  " << q(e.from) << " -> " << q(e.to) << " [id=\"e" << i
        << "\", label=" << q(short_edge_label(e)) << ", tooltip=" << ql(edge_tooltip(e))
        << edge_style(e.joined) << (e.nat.empty() ? "" : kNatEdgeStyle) << "];\n";
    dashed |= e.joined == "one-side" || e.joined == "listener";
    dotted |= e.joined == "external" || e.joined == "listen";
    red |= e.joined == "failed";
  }
  // The legend explains only the styles in this picture; its nodes carry class "legend"
  // so tools comparing the picture with the graph can leave them out.
  if (dashed || dotted || red) {
    out << "  subgraph \"cluster_legend\" {\n    label=\"legend\"; style=dashed; color=gray70; "
           "fontsize=9;\n    node [shape=plaintext, fontsize=9, class=\"legend\", label=\"\", "
           "width=0.1, height=0.1];\n    edge [class=\"legend\", fontsize=9];\n";
    auto row = [&](const char* key, const char* label, const char* style) {
      out << "    \"_legend_" << key << "_a\" -> \"_legend_" << key << "_b\" [label=\"" << label
          << "\"" << style << "];\n";
    };
    row("solid", "joined on both sides", "");
    if (dashed) row("dashed", "seen from one side only", ", style=dashed");
    if (dotted) row("dotted", "peer outside the group / listening", ", style=dotted, color=gray40");
    if (red) row("red", "failed connect", ", style=dashed, color=red3, fontcolor=red3");
    out << "  }\n";
  }
  out << "}\n";
}

}  // namespace netviz
