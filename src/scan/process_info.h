#pragma once
// Details of one process from /proc/<pid>: the parsers are pure and fixture-tested;
// read_process() opens the files relative to a /proc directory fd.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/capture.h"

namespace netviz {

struct StatFields {
  std::string comm;
  int32_t ppid = 0;
};
// /proc/PID/stat: "pid (comm) S ppid ..."; comm may hold spaces and parentheses.
std::optional<StatFields> parse_proc_stat(std::string_view text);
// /proc/PID/status: the real uid from the "Uid:" line.
std::optional<uint32_t> parse_status_uid(std::string_view text);
// /proc/PID/status: "PPid:".
std::optional<int32_t> parse_status_ppid(std::string_view text);
// /proc/PID/status: true when "NSpid:" ends in 1, that is when the process is the init of
// its own pid namespace: a container's or sandbox's, or ours when we run in one.
bool parse_status_pidns_init(std::string_view text);
// /proc/PID/cmdline: NUL-separated arguments.
std::vector<std::string> split_cmdline(std::string_view text);
// /proc/PID/cgroup: the path of the v2 "0::" line, else of the first line.
std::string pick_cgroup(std::string_view text);
// "socket:[12345]" → 12345; "net:[4026531840]" → 4026531840 (prefix "socket" / "net").
std::optional<uint64_t> parse_ns_link(std::string_view link, std::string_view prefix);

// Reads a small file relative to dirfd into buf (cleared first). False when unreadable.
bool read_small_file(int dirfd, const char* path, std::string& buf);
// Namespace inode of /proc/PID/ns/net (0 when unreadable).
uint64_t read_pid_netns(int proc_fd, int32_t pid);

// Every detail of one process; fields that cannot be read are left empty.
Process read_process(int proc_fd, int32_t pid, bool with_cmdline);

// A uid's user name (cached; "" when unknown).
std::string user_name(uint32_t uid);

}  // namespace netviz
