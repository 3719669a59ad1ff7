#include "cli/option_checks.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace netviz {

CLI::Validator positive_number(const std::string& what) {
  return CLI::Validator(
      [what](std::string& input) -> std::string {
        double v = 0;
        auto [end, ec] = std::from_chars(input.data(), input.data() + input.size(), v);
        if (ec == std::errc() && end == input.data() + input.size() && std::isfinite(v) && v > 0)
          return "";
        return "expected a positive number of " + what + ", got \"" + input + "\"";
      },
      "NUMBER > 0");
}

namespace {

// Edits between a and b, a swap of two neighbours counting as one: the commonest typo.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1,
                          d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

}  // namespace

std::string closest_option(const std::string& given, const std::vector<std::string>& known) {
  auto body = [](const std::string& s) {
    size_t at = s.find_first_not_of('-');
    return at == std::string::npos ? std::string() : s.substr(at);
  };
  std::string g = body(given);
  if (g.size() < 2) return "";  // a one-letter typo is close to every short option
  std::string best;
  size_t best_d = 0;
  for (const auto& k : known) {
    std::string kb = body(k);
    if (kb.size() < 2) continue;
    size_t d = edit_distance(g, kb);
    // A prefix is what was meant too (--dur for --duration).
    if (kb.compare(0, g.size(), g) == 0) d = std::min<size_t>(d, 1);
    if (best.empty() || d < best_d) {
      best = k;
      best_d = d;
    }
  }
  // Up to a third of the name wrong, at least one edit: further than that it is a guess.
  if (best.empty() || best_d > std::max<size_t>(1, g.size() / 3)) return "";
  return best;
}

std::vector<std::string> visible_option_names(const CLI::App& app) {
  std::vector<std::string> out;
  for (const CLI::Option* o : app.get_options()) {
    if (o->get_group().empty() || o->get_positional()) continue;
    for (const auto& l : o->get_lnames()) out.push_back("--" + l);
    for (const auto& s : o->get_snames()) out.push_back("-" + s);
  }
  return out;
}

std::string parse_error_line(const CLI::App& app, const CLI::ParseError& e) {
  if (dynamic_cast<const CLI::ExtrasError*>(&e)) {
    std::vector<std::string> extra = app.remaining();
    auto opt = std::find_if(extra.begin(), extra.end(),
                            [](const std::string& a) { return a.size() > 1 && a[0] == '-'; });
    if (opt == extra.end())
      return "unexpected argument \"" + (extra.empty() ? std::string() : extra.front()) +
             "\" (see --help)";
    std::string name = opt->substr(0, opt->find('='));
    std::string near = closest_option(name, visible_option_names(app));
    return "unknown option " + name +
           (near.empty() ? " (see --help)" : "; did you mean " + near + "?");
  }
  std::string what = e.what();
  // CLI11's messages are one line; keep it so whatever a future version says.
  std::replace(what.begin(), what.end(), '\n', ' ');
  return what;
}

}  // namespace netviz
