// /proc/PID parsers and read_process on the fixture proc root.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include "scan/process_info.h"

using namespace netviz;

TEST(ProcessInfo, StatWithParenthesesInComm) {
  auto f = parse_proc_stat("100 (a (b)) c) S 42 100 100 0");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->comm, "a (b)) c");
  EXPECT_EQ(f->ppid, 42);
  EXPECT_FALSE(parse_proc_stat("100 no parens"));
  EXPECT_FALSE(parse_proc_stat("100 (x)"));
}

TEST(ProcessInfo, StatusFields) {
  std::string s = "Name:\tx\nPPid:\t7\nUid:\t1000\t0\t0\t0\n";
  EXPECT_EQ(parse_status_uid(s), 1000u);
  EXPECT_EQ(parse_status_ppid(s), 7);
  EXPECT_FALSE(parse_status_uid("Name:\tx\n"));
}

TEST(ProcessInfo, PidNamespaceInit) {
  EXPECT_TRUE(parse_status_pidns_init("Name:\tbwrap\nNSpid:\t4242\t1\nPPid:\t1\n"));
  EXPECT_TRUE(parse_status_pidns_init("NSpid:\t9\t5\t1  \n"));
  EXPECT_TRUE(parse_status_pidns_init("NSpid:\t1\n"));  // the init of ours
  EXPECT_FALSE(parse_status_pidns_init("NSpid:\t4242\t7\n"));
  EXPECT_FALSE(parse_status_pidns_init("NSpid:\t4242\n"));
  EXPECT_FALSE(parse_status_pidns_init("NSpid:\t4242\t11\n"));
  EXPECT_FALSE(parse_status_pidns_init("Name:\tx\n"));  // kernels before 4.1
}

TEST(ProcessInfo, Cmdline) {
  using V = std::vector<std::string>;
  EXPECT_EQ(split_cmdline(std::string("a\0b c\0\0d\0", 9)), (V{"a", "b c", "", "d"}));
  EXPECT_EQ(split_cmdline(""), V{});
  EXPECT_EQ(split_cmdline("no-nul"), V{"no-nul"});
}

TEST(ProcessInfo, Cgroup) {
  EXPECT_EQ(pick_cgroup("12:pids:/a\n0::/b.slice\n"), "/b.slice");
  EXPECT_EQ(pick_cgroup("3:cpu,cpuacct:/x\n1:name=systemd:/y\n"), "/x");
  EXPECT_EQ(pick_cgroup(""), "");
}

TEST(ProcessInfo, NsLinks) {
  EXPECT_EQ(parse_ns_link("socket:[12345]", "socket"), 12345u);
  EXPECT_EQ(parse_ns_link("net:[4026531840]", "net"), 4026531840u);
  EXPECT_FALSE(parse_ns_link("pipe:[1]", "socket"));
  EXPECT_FALSE(parse_ns_link("socket:[]", "socket"));
  EXPECT_FALSE(parse_ns_link("socket:[12x]", "socket"));
  EXPECT_FALSE(parse_ns_link("/dev/null", "socket"));
}

TEST(ProcessInfo, ReadProcessFromFixture) {
  int proc = open(NETVIZ_FIXTURES "/proc", O_RDONLY | O_DIRECTORY);
  ASSERT_GE(proc, 0);
  Process p = read_process(proc, 100, true);
  EXPECT_EQ(p.pid, 100);
  EXPECT_EQ(p.ppid, 1);
  EXPECT_EQ(p.comm, "nginx: wor ker)");
  EXPECT_EQ(p.exe, "/usr/sbin/nginx");
  EXPECT_EQ(p.cmdline, (std::vector<std::string>{"nginx: worker process", "-g", "daemon off;"}));
  EXPECT_EQ(p.uid, 33u);
  EXPECT_EQ(p.security_context, "system_u:system_r:httpd_t:s0");
  EXPECT_EQ(p.cgroup, "/system.slice/nginx.service");
  EXPECT_EQ(p.netns, 4026531840u);
  Process q = read_process(proc, 200, false);
  EXPECT_TRUE(q.cmdline.empty());
  EXPECT_EQ(q.cgroup, "/docker/abc123");  // v1 only: the first line
  EXPECT_EQ(q.security_context, "");
  EXPECT_EQ(read_pid_netns(proc, 201), 4026532500u);
  Process gone = read_process(proc, 99999, true);
  EXPECT_EQ(gone.comm, "");
  close(proc);
}

TEST(ProcessInfo, UserName) {
  EXPECT_EQ(user_name(0), "root");
  EXPECT_EQ(user_name(4000000000u), "");
}
