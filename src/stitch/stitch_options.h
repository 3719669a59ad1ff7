#pragma once
// What netviz-stitch was asked to do; filled by the main from the command line.
#include <cstdint>
#include <string>
#include <vector>

namespace netviz {

enum class StitchView { process, pid, endpoint, host, service };
enum class StitchFormat { dot, json, svg, png, pdf };  // svg/png/pdf: drawn by graphviz

struct StitchOptions {
  std::vector<std::string> inputs;  // files, "-" for stdin
  StitchView view = StitchView::process;
  StitchFormat format = StitchFormat::dot;
  bool external = false;   // show peers outside the group as address nodes
  bool listeners = false;  // show listening sockets that had no flows
  bool failed = false;     // show connects that never reached ESTABLISHED
  bool follow = false;     // JSON-lines streams as they grow; changes as JSON lines
  std::string output;      // "" = stdout
  double every = 0;        // --follow: rewrite `output` every N seconds (0: at the end only)
  double skew = 2.0;       // seconds of clock skew tolerated between hosts when joining
  int threads = 1;         // reader threads; 0 = one per core
  bool verbose = false;
  // --subscribe: every host's stream from NATS JetStream (src/fleet/, docs/fleet.md).
  std::string subscribe;   // server URLs as given; "" = read the inputs
  std::string durable;     // consumer name; "" = a consumer that ends with the run
  std::string since;       // new consumer: 10m or RFC 3339; "" = everything kept
  std::string window;      // drop edges whose last flow ended longer ago (1h); "" = keep all
  std::string nats_creds, nats_ca, nats_cert, nats_key;
  std::string layout = "dot";  // pictures and --serve: dot, fdp, sfdp or neato
};

StitchView parse_view(const std::string& s);
StitchFormat parse_format(const std::string& s);

}  // namespace netviz
