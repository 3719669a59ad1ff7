#pragma once
// Option checking shared by netviz-trace and netviz-stitch: bad input gets one line that
// names the option and what it expects, a misspelt option the closest real one.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace netviz {

// A CLI11 check for a number greater than 0, failing as "expected a positive number of
// WHAT, got "abc"" (CLI11 puts the option name in front). CLI::PositiveNumber would print
// the whole double range instead.
CLI::Validator positive_number(const std::string& what);

// The name in known closest to given (a misspelt option), "" when none is close enough to
// be what was meant.
std::string closest_option(const std::string& given, const std::vector<std::string>& known);

// The option names --help shows (hidden test switches left out): --long and -s forms.
std::vector<std::string> visible_option_names(const CLI::App& app);

// The one line (no program name, no newline) a failed app.parse() is reported with.
std::string parse_error_line(const CLI::App& app, const CLI::ParseError& e);

}  // namespace netviz
