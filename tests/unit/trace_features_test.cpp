#include <gtest/gtest.h>

#include <sstream>

#include "trace/trace_features.h"

using namespace netviz;

TEST(TraceFeatures, FindsCgroup2MountInHybridLayout) {
  std::istringstream mounts(
      "sysfs /sys sysfs rw 0 0\n"
      "tmpfs /sys/fs/cgroup tmpfs ro 0 0\n"
      "cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n"
      "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n");
  EXPECT_EQ(find_cgroup2_mount(mounts), "/sys/fs/cgroup/unified");
}

TEST(TraceFeatures, DecodesEscapedMountPoints) {
  std::istringstream mounts("cgroup2 /mnt/my\\040cg cgroup2 rw 0 0\n");
  EXPECT_EQ(find_cgroup2_mount(mounts), "/mnt/my cg");
}

TEST(TraceFeatures, NoCgroup2) {
  std::istringstream mounts("cgroup /sys/fs/cgroup/cpu cgroup rw 0 0\n");
  EXPECT_EQ(find_cgroup2_mount(mounts), "");
}

TEST(TraceFeatures, MissingNamesOneThing) {
  TraceFeatures f;
  EXPECT_NE(f.missing().find("root"), std::string::npos);
  f.privileged = true;
  EXPECT_NE(f.missing().find("BTF"), std::string::npos);
  f.btf = true;
  EXPECT_NE(f.missing().find("ring buffer"), std::string::npos);
  f.ringbuf = true;
  EXPECT_NE(f.missing().find("cgroup2"), std::string::npos);
  f.cgroup2 = "/sys/fs/cgroup";
  EXPECT_EQ(f.missing(), "");
}
