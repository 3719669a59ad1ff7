#include "scan/process_info.h"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <charconv>
#include <mutex>
#include <unordered_map>

namespace netviz {

namespace {

template <typename T>
bool parse_num(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc();
}

std::string_view status_field(std::string_view text, std::string_view key) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
      line.remove_prefix(key.size() + 1);
      size_t b = line.find_first_not_of(" \t");
      return b == std::string_view::npos ? std::string_view{} : line.substr(b);
    }
    pos = end + 1;
  }
  return {};
}

}  // namespace

std::optional<StatFields> parse_proc_stat(std::string_view text) {
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open)
    return std::nullopt;
  StatFields f;
  f.comm = std::string(text.substr(open + 1, close - open - 1));
  std::string_view rest = text.substr(close + 1);  // " S ppid ..."
  size_t b = rest.find_first_not_of(' ');
  if (b == std::string_view::npos) return std::nullopt;
  size_t sp = rest.find(' ', b);
  if (sp == std::string_view::npos) return std::nullopt;
  if (!parse_num(rest.substr(sp + 1), f.ppid)) return std::nullopt;
  return f;
}

std::optional<uint32_t> parse_status_uid(std::string_view text) {
  uint32_t uid = 0;
  if (!parse_num(status_field(text, "Uid"), uid)) return std::nullopt;
  return uid;
}

std::optional<int32_t> parse_status_ppid(std::string_view text) {
  int32_t ppid = 0;
  if (!parse_num(status_field(text, "PPid"), ppid)) return std::nullopt;
  return ppid;
}

bool parse_status_pidns_init(std::string_view text) {
  std::string_view f = status_field(text, "NSpid");
  while (!f.empty() && (f.back() == ' ' || f.back() == '\t')) f.remove_suffix(1);
  size_t sep = f.find_last_of(" \t");
  return f.substr(sep == std::string_view::npos ? 0 : sep + 1) == "1";
}

std::vector<std::string> split_cmdline(std::string_view text) {
  std::vector<std::string> args;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\0', pos);
    if (end == std::string_view::npos) end = text.size();
    args.emplace_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return args;
}

std::string pick_cgroup(std::string_view text) {
  std::string_view first;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    size_t c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    std::string_view path = line.substr(c2 + 1);
    if (line.substr(0, c2 + 1) == "0::") return std::string(path);
    if (first.empty()) first = path;
  }
  return std::string(first);
}

std::optional<uint64_t> parse_ns_link(std::string_view link, std::string_view prefix) {
  if (link.size() < prefix.size() + 3 || link.substr(0, prefix.size()) != prefix ||
      link[prefix.size()] != ':' || link[prefix.size() + 1] != '[' || link.back() != ']')
    return std::nullopt;
  std::string_view num = link.substr(prefix.size() + 2, link.size() - prefix.size() - 3);
  uint64_t v = 0;
  auto r = std::from_chars(num.data(), num.data() + num.size(), v);
  if (r.ec != std::errc() || r.ptr != num.data() + num.size()) return std::nullopt;
  return v;
}

bool read_small_file(int dirfd, const char* path, std::string& buf) {
  buf.clear();
  int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return false;
  char chunk[65536];  // /proc/net tables of a big host are megabytes
  bool ok = true;
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0) {
      ok = false;
      break;
    }
    if (n == 0) break;
    buf.append(chunk, static_cast<size_t>(n));
  }
  close(fd);
  return ok;
}

uint64_t read_pid_netns(int proc_fd, int32_t pid) {
  char path[48], link[64];
  snprintf(path, sizeof path, "%d/ns/net", pid);
  ssize_t n = readlinkat(proc_fd, path, link, sizeof link - 1);
  if (n <= 0) return 0;
  return parse_ns_link(std::string_view(link, static_cast<size_t>(n)), "net").value_or(0);
}

Process read_process(int proc_fd, int32_t pid, bool with_cmdline) {
  Process p;
  p.pid = pid;
  char dir[32];
  snprintf(dir, sizeof dir, "%d", pid);
  int dfd = openat(proc_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return p;
  std::string buf;
  if (read_small_file(dfd, "stat", buf)) {
    if (auto st = parse_proc_stat(buf)) {
      p.comm = std::move(st->comm);
      p.ppid = st->ppid;
    }
  }
  if (read_small_file(dfd, "status", buf)) {
    p.uid = parse_status_uid(buf);
    if (p.comm.empty()) {
      auto name = std::string(buf.substr(0, buf.find('\n')));
      if (name.rfind("Name:", 0) == 0) p.comm = name.substr(name.find_first_not_of(" \t", 5));
    }
    if (!p.ppid) p.ppid = parse_status_ppid(buf).value_or(0);
  }
  if (p.comm.empty() && read_small_file(dfd, "comm", buf)) {
    while (!buf.empty() && buf.back() == '\n') buf.pop_back();
    p.comm = buf;
  }
  if (with_cmdline && read_small_file(dfd, "cmdline", buf)) p.cmdline = split_cmdline(buf);
  char link[4096];
  ssize_t n = readlinkat(dfd, "exe", link, sizeof link);
  if (n > 0) p.exe.assign(link, static_cast<size_t>(n));
  if (read_small_file(dfd, "attr/current", buf)) {
    while (!buf.empty() && (buf.back() == '\n' || buf.back() == '\0')) buf.pop_back();
    p.security_context = buf;
  }
  if (read_small_file(dfd, "cgroup", buf)) p.cgroup = pick_cgroup(buf);
  n = readlinkat(dfd, "ns/net", link, sizeof link);
  if (n > 0) p.netns = parse_ns_link(std::string_view(link, static_cast<size_t>(n)), "net").value_or(0);
  close(dfd);
  if (p.uid) p.user = user_name(*p.uid);
  return p;
}

std::string user_name(uint32_t uid) {
  static std::mutex mu;
  static std::unordered_map<uint32_t, std::string> cache;
  std::lock_guard lock(mu);
  auto it = cache.find(uid);
  if (it != cache.end()) return it->second;
  std::string name;
  passwd pw{}, *res = nullptr;
  std::vector<char> buf(16384);
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &res) == 0 && res) name = res->pw_name;
  cache.emplace(uid, name);
  return name;
}

}  // namespace netviz
