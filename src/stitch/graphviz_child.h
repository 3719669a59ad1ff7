#pragma once
// One graphviz layout and render in a forked child, stopped at a deadline. The child never
// frees graphviz's state (2.43's dot layout double-frees some cluster graphs), and a layout
// that runs too long is killed rather than waited for.
#include <cstdint>
#include <string>

namespace netviz {

struct ChildRender {
  enum class Status : uint8_t { ok, timed_out, failed };
  Status status = Status::failed;
  std::string out;  // the picture when ok; what went wrong when failed
};

// Forks, so the caller must be single-threaded (or not mind what fork does to its locks):
// the render worker, or a command line that draws one picture. `timeout_s` 0: no limit.
ChildRender render_in_child(const std::string& dot, const std::string& layout,
                            const std::string& format, double timeout_s);

}  // namespace netviz
