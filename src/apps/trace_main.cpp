// netviz-trace: options in, one command out. All work lives in netviz_core.
#include <CLI/CLI.hpp>

#include <iostream>

#include "commands/snapshot_command.h"
#include "commands/trace_command.h"
#include "cli/nats_options.h"
#include "cli/filter_options.h"
#include "cli/option_checks.h"
#include "util/error.h"

int main(int argc, char** argv) {
  netviz::TraceOptions o;
  std::vector<std::string> protos;
  CLI::App app{"netviz-trace: every socket on the host and the processes that own them"};
  app.add_flag("--snapshot", o.snapshot, "Scan once and exit: every socket and its owners");
  app.add_option("--duration", o.duration, "Trace for N seconds (default: until Ctrl-C)")
      ->check(netviz::positive_number("seconds"));
  app.add_option("-o,--output", o.output, "Write one capture document to FILE");
  app.add_option("--proto", protos, "Only these protocols (tcp, tcp6, udp, udp6, raw, raw6, "
                                    "sctp, sctp6, packet, unix, inet, inet6)")
      ->delimiter(',');
  app.add_option("--pid", o.filter.pids, "Only sockets or flows of these pids")->delimiter(',');
  app.add_option("--comm", o.filter.comms, "Only these commands")->delimiter(',');
  app.add_option("--port", o.filter.ports, "Only this local or remote port")
      ->delimiter(',')
      ->check(CLI::Range(0, 65535));
  app.add_option("--netns", o.netns, "Only this network namespace: ip netns name, path or inode");
  app.add_flag("--listening", o.filter.listening, "Only listening sockets");
  app.add_option("--state", o.states,
                 "Snapshot: only sockets in these states (established, syn-sent, syn-recv, "
                 "fin-wait-1, fin-wait-2, time-wait, close, close-wait, last-ack, listen, "
                 "closing, all); a table leaves time-wait out unless asked")
      ->delimiter(',');
  app.add_option("--format", o.format, "Output on stdout: auto, json (JSON lines), table")
      ->check(CLI::IsMember({"auto", "json", "table"}));
  app.add_flag("--no-cmdline", o.no_cmdline, "Leave command lines out of the output");
  app.add_flag("--no-nat", o.no_nat,
               "Do not read conntrack's NAT translations (its events cost the kernel time per "
               "connection where conntrack tracks connections)");
  app.add_flag("--no-bpf", o.no_bpf, "Snapshot through /proc and sock_diag, without BPF");
  app.add_flag("-v,--verbose", o.verbose, "Say which hooks and paths ran");
  app.add_option("--publish", o.publish,
                 "Also send the JSON-lines stream to NATS JetStream: nats://HOST:PORT[,...]")
      ->group("Fleet");
  app.add_option("--spool-max", o.spool_max,
                 "Events kept while NATS is unreachable (default 64M); beyond: lost_transport")
      ->group("Fleet");
  app.add_option("--retention", o.retention, "Age limit of a stream --publish creates (default 24h)")
      ->group("Fleet");
  app.add_option("--stream-max", o.stream_max, "Size cap of a stream --publish creates (default 1G)")
      ->group("Fleet");
  app.add_option("--replicas", o.replicas, "Replicas of a stream --publish creates (default 1)")
      ->check(CLI::Range(1, 5))
      ->group("Fleet");
  netviz::add_nats_credential_options(app, o.nats_creds, o.nats_ca, o.nats_cert, o.nats_key);
  app.add_option("--metrics", o.metrics,
                 "Serve Prometheus counters at http://[ADDRESS:]PORT/metrics (loopback by default)");
  app.add_option("--metrics-max-series", o.metrics_max_series,
                 "--metrics: most comm/remote label sets (default 10000; the rest counted)");
  app.add_option("--proc-root", o.proc_root, "Read process data from this proc tree")
      ->group("");  // for tests
  // Hidden (group ""): switches for tests and scripts/bench-trace, not for users.
  std::string flavour = "auto";
  app.add_option("--test-tracepoint-flavour", flavour,
                 "auto, or classic: the sock:inet_sock_set_state tracepoint, never tp_btf")
      ->check(CLI::IsMember({"auto", "classic"}))
      ->group("");
  app.add_flag("--test-one-context", o.test_one_context,
               "The tp_btf hand-over keeps one record per CPU, as on other architectures")
      ->group("");
  app.add_option("--test-spool-memory", o.test_spool_memory,
                 "With --publish: the spool's memory part (default 8M), beyond it a file")
      ->group("");
  app.add_option("--bench-skip-hooks", o.bench_skip_hooks,
                 "Leave these BPF programs unloaded, to measure what they cost")
      ->delimiter(',')
      ->group("");
  app.set_version_flag("--version", std::string("netviz-trace ") + NETVIZ_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "netviz-trace: " << netviz::parse_error_line(app, e) << "\n";
    return 2;
  }
  try {
    o.filter.protos = netviz::proto_matches(protos);
    o.test_classic_tracepoint = flavour == "classic";
    if (o.snapshot && !o.metrics.empty())
      throw netviz::Error("--metrics: only while tracing, not with --snapshot");
    if (!o.states.empty() && !o.snapshot)
      throw netviz::Error("--state: only with --snapshot (a trace follows connections, not states)");
    return o.snapshot ? netviz::run_snapshot(o) : netviz::run_trace(o);
  } catch (const netviz::Error& e) {
    std::cerr << "netviz-trace: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "netviz-trace: " << e.what() << "\n";
    return 1;
  }
}
