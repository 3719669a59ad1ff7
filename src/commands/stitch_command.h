#pragma once
#include <iosfwd>

#include "stitch/stitch_options.h"

namespace netviz {

// The whole command: returns the exit status; throws netviz::Error on bad input.
int run_stitch(const StitchOptions& o, std::ostream& out, std::ostream& err);

}  // namespace netviz
