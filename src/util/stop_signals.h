#pragma once
// SIGINT and SIGTERM as a request to stop, for the loops that run until the user ends them
// (--follow, --subscribe): while an instance lives, a signal only sets the flag; the handlers
// before it come back when it goes, also when the loop ends by an exception.
#include <signal.h>

namespace netviz {

class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  static bool requested();

 private:
  struct sigaction old_int_{}, old_term_{};
};

}  // namespace netviz
