// Option errors as the tools print them: one line naming the option and what it expects.
#include <gtest/gtest.h>

#include <optional>

#include "cli/option_checks.h"

using namespace netviz;

namespace {

// Parses args with an app shaped like netviz-trace's; returns the error line ("" when fine).
std::string parse(std::vector<std::string> args) {
  CLI::App app{"test"};
  std::optional<double> duration;
  std::string output, hidden;
  bool snapshot = false;
  app.add_flag("--snapshot", snapshot, "");
  app.add_option("--duration", duration, "")->check(positive_number("seconds"));
  app.add_option("-o,--output", output, "");
  app.add_option("--test-hidden", hidden, "")->group("");
  std::reverse(args.begin(), args.end());  // CLI11 takes a vector in reverse order
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return parse_error_line(app, e);
  }
  return "";
}

}  // namespace

TEST(OptionChecks, PositiveNumberSaysWhatItExpects) {
  EXPECT_EQ(parse({"--duration", "2.5"}), "");
  EXPECT_EQ(parse({"--duration", "abc"}),
            "--duration: expected a positive number of seconds, got \"abc\"");
  EXPECT_EQ(parse({"--duration", "0"}),
            "--duration: expected a positive number of seconds, got \"0\"");
  EXPECT_EQ(parse({"--duration", "-3"}).rfind("--duration: expected", 0), 0u);
  EXPECT_EQ(parse({"--duration", "inf"}).rfind("--duration: expected", 0), 0u);
  EXPECT_EQ(parse({"--duration", "5s"}).rfind("--duration: expected", 0), 0u);
}

TEST(OptionChecks, UnknownOptionSuggestsTheClosest) {
  EXPECT_EQ(parse({"--duraton", "5"}), "unknown option --duraton; did you mean --duration?");
  EXPECT_EQ(parse({"--snapshto"}), "unknown option --snapshto; did you mean --snapshot?");
  EXPECT_EQ(parse({"--outptu=x"}), "unknown option --outptu; did you mean --output?");
  EXPECT_EQ(parse({"--colour"}), "unknown option --colour (see --help)");
  EXPECT_EQ(parse({"stray"}), "unexpected argument \"stray\" (see --help)");
}

TEST(OptionChecks, HiddenOptionsAreNotSuggested) {
  EXPECT_EQ(parse({"--test-hiden", "x"}), "unknown option --test-hiden (see --help)");
}

TEST(OptionChecks, ClosestOption) {
  std::vector<std::string> known = {"--duration", "--output", "-o", "--pid", "--port"};
  EXPECT_EQ(closest_option("--duraton", known), "--duration");
  EXPECT_EQ(closest_option("--dur", known), "--duration");  // a prefix
  EXPECT_EQ(closest_option("--prot", known), "--port");
  EXPECT_EQ(closest_option("--xyzzy", known), "");
  EXPECT_EQ(closest_option("-x", known), "");  // one letter: too short to guess from
  EXPECT_EQ(closest_option("--duration", {}), "");
}

TEST(OptionChecks, VisibleOptionNames) {
  CLI::App app{"test"};
  std::string a, b;
  app.add_option("-o,--output", a, "");
  app.add_option("--test-x", b, "")->group("");
  auto names = visible_option_names(app);
  EXPECT_NE(std::find(names.begin(), names.end(), "--output"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "-o"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "--help"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "--test-x"), names.end());
}
