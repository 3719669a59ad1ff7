#include "scan/netns.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <thread>
#include <unordered_map>

#include "scan/process_info.h"
#include "scan/scan.h"
#include "util/error.h"

namespace netviz {

uint64_t own_netns(const std::string& proc_root) {
  char link[64];
  ssize_t n = readlink((proc_root + "/self/ns/net").c_str(), link, sizeof link - 1);
  if (n > 0)
    if (auto v = parse_ns_link(std::string_view(link, static_cast<size_t>(n)), "net")) return *v;
  struct stat st {};
  if (stat((proc_root + "/self/ns/net").c_str(), &st) == 0) return st.st_ino;
  return 0;
}

namespace {

// Who a process is, for a warning about it: comm and status stay readable when its ns
// links are not.
UnreadableProcess describe_process(int proc_fd, int32_t pid) {
  UnreadableProcess p;
  p.pid = pid;
  std::string buf;
  std::string dir = std::to_string(pid);
  if (read_small_file(proc_fd, (dir + "/comm").c_str(), buf)) {
    if (!buf.empty() && buf.back() == '\n') buf.pop_back();
    p.comm = buf;
  }
  if (read_small_file(proc_fd, (dir + "/status").c_str(), buf))
    p.pidns_init = parse_status_pidns_init(buf);
  return p;
}

}  // namespace

std::vector<NetnsRef> list_netns(const std::string& proc_root, Stats& stats,
                                 const std::string& netns_dir,
                                 std::vector<UnreadableProcess>* unreadable_list) {
  std::vector<NetnsRef> out;
  std::unordered_map<uint64_t, size_t> at;
  auto add = [&](uint64_t ino) -> NetnsRef& {
    auto [it, fresh] = at.emplace(ino, out.size());
    if (fresh) out.push_back(NetnsRef{ino, "", 0, ""});
    return out[it->second];
  };
  // Ours first, so that a scan without privileges still covers it.
  uint64_t own = own_netns(proc_root);
  if (own) {
    NetnsRef& r = add(own);
    char self[32];
    ssize_t n = readlink((proc_root + "/self").c_str(), self, sizeof self - 1);
    if (n > 0) std::from_chars(self, self + n, r.pid);
    if (!r.pid) r.pid = getpid();
    r.path = proc_root + "/" + std::to_string(r.pid) + "/ns/net";
  }
  int proc_fd = open(proc_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc_fd >= 0) {
    if (DIR* d = fdopendir(dup(proc_fd))) {
      int64_t unreadable = 0;
      while (dirent* de = readdir(d)) {
        int32_t pid = 0;
        const char* end = de->d_name + strlen(de->d_name);
        auto r = std::from_chars(de->d_name, end, pid);
        if (r.ec != std::errc() || r.ptr != end) continue;
        uint64_t ino = read_pid_netns(proc_fd, pid);
        if (!ino) {
          if (errno == EACCES || errno == EPERM) {
            ++unreadable;
            if (unreadable_list) unreadable_list->push_back(describe_process(proc_fd, pid));
          }
          continue;
        }
        NetnsRef& ref = add(ino);
        // The lowest pid, so that repeated scans pick the same one; ours stays for our own.
        if (!ref.pid || (ino != own && pid < ref.pid)) {
          ref.pid = pid;
          ref.path = proc_root + "/" + de->d_name + "/ns/net";
        }
      }
      closedir(d);
      if (unreadable) stats.counters["unreadable_netns_links"] = unreadable;
    }
    close(proc_fd);
  }
  if (DIR* d = opendir(netns_dir.c_str())) {
    while (dirent* de = readdir(d)) {
      if (de->d_name[0] == '.') continue;
      std::string path = netns_dir + "/" + de->d_name;
      struct stat st {};
      if (stat(path.c_str(), &st) != 0) continue;
      // An unmounted leftover file has a tmpfs inode, not a namespace's.
      struct stat dir_st {};
      if (stat(netns_dir.c_str(), &dir_st) == 0 && st.st_dev == dir_st.st_dev) continue;
      NetnsRef& ref = add(st.st_ino);
      if (ref.name.empty()) ref.name = de->d_name;
      if (ref.path.empty() || !ref.pid) ref.path = path;
    }
    closedir(d);
  }
  return out;
}

void for_each_netns(const std::vector<NetnsRef>& all, uint64_t own,
                    const std::function<void(const NetnsRef&, bool)>& fn) {
  std::exception_ptr failure;
  std::thread worker([&] {
    try {
      int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
      bool moved = false;
      for (const auto& ns : all) {
        bool entered = false;
        if (ns.inode == own) {
          if (moved && home >= 0) moved = setns(home, CLONE_NEWNET) != 0;
          entered = !moved;
        } else if (!ns.path.empty()) {
          int fd = open(ns.path.c_str(), O_RDONLY | O_CLOEXEC);
          if (fd >= 0) {
            struct stat st {};
            // The pid may have been reused by a process in another namespace.
            if (fstat(fd, &st) == 0 && st.st_ino == ns.inode && setns(fd, CLONE_NEWNET) == 0) {
              entered = true;
              moved = true;
            }
            close(fd);
          }
        }
        if (!entered && moved && home >= 0 && setns(home, CLONE_NEWNET) == 0) moved = false;
        fn(ns, entered);
      }
      if (home >= 0) {
        if (moved) setns(home, CLONE_NEWNET);
        close(home);
      }
    } catch (...) {
      failure = std::current_exception();
    }
  });
  worker.join();
  if (failure) std::rethrow_exception(failure);
}

uint64_t resolve_netns(const std::string& spec, const std::string& proc_root) {
  if (spec.empty()) throw Error("--netns: empty");
  // An inode number.
  if (spec.find_first_not_of("0123456789") == std::string::npos) {
    uint64_t ino = 0;
    auto r = std::from_chars(spec.data(), spec.data() + spec.size(), ino);
    if (r.ec != std::errc()) throw Error("--netns: \"" + spec + "\" is out of range");
    Stats scratch;
    for (const auto& ns : list_netns(proc_root, scratch))
      if (ns.inode == ino) return ino;
    throw Error("--netns: no network namespace with inode " + spec + " is in use");
  }
  std::string path = spec.find('/') != std::string::npos ? spec : "/run/netns/" + spec;
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0)
    throw Error("--netns: \"" + spec + "\" is neither an ip netns name, a namespace file nor an inode");
  // /proc/PID/ns/net links read "net:[N]", which works even where opening is denied.
  char link[64];
  ssize_t n = readlink(path.c_str(), link, sizeof link - 1);
  if (n > 0)
    if (auto v = parse_ns_link(std::string_view(link, static_cast<size_t>(n)), "net")) return *v;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    // Without privileges an `ip netns` file cannot be opened, but its stat is the
    // namespace's (a bind mount of the nsfs file).
    if ((errno == EACCES || errno == EPERM) && S_ISREG(st.st_mode) && st.st_size == 0)
      return st.st_ino;
    throw Error("--netns: cannot open \"" + path + "\": " + strerror(errno));
  }
  int type = ioctl(fd, NS_GET_NSTYPE);
  struct stat fst {};
  bool ok = type == CLONE_NEWNET && fstat(fd, &fst) == 0;
  close(fd);
  if (!ok) throw Error("--netns: \"" + spec + "\" is not a network namespace file");
  return fst.st_ino;
}

}  // namespace netviz
