// netviz-stitch: options in, one command out. All work lives in netviz_core (src/stitch).
#include <CLI/CLI.hpp>

#include <iostream>

#include "commands/stitch_command.h"
#include "web/serve_command.h"
#include "cli/nats_options.h"
#include "cli/option_checks.h"
#include "util/error.h"

int main(int argc, char** argv) {
  netviz::StitchOptions o;
  netviz::ServeOptions serve;
  std::string view = "process", format = "dot";
  CLI::App app{"netviz-stitch: one process graph from the captures of a group of machines"};
  app.add_option("inputs", o.inputs,
                 "Capture documents or JSON-lines streams from netviz-trace; - for stdin");
  app.add_option("--view", view, "process (default: host + command), pid, endpoint, host, service");
  app.add_option("--format", format, "dot (default), json, or a picture: svg, png, pdf");
  app.add_option("--layout", o.layout,
                 "Picture layout: dot (default), fdp, sfdp (large graphs) or neato");
  app.add_option("-o,--output", o.output, "Write the graph to FILE (default: stdout)");
  app.add_flag("--external", o.external, "Show peers outside the group as address nodes");
  app.add_flag("--listeners", o.listeners, "Also show listening sockets that had no flows");
  app.add_flag("--failed", o.failed,
               "Also show connects that never reached ESTABLISHED (refused, timed out)");
  app.add_flag("--follow", o.follow,
               "Read JSON-lines streams as they grow; print graph changes as JSON lines");
  app.add_option("--every", o.every, "With --follow and -o: rewrite FILE every N seconds");
  app.add_option("--skew", o.skew,
                 "Clock skew tolerated between hosts when joining, in seconds (default 2)");
  app.add_option("--threads", o.threads, "Input reader threads (default 1; 0: one per core)");
  auto* serve_opt = app.add_option(
      "--serve", serve.address,
      "Serve the live page, /graph.{json,dot,svg} and /metrics on [ADDRESS:]PORT "
      "(default address 127.0.0.1)");
  app.add_option("--serve-max-nodes", serve.max_nodes,
                 "--serve: graphs with more nodes are not drawn (default 3000)");
  app.add_option("--render-timeout", serve.render_timeout,
                 "--serve: seconds a layout may take (default 10)");
  app.add_option("--metrics-max-series", serve.metrics_max_series,
                 "--serve: most edge label sets in /metrics (default 10000; the rest counted)");
  app.add_flag("-v,--verbose", o.verbose, "Say how the flow ends were joined");
  app.add_option("--subscribe", o.subscribe,
                 "Read every host's stream from NATS JetStream: nats://HOST:PORT[,...]")
      ->group("Fleet");
  app.add_option("--durable", o.durable, "Durable consumer name: a restart resumes where it stopped")
      ->group("Fleet");
  app.add_option("--since", o.since, "A new consumer starts this long ago (10m, 24h) or at an RFC 3339 time")
      ->group("Fleet");
  app.add_option("--window", o.window,
                 "With --subscribe: forget flows that ended longer ago than this (1h), and their edges")
      ->group("Fleet");
  netviz::add_nats_credential_options(app, o.nats_creds, o.nats_ca, o.nats_cert, o.nats_key);
  app.set_version_flag("--version", std::string("netviz-stitch ") + NETVIZ_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "netviz-stitch: " << netviz::parse_error_line(app, e) << "\n";
    return 2;
  }
  try {
    o.view = netviz::parse_view(view);
    o.format = netviz::parse_format(format);
    if (serve_opt->count()) return netviz::run_serve(o, serve, std::cerr);
    return netviz::run_stitch(o, std::cout, std::cerr);
  } catch (const netviz::Error& e) {
    std::cerr << "netviz-stitch: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "netviz-stitch: " << e.what() << "\n";
    return 1;
  }
}
