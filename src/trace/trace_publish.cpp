#include "trace/trace_publish.h"

#include "fleet/fleet_values.h"
#include <algorithm>

#include "scan/host_info.h"
#include "util/error.h"
#include "util/time.h"

namespace netviz {

std::unique_ptr<Publisher> make_trace_publisher(const TraceOptions& o, uint64_t netns,
                                                std::ostream& err) {
  if (o.publish.empty()) {
    if (!o.nats_creds.empty() || !o.nats_ca.empty() || !o.nats_cert.empty() || !o.nats_key.empty())
      throw Error("--nats-creds, --nats-ca, --nats-cert, --nats-key: only with --publish");
    return nullptr;
  }
  PublishOptions p;
  p.access.servers = parse_nats_urls(o.publish, "--publish");
  p.access.creds = o.nats_creds;
  p.access.ca = o.nats_ca;
  p.access.cert = o.nats_cert;
  p.access.key = o.nats_key;
  p.spool_max = parse_size_bytes(o.spool_max, "--spool-max");
  if (!o.test_spool_memory.empty())
    p.spool_memory = parse_size_bytes(o.test_spool_memory, "--test-spool-memory");
  p.spool_memory = std::min(p.spool_memory, p.spool_max);
  p.retention_ns = parse_duration_ns(o.retention, "--retention");
  p.stream_max_bytes = static_cast<int64_t>(parse_size_bytes(o.stream_max, "--stream-max"));
  p.replicas = o.replicas;
  HostInfo h = read_host_identity(o.proc_root);
  p.subject = fleet_subject(h.machine_id, netns);
  p.access.client_name = "netviz-trace " + h.name;
  // The boot id says which boot, the start time which run of the tracer in it: a restarted
  // tracer's sequence starts again at 1 and must not collide with the last run's ids.
  p.msg_id_base = (h.boot_id.empty() ? std::string("noboot") : h.boot_id) + "." +
                  std::to_string(wall_now_ns());
  std::string down = nats_probe(p.access);
  if (!down.empty())
    err << "netviz-trace: NATS " << masked_list(p.access.servers) << " not reachable ("
        << mask_secrets(down, p.access.servers)
        << "); tracing anyway, events wait in the spool until it is\n";
  return std::make_unique<Publisher>(std::move(p), err);
}

}  // namespace netviz
