#pragma once
// The service a process belongs to, read off its cgroup v2 path: a systemd unit or a container.
#include <string>
#include <string_view>
#include <vector>

#include "model/capture.h"

namespace netviz {

// "/system.slice/nginx.service" -> "nginx.service"; a user unit under user@UID.service ->
// that unit; a session -> "session-3.scope"; a docker, containerd, CRI-O, podman or kubepods
// container -> "container:<first 12 hex digits of its id>"; a pod's own slice -> "pod:<uid>".
// "" when the path names none ("/", "/user.slice").
std::string service_of_cgroup(std::string_view cgroup);

// Sets each flow's service from its owner's entry in processes (matched by pid).
void fill_flow_services(std::vector<Flow>& flows, const std::vector<Process>& processes);

}  // namespace netviz
