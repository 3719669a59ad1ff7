#pragma once
#include <iosfwd>

#include "stitch/stitch_options.h"

namespace netviz {

// Where the flows come from: input files and streams, or one NATS subscription, never both;
// the fleet's options only with the latter. Throws netviz::Error naming the option.
void check_input_source(const StitchOptions& o);

// The whole command: returns the exit status; throws netviz::Error on bad input.
int run_stitch(const StitchOptions& o, std::ostream& out, std::ostream& err);

}  // namespace netviz
