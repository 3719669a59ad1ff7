#include "util/privileges.h"

#include <dirent.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "util/error.h"

namespace netviz {

namespace {

std::string errtext(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

int thread_count() {
  DIR* d = opendir("/proc/self/task");
  if (!d) return -1;
  int n = 0;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n;
}

// Kernel release "6.1.0-18-amd64" → {6, 1}.
std::pair<int, int> kernel_version(const std::string& release) {
  int major = 0, minor = 0;
  if (sscanf(release.c_str(), "%d.%d", &major, &minor) < 2) return {0, 0};
  return {major, minor};
}

}  // namespace

int last_cap() {
  std::ifstream f("/proc/sys/kernel/cap_last_cap");
  int n = -1;
  if (f >> n && n > 0 && n < 64) return n;
  // Without /proc: probe the bounding set until the kernel says the number is unknown.
  int c = 0;
  while (c < 63 && prctl(PR_CAPBSET_READ, c + 1, 0, 0, 0) >= 0) ++c;
  return c;
}

CapSets current_caps() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (syscall(SYS_capget, &hdr, data) != 0) throw Error(errtext("capget"));
  CapSets s;
  s.effective = data[0].effective | (uint64_t{data[1].effective} << 32);
  s.permitted = data[0].permitted | (uint64_t{data[1].permitted} << 32);
  s.inheritable = data[0].inheritable | (uint64_t{data[1].inheritable} << 32);
  int last = last_cap();
  for (int c = 0; c <= last; ++c) {
    if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1) s.bounding |= uint64_t{1} << c;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) == 1) s.ambient |= uint64_t{1} << c;
  }
  s.no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
  return s;
}

DropReport drop_capabilities(const std::vector<int>& keep) {
  int threads = thread_count();
  if (threads != 1)
    throw Error("dropping capabilities: the process has " + std::to_string(threads) +
                " threads; capabilities are per thread, drop them before starting any");
  uint64_t keep_mask = 0;
  for (int c : keep)
    if (c >= 0 && c < 64) keep_mask |= uint64_t{1} << c;

  // First: execve can never gain privileges again (setuid bits, file capabilities).
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw Error(errtext("PR_SET_NO_NEW_PRIVS"));
  // Ambient capabilities would survive an execve.
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    throw Error(errtext("PR_CAP_AMBIENT_CLEAR_ALL"));

  CapSets before = current_caps();
  DropReport r;
  // The bounding set needs CAP_SETPCAP to shrink, so it goes before the capset below.
  if (before.effective & (uint64_t{1} << CAP_SETPCAP)) {
    int last = last_cap();
    for (int c = 0; c <= last; ++c) {
      if (keep_mask & (uint64_t{1} << c)) continue;
      if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL)
        throw Error(errtext(("PR_CAPBSET_DROP " + cap_name(c)).c_str()));
    }
    r.bounding_cleared = true;
  }

  uint64_t mask = keep_mask & before.permitted;
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  data[0].effective = data[0].permitted = static_cast<uint32_t>(mask);
  data[1].effective = data[1].permitted = static_cast<uint32_t>(mask >> 32);
  if (syscall(SYS_capset, &hdr, data) != 0) throw Error(errtext("capset"));
  r.kept = mask;
  return r;
}

std::vector<int> tracer_kept_caps(const std::string& output_path, const std::string& kernel_release,
                                  int unpriv_bpf_disabled, std::vector<std::string>* why) {
  std::vector<int> keep;
  auto say = [&](int cap, const std::string& reason) {
    keep.push_back(cap);
    if (why) why->push_back(cap_name(cap) + ": " + reason);
  };
  if (!output_path.empty()) {
    say(CAP_DAC_OVERRIDE, "-o " + output_path + " is created and renamed at the end");
    auto slash = output_path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : output_path.substr(0, slash + 1);
    struct stat st {};
    if (stat(dir.c_str(), &st) == 0 && (st.st_mode & S_ISVTX))
      say(CAP_FOWNER, "the output directory is sticky: renaming over another user's entry");
  }
  auto [major, minor] = kernel_version(kernel_release);
  // 5.19 ("bpf: refine kernel.unprivileged_bpf_disabled behaviour") limited the check to
  // BPF_MAP_CREATE and BPF_PROG_LOAD; before it, every command was refused.
  bool before_5_19 = major < 5 || (major == 5 && minor < 19);
  if (before_5_19 && unpriv_bpf_disabled != 0) {
    bool before_5_8 = major < 5 || (major == 5 && minor < 8);
    say(before_5_8 ? CAP_SYS_ADMIN : CAP_BPF,
        "kernel " + kernel_release + " checks it on every bpf() command (map reads at the end)");
  }
  return keep;
}

std::vector<int> tracer_kept_caps_here(const std::string& output_path, std::vector<std::string>* why) {
  utsname u{};
  std::string release = uname(&u) == 0 ? u.release : "";
  int disabled = 1;  // unknown: assume the strict setting
  std::ifstream f("/proc/sys/kernel/unprivileged_bpf_disabled");
  if (!(f >> disabled)) disabled = 1;
  return tracer_kept_caps(output_path, release, disabled, why);
}

std::string cap_name(int cap) {
  static const char* const names[] = {
      "cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner", "cap_fsetid",
      "cap_kill", "cap_setgid", "cap_setuid", "cap_setpcap", "cap_linux_immutable",
      "cap_net_bind_service", "cap_net_broadcast", "cap_net_admin", "cap_net_raw",
      "cap_ipc_lock", "cap_ipc_owner", "cap_sys_module", "cap_sys_rawio", "cap_sys_chroot",
      "cap_sys_ptrace", "cap_sys_pacct", "cap_sys_admin", "cap_sys_boot", "cap_sys_nice",
      "cap_sys_resource", "cap_sys_time", "cap_sys_tty_config", "cap_mknod", "cap_lease",
      "cap_audit_write", "cap_audit_control", "cap_setfcap", "cap_mac_override",
      "cap_mac_admin", "cap_syslog", "cap_wake_alarm", "cap_block_suspend", "cap_audit_read",
      "cap_perfmon", "cap_bpf", "cap_checkpoint_restore"};
  if (cap >= 0 && cap < static_cast<int>(sizeof names / sizeof *names)) return names[cap];
  return "cap_" + std::to_string(cap);
}

}  // namespace netviz
