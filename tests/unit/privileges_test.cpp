// drop_capabilities() runs in a forked child (it cannot be undone); the child reports what
// it saw through its exit code. As root the full drop is checked against the kernel: capget,
// the bounding set, an execve afterwards, and a BPF load that needs CAP_BPF.
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <thread>
#include <string>

#include "util/error.h"
#include "util/privileges.h"

namespace {

using netviz::CapSets;

int bpf_sys(int cmd, bpf_attr* attr) {
  return static_cast<int>(syscall(SYS_bpf, cmd, attr, sizeof *attr));
}

// A tracepoint program ("r0 = 0; exit"): loading it needs CAP_BPF and CAP_PERFMON whatever
// kernel.unprivileged_bpf_disabled says. Returns the fd or -errno.
int load_tracepoint_prog() {
  static const bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  bpf_attr a{};
  a.prog_type = BPF_PROG_TYPE_TRACEPOINT;
  a.insns = reinterpret_cast<uint64_t>(insns);
  a.insn_cnt = 2;
  a.license = reinterpret_cast<uint64_t>("GPL");
  int fd = bpf_sys(BPF_PROG_LOAD, &a);
  return fd < 0 ? -errno : fd;
}

int create_array_map() {
  bpf_attr a{};
  a.map_type = BPF_MAP_TYPE_ARRAY;
  a.key_size = 4;
  a.value_size = 8;
  a.max_entries = 1;
  int fd = bpf_sys(BPF_MAP_CREATE, &a);
  return fd < 0 ? -errno : fd;
}

int map_update(int fd, uint64_t v) {
  uint32_t k = 0;
  bpf_attr a{};
  a.map_fd = static_cast<uint32_t>(fd);
  a.key = reinterpret_cast<uint64_t>(&k);
  a.value = reinterpret_cast<uint64_t>(&v);
  return bpf_sys(BPF_MAP_UPDATE_ELEM, &a) == 0 ? 0 : -errno;
}

int map_lookup(int fd, uint64_t& v) {
  uint32_t k = 0;
  bpf_attr a{};
  a.map_fd = static_cast<uint32_t>(fd);
  a.key = reinterpret_cast<uint64_t>(&k);
  a.value = reinterpret_cast<uint64_t>(&v);
  return bpf_sys(BPF_MAP_LOOKUP_ELEM, &a) == 0 ? 0 : -errno;
}

int unpriv_bpf_disabled() {
  std::ifstream f("/proc/sys/kernel/unprivileged_bpf_disabled");
  int v = 1;
  f >> v;
  return v;
}

// Runs body in a child; the child's exit code is body's return value (0: all good), or 99
// when it threw, with the message on stderr.
int in_child(const std::function<int()>& body) {
  fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int rc = 98;
    try {
      rc = body();
    } catch (const std::exception& e) {
      fprintf(stderr, "child: %s\n", e.what());
      rc = 99;
    }
    _exit(rc);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

// "CapEff:\t0000..." of a freshly exec'd process, read by /bin/sh.
std::string exec_status_line(const char* field) {
  int p[2];
  if (pipe(p) != 0) return "pipe failed";
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    close(p[0]);
    std::string cmd = std::string("grep '^") + field + ":' /proc/self/status";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(p[1]);
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = read(p[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(p[0]);
  waitpid(pid, nullptr, 0);
  return out;
}

constexpr uint64_t bit(int c) { return uint64_t{1} << c; }

}  // namespace

TEST(Privileges, DropsEverythingAsRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (the root run of the suite covers it)";
  // The BPF load must work before the drop, or the check after it proves nothing.
  int before = load_tracepoint_prog();
  ASSERT_GE(before, 0) << "loading a tracepoint program as root failed: " << strerror(-before);
  close(before);

  int rc = in_child([] {
    int map = create_array_map();  // opened while privileged, like the tracer's maps
    if (map < 0) return 1;
    netviz::DropReport r = netviz::drop_capabilities({});
    CapSets s = netviz::current_caps();
    if (s.effective || s.permitted || s.inheritable || s.ambient) return 2;
    if (s.bounding || !r.bounding_cleared) return 3;
    if (!s.no_new_privs) return 4;
    int prog = load_tracepoint_prog();
    if (prog >= 0 || prog != -EPERM) return 5;
    // What the tracer still does afterwards: read and write maps it already holds.
    if (map_update(map, 42) != 0) return 6;
    uint64_t v = 0;
    if (map_lookup(map, v) != 0 || v != 42) return 7;
    if (unpriv_bpf_disabled() != 0 && create_array_map() != -EPERM) return 8;
    // An execve cannot win anything back: root's exec normally gets the full set.
    if (exec_status_line("CapEff").find("0000000000000000") == std::string::npos) return 9;
    if (exec_status_line("CapBnd").find("0000000000000000") == std::string::npos) return 10;
    if (exec_status_line("NoNewPrivs").find("1") == std::string::npos) return 11;
    return 0;
  });
  EXPECT_EQ(rc, 0) << "child check " << rc << " failed (see privileges_test.cpp)";
}

TEST(Privileges, KeepsExactlyWhatItIsAsked) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  int rc = in_child([] {
    netviz::DropReport r = netviz::drop_capabilities({CAP_DAC_OVERRIDE});
    CapSets s = netviz::current_caps();
    if (r.kept != bit(CAP_DAC_OVERRIDE)) return 1;
    if (s.effective != bit(CAP_DAC_OVERRIDE) || s.permitted != bit(CAP_DAC_OVERRIDE)) return 2;
    if (s.bounding != bit(CAP_DAC_OVERRIDE)) return 3;
    if (load_tracepoint_prog() != -EPERM) return 4;
    return 0;
  });
  EXPECT_EQ(rc, 0) << "child check " << rc << " failed";
}

TEST(Privileges, WithoutPrivilegesStillSetsNoNewPrivs) {
  // As any user: the drop succeeds, leaves nothing effective and forbids gaining more.
  int rc = in_child([] {
    if (geteuid() == 0) {
      // Become an ordinary process first: keep nothing, then check a second drop is fine.
      netviz::drop_capabilities({});
    }
    netviz::drop_capabilities({});
    CapSets s = netviz::current_caps();
    if (s.effective || s.permitted) return 1;
    if (!s.no_new_privs) return 2;
    return 0;
  });
  EXPECT_EQ(rc, 0) << "child check " << rc << " failed";
}

TEST(Privileges, RefusesWhenThreadsRun) {
  int rc = in_child([] {
    int p[2];
    if (pipe(p) != 0) return 1;
    std::thread t([&] {
      char c;
      (void)!read(p[0], &c, 1);
    });
    int result = 2;
    try {
      netviz::drop_capabilities({});
    } catch (const netviz::Error& e) {
      result = std::string(e.what()).find("threads") != std::string::npos ? 0 : 3;
    }
    (void)!write(p[1], "x", 1);
    t.join();
    return result;
  });
  EXPECT_EQ(rc, 0);
}

TEST(Privileges, TracerKeepsOnlyWhatItNeeds) {
  using netviz::tracer_kept_caps;
  EXPECT_TRUE(tracer_kept_caps("", "6.18.0", 2).empty());
  EXPECT_TRUE(tracer_kept_caps("", "5.19.0", 1).empty());
  EXPECT_EQ(tracer_kept_caps("", "5.10.0-28-amd64", 2), std::vector<int>{CAP_BPF});
  EXPECT_EQ(tracer_kept_caps("", "5.4.0", 1), std::vector<int>{CAP_SYS_ADMIN});
  EXPECT_TRUE(tracer_kept_caps("", "5.10.0", 0).empty());

  char tmpl[] = "/tmp/nvt-priv-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::vector<std::string> why;
  auto keep = tracer_kept_caps(std::string(tmpl) + "/out.json", "6.18.0", 2, &why);
  EXPECT_EQ(keep, std::vector<int>{CAP_DAC_OVERRIDE});
  ASSERT_EQ(why.size(), 1u);
  EXPECT_NE(why[0].find("cap_dac_override"), std::string::npos);
  rmdir(tmpl);
  // /tmp is sticky: renaming over another user's planted entry needs CAP_FOWNER.
  keep = tracer_kept_caps("/tmp/out.json", "6.18.0", 2);
  EXPECT_EQ(keep, (std::vector<int>{CAP_DAC_OVERRIDE, CAP_FOWNER}));
}

TEST(Privileges, CapNames) {
  EXPECT_EQ(netviz::cap_name(CAP_BPF), "cap_bpf");
  EXPECT_EQ(netviz::cap_name(CAP_DAC_OVERRIDE), "cap_dac_override");
  EXPECT_EQ(netviz::cap_name(60), "cap_60");
}
