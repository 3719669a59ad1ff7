#include "fleet/nats_connect.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "util/error.h"

namespace netviz {

namespace {

struct OptionsDeleter {
  void operator()(natsOptions* o) const { natsOptions_Destroy(o); }
};
using OptionsPtr = std::unique_ptr<natsOptions, OptionsDeleter>;

OptionsPtr make_options(const NatsAccess& a, bool retry_in_background) {
  natsOptions* raw = nullptr;
  if (natsOptions_Create(&raw) != NATS_OK) throw Error("NATS: cannot create client options");
  OptionsPtr o(raw);
  std::vector<const char*> urls;
  for (const auto& s : a.servers) urls.push_back(s.url.c_str());
  if (natsOptions_SetServers(o.get(), urls.data(), static_cast<int>(urls.size())) != NATS_OK)
    throw Error("NATS: " + masked_list(a.servers) + ": " + nats_error_text(NATS_ERR, a));
  if (!a.client_name.empty()) natsOptions_SetName(o.get(), a.client_name.c_str());
  // Never give up: a fleet host outlives any server restart; events wait in the spool.
  natsOptions_SetMaxReconnect(o.get(), -1);
  natsOptions_SetReconnectWait(o.get(), 250);
  natsOptions_SetTimeout(o.get(), 2000);
  if (!a.creds.empty()) {
    natsStatus s = natsOptions_SetUserCredentialsFromFiles(o.get(), a.creds.c_str(), nullptr);
    if (s != NATS_OK) throw Error("--nats-creds: " + a.creds + ": " + nats_error_text(s, a));
  }
  if (!a.ca.empty() || !a.cert.empty() || !a.key.empty()) {
    natsOptions_SetSecure(o.get(), true);
    if (!a.ca.empty()) {
      natsStatus s = natsOptions_LoadCATrustedCertificates(o.get(), a.ca.c_str());
      if (s != NATS_OK) throw Error("--nats-ca: " + a.ca + ": " + nats_error_text(s, a));
    }
    if (a.cert.empty() != a.key.empty())
      throw Error("--nats-cert and --nats-key: give both or neither");
    if (!a.cert.empty()) {
      natsStatus s = natsOptions_LoadCertificatesChain(o.get(), a.cert.c_str(), a.key.c_str());
      if (s != NATS_OK)
        throw Error("--nats-cert/--nats-key: " + a.cert + ", " + a.key + ": " + nats_error_text(s, a));
    }
  }
  // With a callback, a first connect that finds no server returns at once and goes on trying.
  if (retry_in_background)
    natsOptions_SetRetryOnFailedConnect(o.get(), true, [](natsConnection*, void*) {}, nullptr);
  return o;
}

}  // namespace

void check_access_files(const NatsAccess& a) {
  const std::pair<const char*, const std::string*> files[] = {
      {"--nats-creds", &a.creds}, {"--nats-ca", &a.ca}, {"--nats-cert", &a.cert}, {"--nats-key", &a.key}};
  for (const auto& f : files) {
    if (f.second->empty()) continue;
    int fd = open(f.second->c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(std::string(f.first) + ": " + *f.second + ": " + std::strerror(errno));
    close(fd);
  }
  if (a.cert.empty() != a.key.empty()) throw Error("--nats-cert and --nats-key: give both or neither");
}

std::string nats_error_text(natsStatus s, const NatsAccess& a) {
  natsStatus last = NATS_OK;
  const char* text = nats_GetLastError(&last);
  std::string out = text && *text ? text : natsStatus_GetText(s);
  return mask_secrets(out, a.servers);
}

natsConnection* nats_connect(const NatsAccess& a, std::string* down_why, int64_t wait_first) {
  OptionsPtr first = make_options(a, false);
  natsOptions_SetTimeout(first.get(), wait_first);
  natsConnection* nc = nullptr;
  natsStatus s = natsConnection_Connect(&nc, first.get());
  if (s == NATS_OK) return nc;
  std::string why = nats_error_text(s, a);
  if (s == NATS_CONNECTION_AUTH_FAILED || s == NATS_NOT_PERMITTED || s == NATS_SSL_ERROR ||
      why.find("uthorization") != std::string::npos)
    throw Error("NATS " + masked_list(a.servers) + " refused the connection: " + why);
  if (down_why) *down_why = why;
  OptionsPtr again = make_options(a, true);
  s = natsConnection_Connect(&nc, again.get());
  if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED)
    throw Error("NATS " + masked_list(a.servers) + ": " + nats_error_text(s, a));
  return nc;
}

std::string nats_probe(const NatsAccess& a, int64_t wait_ms) {
  check_access_files(a);
  // Even creating options starts the library's threads: everything happens in the child,
  // which reports refusals and unreadable files back as the error line.
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw Error(std::string("pipe: ") + std::strerror(errno));
  pid_t child = fork();
  if (child < 0) throw Error(std::string("fork: ") + std::strerror(errno));
  if (child == 0) {
    close(fds[0]);
    std::string report;
    try {
      std::string down;
      natsConnection* nc = nats_connect(a, &down, wait_ms);
      (void)nc;  // the process ends here; nothing to tidy
      report = down.empty() ? "U" : "D" + down;
    } catch (const std::exception& e) {
      report = std::string("R") + e.what();
    }
    ssize_t n = write(fds[1], report.data(), report.size());
    (void)n;
    _exit(0);
  }
  close(fds[1]);
  std::string report;
  char buf[512];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    report.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (report.empty()) return "the connection check ended without an answer";
  if (report[0] == 'R') throw Error(report.substr(1));
  return report[0] == 'U' ? "" : report.substr(1);
}

}  // namespace netviz
