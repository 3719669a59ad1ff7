#pragma once
// One connection to a NATS server list for the publisher and the subscriber: credentials and
// TLS from the options, a first attempt that tells a refusal (bad password, bad
// certificate: a usage error) from a server that is merely not there yet (keep trying).
#include <string>
#include <vector>

#include <nats/nats.h>

#include "fleet/nats_url.h"

namespace netviz {

struct NatsAccess {
  std::vector<NatsServer> servers;
  std::string creds;  // --nats-creds FILE
  std::string ca, cert, key;  // --nats-ca, --nats-cert, --nats-key
  std::string client_name;    // shown by the server (netviz-trace HOST, netviz-stitch)
};

// Throws netviz::Error naming the option when a credentials or TLS file cannot be read, or
// only one of --nats-cert and --nats-key is given. Uses no NATS call (no threads).
void check_access_files(const NatsAccess& a);

// The client library's last error text for `s`, secrets masked.
std::string nats_error_text(natsStatus s, const NatsAccess& a);

// Connects, or throws netviz::Error for what only the user can fix (refused credentials,
// unreadable credential or TLS files). A server list where nobody answers is no error:
// the connection keeps retrying in the background and `*down_why` says what happened.
// `wait_first` bounds the first attempt (milliseconds).
natsConnection* nats_connect(const NatsAccess& a, std::string* down_why, int64_t wait_first = 2000);

// The first attempt of nats_connect, made in a child process so the caller stays one
// thread (netviz-trace drops capabilities later, which needs a single thread; the client
// library starts threads of its own). Throws netviz::Error on a refusal; returns "" when
// a server answered, else why none did.
std::string nats_probe(const NatsAccess& a, int64_t wait_ms = 2000);

}  // namespace netviz
