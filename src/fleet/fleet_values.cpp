#include "fleet/fleet_values.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "util/error.h"

namespace netviz {

namespace {

// The number in front and its unit letter (0 when none); false when not that shape.
bool split(const std::string& text, double& number, char& unit) {
  if (text.empty()) return false;
  unit = 0;
  std::string digits = text;
  if (!std::isdigit(static_cast<unsigned char>(text.back()))) {
    unit = text.back();
    digits.pop_back();
  }
  if (digits.empty() || digits.find_first_not_of("0123456789.") != std::string::npos) return false;
  char* end = nullptr;
  number = std::strtod(digits.c_str(), &end);
  return end && *end == 0 && std::isfinite(number) && number > 0;
}

}  // namespace

int64_t parse_duration_ns(const std::string& text, const std::string& option) {
  double n = 0;
  char u = 0;
  double scale = 0;
  if (split(text, n, u)) {
    switch (u) {
      case 0: case 's': scale = 1; break;
      case 'm': scale = 60; break;
      case 'h': scale = 3600; break;
      case 'd': scale = 86400; break;
      default: break;
    }
  }
  if (scale == 0 || n * scale > 1e9)
    throw Error(option + ": expected a duration such as 90s, 10m, 24h or 7d, got \"" + text + "\"");
  return static_cast<int64_t>(n * scale * 1e9);
}

uint64_t parse_size_bytes(const std::string& text, const std::string& option) {
  double n = 0;
  char u = 0;
  double scale = 0;
  if (split(text, n, u)) {
    switch (u) {
      case 0: case 'B': scale = 1; break;
      case 'K': case 'k': scale = 1024.0; break;
      case 'M': scale = 1024.0 * 1024; break;
      case 'G': scale = 1024.0 * 1024 * 1024; break;
      default: break;
    }
  }
  if (scale == 0 || n * scale < 1 || n * scale > 1e15)
    throw Error(option + ": expected a size such as 65536, 512K, 64M or 2G, got \"" + text + "\"");
  return static_cast<uint64_t>(n * scale);
}

}  // namespace netviz
