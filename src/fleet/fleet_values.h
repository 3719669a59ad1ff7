#pragma once
// Values of the fleet options: durations (--retention 24h, --since 10m, --window 1h) and
// sizes (--spool-max 64M). Each throws netviz::Error naming the option on bad input.
#include <cstdint>
#include <string>

namespace netviz {

// "90s", "10m", "24h", "7d" or plain seconds; > 0. Nanoseconds.
int64_t parse_duration_ns(const std::string& text, const std::string& option);
// "65536", "512K", "64M", "2G" (powers of 1024); > 0. Bytes.
uint64_t parse_size_bytes(const std::string& text, const std::string& option);

}  // namespace netviz
