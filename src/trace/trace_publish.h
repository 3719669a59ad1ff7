#pragma once
// netviz-trace --publish (tracing and --snapshot): its options checked and the server tried before any tracing, so a
// typo or a refused login ends the run at once (exit 2) while a server that is only down
// does not stop tracing.
#include <memory>
#include <ostream>

#include "trace/trace_options.h"
#include "fleet/publisher.h"

namespace netviz {

// nullptr without --publish. Throws netviz::Error on bad values, a bad URL, unreadable
// credential files or refused credentials. The publisher is not started yet.
std::unique_ptr<Publisher> make_trace_publisher(const TraceOptions& o, uint64_t netns,
                                                std::ostream& err);

}  // namespace netviz
