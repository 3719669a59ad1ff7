#include "fleet/nats_url.h"

#include <cctype>

#include "util/error.h"

namespace netviz {

namespace {

// The secret part of the user info: the password of user:password, or a whole token.
std::string secret_of(const std::string& userinfo) {
  size_t colon = userinfo.find(':');
  return colon == std::string::npos ? userinfo : userinfo.substr(colon + 1);
}

NatsServer parse_one(const std::string& url, const std::string& option) {
  NatsServer s;
  s.url = url;
  size_t scheme_end = url.find("://");
  std::string rest = scheme_end == std::string::npos ? url : url.substr(scheme_end + 3);
  std::string userinfo;
  if (size_t at = rest.rfind('@'); at != std::string::npos) {
    userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
  }
  std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (userinfo.empty()) {
    s.masked = url;
  } else {
    size_t colon = userinfo.find(':');
    std::string shown = colon == std::string::npos ? "***" : userinfo.substr(0, colon) + ":***";
    s.masked = scheme + "://" + shown + "@" + rest;
  }
  auto bad = [&](const std::string& why) {
    return Error(option + ": " + s.masked + ": " + why +
                 " (expected nats://[user:password@]host[:port], several separated by commas)");
  };
  if (scheme != "nats" && scheme != "tls") throw bad("the scheme must be nats:// or tls://");
  if (!userinfo.empty() && (userinfo.front() == ':' || secret_of(userinfo).empty()))
    throw bad("empty user or password");
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  std::string host = rest, port;
  if (!rest.empty() && rest.front() == '[') {  // [::1]:4222
    size_t close = rest.find(']');
    if (close == std::string::npos) throw bad("unclosed [ in the address");
    host = rest.substr(1, close - 1);
    std::string after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw bad("text after the address");
      port = after.substr(1);
      if (port.empty()) throw bad("empty port");
    }
  } else if (size_t colon = rest.rfind(':'); colon != std::string::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.empty()) throw bad("empty port");
  }
  if (host.empty()) throw bad("no host");
  for (char c : host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
          c == ':'))
      throw bad("the host has a character a host name cannot have");
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
      throw bad("the port is not a number");
    long p = std::stol(port);
    if (p < 1 || p > 65535) throw bad("the port is not between 1 and 65535");
  }
  return s;
}

}  // namespace

std::vector<NatsServer> parse_nats_urls(const std::string& list, const std::string& option) {
  std::vector<NatsServer> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    std::string one = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    while (!one.empty() && one.front() == ' ') one.erase(0, 1);
    while (!one.empty() && one.back() == ' ') one.pop_back();
    if (one.empty()) throw Error(option + ": an empty server URL in the list");
    out.push_back(parse_one(one, option));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (out.empty()) throw Error(option + ": no server URL");
  return out;
}

std::string masked_list(const std::vector<NatsServer>& servers) {
  std::string out;
  for (const auto& s : servers) out += (out.empty() ? "" : ",") + s.masked;
  return out;
}

std::string mask_secrets(std::string text, const std::vector<NatsServer>& servers) {
  for (const auto& s : servers) {
    size_t scheme_end = s.url.find("://");
    std::string rest = scheme_end == std::string::npos ? s.url : s.url.substr(scheme_end + 3);
    size_t at = rest.rfind('@');
    if (at == std::string::npos) continue;
    std::string secret = secret_of(rest.substr(0, at));
    if (secret.empty()) continue;
    for (size_t p = text.find(secret); p != std::string::npos; p = text.find(secret, p + 3))
      text.replace(p, secret.size(), "***");
  }
  return text;
}

}  // namespace netviz
