#pragma once
// netviz-trace's options, parsed once in src/apps/trace_main.cpp and handed to the snapshot
// or tracing command (src/commands/); the trace session reads them too.
#include <optional>
#include <string>
#include <vector>

#include "model/filter.h"

namespace netviz {

struct TraceOptions {
  bool snapshot = false;
  std::optional<double> duration;  // seconds; none: until SIGINT/SIGTERM
  std::string output;              // -o FILE; "" means stdout
  std::string netns;               // --netns NAME|PATH|INODE as given; resolved by the command
  std::vector<std::string> states; // --state names as given (snapshot only); empty: not given
  Filter filter;                   // netns left unset here; the command resolves --netns
  bool verbose = false;
  bool no_cmdline = false;
  bool no_bpf = false;             // snapshot: force the /proc + sock_diag path
  bool no_nat = false;             // --no-nat: conntrack is not read (no `nat` on flows)
  std::string format = "auto";     // auto (table on a terminal, JSON lines piped), json, table
  std::string proc_root = "/proc"; // tests point this at fixtures
  // --publish: the JSON-lines stream also goes to NATS JetStream (src/fleet/, docs/fleet.md).
  std::string publish;             // server URLs as given; "" = not publishing
  std::string nats_creds, nats_ca, nats_cert, nats_key;
  std::string spool_max = "64M";   // checked by src/fleet/fleet_values.h
  std::string retention = "24h";
  std::string stream_max = "1G";
  int replicas = 1;
  // --metrics [ADDRESS:]PORT: Prometheus counters of this tracer (src/trace/trace_metrics.h).
  std::string metrics;             // "" = none
  size_t metrics_max_series = 10000;
  std::string test_spool_memory;   // --test-spool-memory SIZE: the spool's memory part (tests)
  // Hidden switches for tests and benchmarks (src/commands/trace_command.cpp says what each does).
  bool test_classic_tracepoint = false;  // --test-tracepoint-flavour classic
  bool test_one_context = false;         // --test-one-context
  std::vector<std::string> bench_skip_hooks;  // --bench-skip-hooks NAME,...
};

}  // namespace netviz
