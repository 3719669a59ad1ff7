#include "model/service.h"

#include <unordered_map>
#include <vector>

namespace netviz {

namespace {

bool is_hex_id(std::string_view s) {
  if (s.size() < 12) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

bool starts_with(std::string_view s, std::string_view head) {
  return s.substr(0, head.size()) == head;
}

// "<prefix><id>.scope" with a hex id: the id, else "".
std::string_view scope_id(std::string_view part, std::string_view prefix) {
  if (!starts_with(part, prefix) || !ends_with(part, ".scope")) return {};
  std::string_view id = part.substr(prefix.size(), part.size() - prefix.size() - 6);
  return is_hex_id(id) ? id : std::string_view{};
}

// The container id a path component names, "" when none. Container runtimes' systemd
// driver names a scope after the runtime; their cgroupfs driver uses the bare id.
std::string_view container_id(std::string_view part, std::string_view parent) {
  for (std::string_view prefix : {"docker-", "cri-containerd-", "crio-", "libpod-"})
    if (auto id = scope_id(part, prefix); !id.empty()) return id;
  bool runtime_dir = parent == "docker" || parent == "libpod_parent" ||
                     starts_with(parent, "pod") || starts_with(parent, "kubepods");
  if (runtime_dir && part.size() == 64 && is_hex_id(part)) return part;
  return {};
}

// A kubepods pod component: "kubepods-besteffort-pod<uid>.slice" or "pod<uid>"; its uid with
// systemd's '_' put back to '-', else "".
std::string pod_uid(std::string_view part) {
  auto at = part.rfind("pod");
  if (at == std::string_view::npos) return {};
  std::string_view uid = part.substr(at + 3);
  if (ends_with(uid, ".slice")) uid.remove_suffix(6);
  if (uid.size() < 32) return {};
  std::string out;
  for (char c : uid) {
    if (c == '_') c = '-';
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-')) return {};
    out += c;
  }
  return out;
}

bool is_unit(std::string_view part) {
  for (std::string_view kind : {".service", ".scope", ".socket", ".mount", ".swap"})
    if (ends_with(part, kind) && part.size() > kind.size()) return true;
  return false;
}

}  // namespace

std::string service_of_cgroup(std::string_view cgroup) {
  std::vector<std::string_view> parts;
  while (!cgroup.empty()) {
    auto slash = cgroup.find('/');
    std::string_view part = cgroup.substr(0, slash);
    if (!part.empty()) parts.push_back(part);
    if (slash == std::string_view::npos) break;
    cgroup.remove_prefix(slash + 1);
  }
  // A container anywhere on the path wins over the unit around it (containerd.service, ...).
  bool in_kubepods = false;
  std::string pod;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view parent = i ? parts[i - 1] : std::string_view{};
    if (auto id = container_id(parts[i], parent); !id.empty())
      return "container:" + std::string(id.substr(0, 12));
    if (starts_with(parts[i], "kubepods")) in_kubepods = true;
    if (in_kubepods)
      if (auto uid = pod_uid(parts[i]); !uid.empty()) pod = uid;
  }
  if (!pod.empty()) return "pod:" + pod;
  // The deepest unit; a user manager's own init.scope stands for the user@UID.service around it.
  for (size_t i = parts.size(); i-- > 0;) {
    if (!is_unit(parts[i])) continue;
    if (parts[i] == "init.scope" && i > 0 && starts_with(parts[i - 1], "user@"))
      return std::string(parts[i - 1]);
    return std::string(parts[i]);
  }
  return {};
}

void fill_flow_services(std::vector<Flow>& flows, const std::vector<Process>& processes) {
  std::unordered_map<int32_t, std::string> by_pid;
  for (const auto& p : processes)
    if (auto s = service_of_cgroup(p.cgroup); !s.empty()) by_pid.emplace(p.pid, std::move(s));
  if (by_pid.empty()) return;
  for (auto& f : flows)
    if (auto it = by_pid.find(f.pid); it != by_pid.end()) f.service = it->second;
}

}  // namespace netviz
