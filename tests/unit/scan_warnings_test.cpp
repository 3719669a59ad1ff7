// The snapshot's warnings about what it could not read, on a stringstream.
#include <gtest/gtest.h>

#include <sstream>

#include "sinks/scan_warnings.h"

using namespace netviz;

namespace {
std::string warnings(const ScanResult& r, bool verbose, bool as_root = true) {
  std::stringstream err;
  write_scan_warnings(err, r, verbose, as_root);
  return err.str();
}
}  // namespace

TEST(ScanWarnings, CompleteScanSaysNothing) {
  EXPECT_EQ(warnings(ScanResult{}, true), "");
}

TEST(ScanWarnings, NamesTheProcessWhoseNamespaceIsUnreadable) {
  ScanResult r;
  r.stats.counters["unreadable_netns_links"] = 1;
  r.unreadable_netns = {{4242, "sandboxd", false}};
  EXPECT_EQ(warnings(r, false),
            "netviz-trace: network namespace of pid 4242 (sandboxd) unreadable\n");
}

TEST(ScanWarnings, ManyAreCountedAndTheFirstNamed) {
  ScanResult r;
  for (int32_t pid = 10; pid < 15; ++pid) r.unreadable_netns.push_back({pid, "p", false});
  r.stats.counters["unreadable_pids"] = 5;
  EXPECT_EQ(warnings(r, false, false),
            "netviz-trace: 5 processes' fds unreadable without root; owners may be missing; "
            "5 processes' network namespaces unreadable without root (pid 10 (p), pid 11 (p), "
            "pid 12 (p), ...)\n");
}

TEST(ScanWarnings, PidNamespaceInitOnlyWhenVerbose) {
  ScanResult r;
  r.unreadable_netns = {{77, "bwrap", true}};
  EXPECT_EQ(warnings(r, false), "");
  EXPECT_EQ(warnings(r, true),
            "netviz-trace: network namespace of pid 77 (bwrap) unreadable; it is the init of a "
            "pid namespace\n");
  r.unreadable_netns.push_back({78, "", false});
  EXPECT_EQ(warnings(r, false), "netviz-trace: network namespace of pid 78 unreadable\n");
}
