#pragma once
// NATS server lists as users give them (--publish, --subscribe): checked for syntax before
// anything connects, and shown with secrets masked in every message.
#include <string>
#include <vector>

namespace netviz {

struct NatsServer {
  std::string url;     // as given, handed to the client library (it reads user info itself)
  std::string masked;  // password or token replaced by ***
};

// "nats://[user[:password]@|token@]host[:port]" or tls://..., several comma-separated.
// Throws netviz::Error "<option>: ..." naming the (masked) URL on a syntax error.
std::vector<NatsServer> parse_nats_urls(const std::string& list, const std::string& option);

// The list again, comma-separated, secrets masked: for messages.
std::string masked_list(const std::vector<NatsServer>& servers);

// Any text a library or server returned, with each server's secret replaced by ***.
std::string mask_secrets(std::string text, const std::vector<NatsServer>& servers);

}  // namespace netviz
