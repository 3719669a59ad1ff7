#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace netviz {

// Wall-clock time in nanoseconds since the Unix epoch.
using WallNs = int64_t;

WallNs wall_now_ns();
// RFC 3339 UTC with nanoseconds: "2026-11-21T23:30:01.123456789Z".
std::string format_time(WallNs t);
// Accepts RFC 3339 ("Z" or +hh:mm offsets, 0-9 fraction digits).
std::optional<WallNs> parse_time(std::string_view s);

}  // namespace netviz
