#include "util/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "util/error.h"

namespace fs = std::filesystem;
using netviz::AtomicFile;

namespace {
fs::path scratch() {
  fs::path d = fs::temp_directory_path() / ("nv-atomic-" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}
}  // namespace

TEST(AtomicFile, RefusesPlantedSymlinkAndLeavesItsTargetAlone) {
  fs::path d = scratch();
  std::ofstream(d / "victim") << "keep";
  fs::create_symlink(d / "victim", d / "out.json");
  EXPECT_THROW(AtomicFile((d / "out.json").string()), netviz::Error);
  EXPECT_EQ(slurp(d / "victim"), "keep");
  EXPECT_TRUE(fs::is_symlink(d / "out.json"));
  EXPECT_EQ(std::distance(fs::directory_iterator(d), fs::directory_iterator()), 2);
  fs::remove_all(d);
}

TEST(AtomicFile, ReplacesRegularFileWithMode0600) {
  fs::path d = scratch();
  std::ofstream(d / "out.json") << "old contents";
  {
    AtomicFile f((d / "out.json").string());
    f.stream() << "new";
    f.commit();
  }
  EXPECT_EQ(slurp(d / "out.json"), "new");
  struct stat st{};
  ASSERT_EQ(stat((d / "out.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  fs::remove_all(d);
}

TEST(AtomicFile, WritesDeviceInPlaceWithoutReplacingIt) {
  {
    AtomicFile f("/dev/null");
    f.stream() << "discarded";
    f.commit();
  }
  struct stat st{};
  ASSERT_EQ(stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST(AtomicFile, AbandonedWriteLeavesNothing) {
  fs::path d = scratch();
  {
    AtomicFile f((d / "out.json").string());
    f.stream() << "partial";
  }
  EXPECT_TRUE(fs::is_empty(d));
  EXPECT_THROW(AtomicFile(d.string()), netviz::Error);
  fs::remove_all(d);
}
