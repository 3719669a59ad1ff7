// walk_owners_proc: the /proc/<pid>/fd walk, the fallback when the BPF walk cannot run.
// readlinkat relative to each fd directory, no per-fd allocation beyond the owner itself.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "scan/owners.h"
#include "scan/process_info.h"

namespace netviz {

namespace {

bool all_digits(const char* s) {
  if (!*s) return false;
  for (; *s; ++s)
    if (*s < '0' || *s > '9') return false;
  return true;
}

}  // namespace

OwnerIndex walk_owners_proc(const std::string& proc_root, Stats& stats) {
  OwnerIndex idx;
  int proc_fd = open(proc_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc_fd < 0) {
    stats.notes.push_back("cannot open " + proc_root + ": " + strerror(errno));
    return idx;
  }
  DIR* procdir = fdopendir(dup(proc_fd));
  if (!procdir) {
    close(proc_fd);
    return idx;
  }
  int64_t pids = 0, unreadable = 0, fds = 0;
  std::string comm;
  char path[300], link[64];
  while (dirent* de = readdir(procdir)) {
    if (!all_digits(de->d_name)) continue;
    int32_t pid = atoi(de->d_name);
    ++pids;
    snprintf(path, sizeof path, "%s/fd", de->d_name);
    int fd_dir = openat(proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_dir < 0) {
      if (errno == EACCES || errno == EPERM) ++unreadable;
      continue;  // ENOENT: the process exited meanwhile
    }
    DIR* d = fdopendir(fd_dir);
    if (!d) {
      close(fd_dir);
      continue;
    }
    bool have_comm = false;
    while (dirent* fe = readdir(d)) {
      if (fe->d_name[0] < '0' || fe->d_name[0] > '9') continue;
      ++fds;
      ssize_t n = readlinkat(fd_dir, fe->d_name, link, sizeof link - 1);
      // Sockets read "socket:[N]"; skip everything else on the first byte.
      if (n < 9 || link[0] != 's' || memcmp(link, "socket:[", 8) != 0) continue;
      auto ino = parse_ns_link(std::string_view(link, static_cast<size_t>(n)), "socket");
      if (!ino) continue;
      if (!have_comm) {
        have_comm = true;
        snprintf(path, sizeof path, "%d/comm", pid);
        read_small_file(proc_fd, path, comm);
        while (!comm.empty() && comm.back() == '\n') comm.pop_back();
        idx.netns_of_pid[pid] = read_pid_netns(proc_fd, pid);
      }
      idx.by_inode[*ino].push_back(Owner{pid, comm, atoi(fe->d_name)});
    }
    closedir(d);
  }
  closedir(procdir);
  close(proc_fd);
  stats.counters["owner_walk_pids"] = pids;
  stats.counters["owner_walk_fds"] = fds;
  stats.counters["unreadable_pids"] += unreadable;
  return idx;
}

}  // namespace netviz
