#pragma once
// netviz-stitch --subscribe: the hosts' streams from NATS JetStream into the same stream
// ingest as files and pipes (FollowSession), so the graph is the one the files would give.
#include <ostream>

#include "commands/follow.h"
#include "stitch/stitch_options.h"

namespace netviz {

// Without --follow: everything the consumer has now, then the graph, as for files. With
// --follow: changes as JSON lines until SIGINT/SIGTERM (-o FILE --every N as for pipes).
// hooks: as for run_follow (the live page reads the session between ticks).
int run_subscribe(const StitchOptions& o, std::ostream& out, std::ostream& err,
                  const FollowHooks& hooks = {});

}  // namespace netviz
