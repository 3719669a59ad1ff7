#pragma once
// The NATS credential and TLS options, the same for --publish (netviz-trace) and
// --subscribe (netviz-stitch).
#include <CLI/CLI.hpp>
#include <string>

namespace netviz {

inline void add_nats_credential_options(CLI::App& app, std::string& creds, std::string& ca,
                                        std::string& cert, std::string& key) {
  app.add_option("--nats-creds", creds, "NATS credentials file (JWT and NKey seed)")
      ->group("Fleet");
  app.add_option("--nats-ca", ca, "CA certificate for a TLS NATS server")->group("Fleet");
  app.add_option("--nats-cert", cert, "Client certificate for NATS TLS")->group("Fleet");
  app.add_option("--nats-key", key, "Client key for NATS TLS")->group("Fleet");
}

}  // namespace netviz
