#pragma once
#include <stdexcept>
#include <string>

namespace netviz {

// A user-facing failure: bad input, bad option, missing privilege. The mains print
// "<program>: <what()>" as one line and exit 2.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

}  // namespace netviz
