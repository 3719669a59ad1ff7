#include "format/capture_json.h"

#include <ostream>

#include "format/kind_names.h"
#include "model/service.h"
#include "util/error.h"
#include "util/time.h"

namespace netviz {

using nlohmann::json;

ojson to_json(const Endpoint& e) { return ojson{{"addr", e.addr}, {"port", e.port}}; }

ojson to_json(const Owner& o) { return ojson{{"pid", o.pid}, {"comm", o.comm}, {"fd", o.fd}}; }

static ojson optional_endpoint(const std::optional<Endpoint>& e) {
  return e ? to_json(*e) : ojson(nullptr);
}

ojson to_json(const Socket& s) {
  ojson j{{"proto", to_text(s.proto)},
          {"family", to_text(s.family)},
          {"local", to_json(s.local)},
          {"remote", optional_endpoint(s.remote)},
          {"state", to_text(s.state)},
          {"inode", s.inode},     {"netns", s.netns}};
  ojson owners = ojson::array();
  for (const auto& o : s.owners) owners.push_back(to_json(o));
  j["owners"] = std::move(owners);
  return j;
}

ojson to_json(const Process& p, bool with_cmdline) {
  ojson j{{"pid", p.pid}, {"ppid", p.ppid}, {"comm", p.comm}, {"exe", p.exe}};
  if (with_cmdline) j["cmdline"] = p.cmdline;
  j["uid"] = p.uid ? ojson(*p.uid) : ojson(nullptr);
  j["user"] = p.user;
  j["security_context"] = p.security_context;
  j["cgroup"] = p.cgroup;
  if (auto service = service_of_cgroup(p.cgroup); !service.empty()) j["service"] = service;
  j["netns"] = p.netns;
  return j;
}

ojson to_json(const NetnsInfo& n) {
  return ojson{{"inode", n.inode}, {"name", n.name}, {"addresses", n.addresses}};
}

ojson to_json(const HostInfo& h) {
  ojson j{{"name", h.name},
          {"machine_id", h.machine_id},
          {"boot_id", h.boot_id},
          {"kernel", h.kernel}};
  ojson ns = ojson::array();
  for (const auto& n : h.netns) ns.push_back(to_json(n));
  j["netns"] = std::move(ns);
  j["scope_netns"] = h.scope_netns ? ojson(*h.scope_netns) : ojson(nullptr);
  return j;
}

ojson to_json(const Flow& f) {
  ojson j{{"proto", to_text(f.proto)},
          {"family", to_text(f.family)},
          {"local", to_json(f.local)},
          {"remote", optional_endpoint(f.remote)},
          {"direction", to_text(f.direction)},
          {"pid", f.pid},
          {"comm", f.comm}};
  if (!f.service.empty()) j["service"] = f.service;
  j["netns"] = f.netns;
  j["first_seen"] = format_time(f.first_seen);
  j["last_seen"] = format_time(f.last_seen);
  j["duration_ms"] = f.duration_ns ? ojson(*f.duration_ns / 1e6) : ojson(nullptr);
  j["bytes_sent"] = f.bytes_sent;
  j["bytes_received"] = f.bytes_received;
  j["connect_latency_us"] =
      f.connect_latency_ns ? ojson(*f.connect_latency_ns / 1e3) : ojson(nullptr);
  if (f.proto == Proto::udp) j["packets"] = f.packets;
  if (f.state != SockState::none) j["state"] = to_text(f.state);
  j["attribution"] = to_text(f.attribution);
  if (f.handed_from)
    j[f.direction == Direction::inbound ? "accepted_by" : "connected_by"] =
        ojson{{"pid", f.handed_from->pid}, {"comm", f.handed_from->comm}};
  if (f.peer) j["peer"] = ojson{{"pid", f.peer->pid}, {"comm", f.peer->comm}};
  if (f.nat) {
    ojson n = ojson::object();
    if (f.nat->local) n["local"] = to_json(*f.nat->local);
    if (f.nat->remote) n["remote"] = to_json(*f.nat->remote);
    j["nat"] = std::move(n);
  }
  return j;
}

ojson to_json(const Stats& s) {
  ojson j{{"scan_path", s.scan_path}, {"lost_events", s.lost_events}};
  for (const auto& [k, v] : s.counters) j[k] = v;
  j["notes"] = s.notes;
  return j;
}

// ---- reading ----

void JsonPath::fail(const std::string& what) const {
  throw Error(source + ": " + (path.empty() ? std::string("document") : path) + ": " + what);
}

namespace {

const json* find(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

const json& require(const json& obj, const char* key, const JsonPath& at) {
  const json* v = find(obj, key);
  if (!v) at.field(key).fail("missing");
  return *v;
}

void require_object(const json& j, const JsonPath& at) {
  if (!j.is_object()) at.fail("expected an object");
}

std::string get_string(const json& j, const JsonPath& at) {
  if (!j.is_string()) at.fail("expected a string");
  return j.get<std::string>();
}

template <typename T>
T get_int(const json& j, const JsonPath& at, int64_t lo, uint64_t hi) {
  if (j.is_number_unsigned()) {
    uint64_t v = j.get<uint64_t>();
    if (v > hi) at.fail("out of range");
    return static_cast<T>(v);
  }
  if (j.is_number_integer()) {
    int64_t v = j.get<int64_t>();
    if (v < lo || (v >= 0 && static_cast<uint64_t>(v) > hi)) at.fail("out of range");
    return static_cast<T>(v);
  }
  at.fail("expected an integer");
}

std::string opt_string(const json& obj, const char* key, const JsonPath& at) {
  const json* v = find(obj, key);
  if (!v || v->is_null()) return {};
  return get_string(*v, at.field(key));
}

template <typename T>
T opt_int(const json& obj, const char* key, const JsonPath& at, int64_t lo, uint64_t hi,
          T def = 0) {
  const json* v = find(obj, key);
  if (!v || v->is_null()) return def;
  return get_int<T>(*v, at.field(key), lo, hi);
}

WallNs get_time(const json& j, const JsonPath& at) {
  if (j.is_string()) {
    auto t = parse_time(j.get<std::string>());
    if (!t) at.fail("expected an RFC 3339 time");
    return *t;
  }
  if (j.is_number()) return static_cast<WallNs>(j.get<double>() * 1e9);  // epoch seconds
  at.fail("expected a time");
}

std::optional<int64_t> opt_scaled(const json& obj, const char* key, const JsonPath& at,
                                  double scale) {
  const json* v = find(obj, key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_number() || v->get<double>() < 0) at.field(key).fail("expected a number >= 0");
  return static_cast<int64_t>(v->get<double>() * scale);
}

// One of the contract's values (format/kind_names.h) for `text`, else a failure naming it.
template <typename E>
E kind_of(const std::string& text, std::optional<E> (*parse)(std::string_view),
          const JsonPath& at) {
  auto v = parse(text);
  if (!v) at.fail("unknown value \"" + text + "\"");
  return *v;
}

template <typename E>
E opt_kind(const json& obj, const char* key, const JsonPath& at,
           std::optional<E> (*parse)(std::string_view)) {
  return kind_of(opt_string(obj, key, at), parse, at.field(key));
}

}  // namespace

Endpoint endpoint_from_json(const json& j, const JsonPath& at) {
  require_object(j, at);
  Endpoint e;
  e.addr = get_string(require(j, "addr", at), at.field("addr"));
  e.port = opt_int<uint32_t>(j, "port", at, 0, 65535);
  return e;
}

static std::optional<Endpoint> opt_endpoint(const json& obj, const char* key,
                                            const JsonPath& at) {
  const json* v = find(obj, key);
  if (!v || v->is_null()) return std::nullopt;
  return endpoint_from_json(*v, at.field(key));
}

Flow flow_from_json(const json& j, const JsonPath& at) {
  require_object(j, at);
  Flow f;
  std::string proto = get_string(require(j, "proto", at), at.field("proto"));
  if (proto.empty()) at.field("proto").fail("empty");
  f.proto = kind_of(proto, parse_proto, at.field("proto"));
  f.family = kind_of(get_string(require(j, "family", at), at.field("family")), parse_family,
                     at.field("family"));
  f.local = endpoint_from_json(require(j, "local", at), at.field("local"));
  require(j, "remote", at);
  f.remote = opt_endpoint(j, "remote", at);
  std::string direction = get_string(require(j, "direction", at), at.field("direction"));
  auto dir = parse_direction(direction);
  if (!dir || *dir == Direction::none)
    at.field("direction").fail("expected \"inbound\" or \"outbound\", got \"" + direction + "\"");
  f.direction = *dir;
  f.pid = get_int<int32_t>(require(j, "pid", at), at.field("pid"), -1, INT32_MAX);
  f.comm = get_string(require(j, "comm", at), at.field("comm"));
  f.service = opt_string(j, "service", at);
  f.netns = opt_int<uint64_t>(j, "netns", at, 0, UINT64_MAX);
  if (const json* v = find(j, "first_seen"); v && !v->is_null())
    f.first_seen = get_time(*v, at.field("first_seen"));
  if (const json* v = find(j, "last_seen"); v && !v->is_null())
    f.last_seen = get_time(*v, at.field("last_seen"));
  else
    f.last_seen = f.first_seen;
  if (f.last_seen < f.first_seen) at.field("last_seen").fail("earlier than first_seen");
  f.duration_ns = opt_scaled(j, "duration_ms", at, 1e6);
  f.bytes_sent = opt_int<uint64_t>(j, "bytes_sent", at, 0, UINT64_MAX);
  f.bytes_received = opt_int<uint64_t>(j, "bytes_received", at, 0, UINT64_MAX);
  f.connect_latency_ns = opt_scaled(j, "connect_latency_us", at, 1e3);
  f.packets = opt_int<uint64_t>(j, "packets", at, 0, UINT64_MAX);
  f.attribution = opt_kind(j, "attribution", at, parse_attribution);
  f.state = opt_kind(j, "state", at, parse_state);
  // The process a connection was handed on from: a stream's later line for the same flow
  // names the served process, and this is how a reader knows it is the same flow.
  for (const char* k : {"accepted_by", "connected_by"}) {
    const json* h = find(j, k);
    if (!h || h->is_null()) continue;
    JsonPath hat = at.field(k);
    require_object(*h, hat);
    Owner o;
    o.pid = get_int<int32_t>(require(*h, "pid", hat), hat.field("pid"), 0, INT32_MAX);
    o.comm = opt_string(*h, "comm", hat);
    f.handed_from = std::move(o);
  }
  if (const json* h = find(j, "peer"); h && !h->is_null()) {
    JsonPath hat = at.field("peer");
    require_object(*h, hat);
    Owner o;
    o.pid = get_int<int32_t>(require(*h, "pid", hat), hat.field("pid"), 0, INT32_MAX);
    o.comm = opt_string(*h, "comm", hat);
    f.peer = std::move(o);
  }
  if (const json* n = find(j, "nat"); n && !n->is_null()) {
    JsonPath nat = at.field("nat");
    require_object(*n, nat);
    Nat x{opt_endpoint(*n, "local", nat), opt_endpoint(*n, "remote", nat)};
    if (!x.local && !x.remote) nat.fail("neither local nor remote");
    f.nat = std::make_shared<const Nat>(std::move(x));
  }
  return f;
}

Socket socket_from_json(const json& j, const JsonPath& at) {
  require_object(j, at);
  Socket s;
  s.proto = kind_of(get_string(require(j, "proto", at), at.field("proto")), parse_proto,
                    at.field("proto"));
  s.family = opt_kind(j, "family", at, parse_family);
  s.local = endpoint_from_json(require(j, "local", at), at.field("local"));
  s.remote = opt_endpoint(j, "remote", at);
  s.state = opt_kind(j, "state", at, parse_state);
  s.inode = opt_int<uint64_t>(j, "inode", at, 0, UINT64_MAX);
  s.netns = opt_int<uint64_t>(j, "netns", at, 0, UINT64_MAX);
  if (const json* o = find(j, "owners"); o && !o->is_null()) {
    if (!o->is_array()) at.field("owners").fail("expected an array");
    for (size_t i = 0; i < o->size(); ++i) {
      JsonPath oat = at.field("owners").index(i);
      require_object((*o)[i], oat);
      Owner ow;
      ow.pid = get_int<int32_t>(require((*o)[i], "pid", oat), oat.field("pid"), 0, INT32_MAX);
      ow.comm = opt_string((*o)[i], "comm", oat);
      ow.fd = opt_int<int32_t>((*o)[i], "fd", oat, -1, INT32_MAX, -1);
      s.owners.push_back(std::move(ow));
    }
  }
  return s;
}

Process process_from_json(const json& j, const JsonPath& at) {
  require_object(j, at);
  Process p;
  p.pid = get_int<int32_t>(require(j, "pid", at), at.field("pid"), 0, INT32_MAX);
  p.ppid = opt_int<int32_t>(j, "ppid", at, 0, INT32_MAX);
  p.comm = opt_string(j, "comm", at);
  p.exe = opt_string(j, "exe", at);
  if (const json* c = find(j, "cmdline"); c && !c->is_null()) {
    if (!c->is_array()) at.field("cmdline").fail("expected an array of strings");
    for (size_t i = 0; i < c->size(); ++i)
      p.cmdline.push_back(get_string((*c)[i], at.field("cmdline").index(i)));
  }
  if (const json* u = find(j, "uid"); u && !u->is_null())
    p.uid = get_int<uint32_t>(*u, at.field("uid"), 0, UINT32_MAX);
  p.user = opt_string(j, "user", at);
  p.security_context = opt_string(j, "security_context", at);
  p.cgroup = opt_string(j, "cgroup", at);
  p.netns = opt_int<uint64_t>(j, "netns", at, 0, UINT64_MAX);
  return p;
}

HostInfo host_from_json(const json& j, const JsonPath& at) {
  require_object(j, at);
  HostInfo h;
  h.name = get_string(require(j, "name", at), at.field("name"));
  if (h.name.empty()) at.field("name").fail("empty");
  h.machine_id = opt_string(j, "machine_id", at);
  h.boot_id = opt_string(j, "boot_id", at);
  h.kernel = opt_string(j, "kernel", at);
  if (const json* ns = find(j, "netns"); ns && !ns->is_null()) {
    if (!ns->is_array()) at.field("netns").fail("expected an array");
    for (size_t i = 0; i < ns->size(); ++i) {
      JsonPath nat = at.field("netns").index(i);
      const json& n = (*ns)[i];
      require_object(n, nat);
      NetnsInfo info;
      info.inode = get_int<uint64_t>(require(n, "inode", nat), nat.field("inode"), 0, UINT64_MAX);
      info.name = opt_string(n, "name", nat);
      if (const json* a = find(n, "addresses"); a && !a->is_null()) {
        if (!a->is_array()) nat.field("addresses").fail("expected an array");
        for (size_t k = 0; k < a->size(); ++k)
          info.addresses.push_back(get_string((*a)[k], nat.field("addresses").index(k)));
      }
      h.netns.push_back(std::move(info));
    }
  }
  if (const json* s = find(j, "scope_netns"); s && !s->is_null())
    h.scope_netns = get_int<uint64_t>(*s, at.field("scope_netns"), 0, UINT64_MAX);
  return h;
}

}  // namespace netviz
