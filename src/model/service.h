#pragma once
// The service a process belongs to, read off its cgroup v2 path: a systemd unit or a container.
#include <string>
#include <string_view>

namespace netviz {

// "/system.slice/nginx.service" -> "nginx.service"; a user unit under user@UID.service ->
// that unit; a session -> "session-3.scope"; a docker, containerd, CRI-O, podman or kubepods
// container -> "container:<first 12 hex digits of its id>"; a pod's own slice -> "pod:<uid>".
// "" when the path names none ("/", "/user.slice").
std::string service_of_cgroup(std::string_view cgroup);

}  // namespace netviz
