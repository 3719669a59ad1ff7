// HostBpfFeatures on fake /proc/self/status files: what it says yes and no to.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "scan/bpf_iter_features.h"

namespace netviz {
namespace {

class HostBpfFeaturesTest : public ::testing::Test {
 protected:
  std::string status(const std::string& body) {
    path_ = testing::TempDir() + "nv-status-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::ofstream(path_) << "Name:\tx\n" << body;
    return path_;
  }
  void TearDown() override {
    if (!path_.empty()) unlink(path_.c_str());
  }
  std::string path_;
  // Any readable file stands in for the kernel BTF.
  const std::string btf_ = "/proc/self/status";
};

TEST_F(HostBpfFeaturesTest, RootInTheInitialPidNamespaceMayTry) {
  auto s = status("NSpid:\t1234\nCapEff:\t000001ffffffffff\n");
  EXPECT_EQ(HostBpfFeatures(s, btf_).iter_unavailable_reason(), "");
}

TEST_F(HostBpfFeaturesTest, CapBpfWithPerfmonIsEnough) {
  auto s = status("NSpid:\t1234\nCapEff:\t000000c000000000\n");  // bits 38 and 39
  EXPECT_EQ(HostBpfFeatures(s, btf_).iter_unavailable_reason(), "");
}

TEST_F(HostBpfFeaturesTest, NoCapabilitiesIsRefused) {
  auto s = status("NSpid:\t1234\nCapEff:\t0000000000000000\n");
  EXPECT_NE(HostBpfFeatures(s, btf_).iter_unavailable_reason().find("not permitted"),
            std::string::npos);
}

TEST_F(HostBpfFeaturesTest, MissingBtfIsRefused) {
  auto s = status("NSpid:\t1234\nCapEff:\t000001ffffffffff\n");
  EXPECT_NE(HostBpfFeatures(s, "/nonexistent/vmlinux").iter_unavailable_reason().find("BTF"),
            std::string::npos);
}

TEST_F(HostBpfFeaturesTest, UnreadableStatusIsRefused) {
  EXPECT_NE(HostBpfFeatures("/nonexistent/status", btf_).iter_unavailable_reason(), "");
}

}  // namespace
}  // namespace netviz
