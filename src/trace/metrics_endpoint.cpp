#include "trace/metrics_endpoint.h"

#include <httplib.h>
#include <signal.h>

#include <chrono>

#include "util/error.h"
#include "util/listen_address.h"

namespace netviz {

MetricsEndpoint::MetricsEndpoint(const std::string& address, std::function<std::string()> text)
    : server_(std::make_unique<httplib::Server>()), text_(std::move(text)) {
  ListenAddress a = parse_listen_address("--metrics", address);
  // One scraper at a time is the normal case; two threads leave room for a second.
  server_->new_task_queue = [] { return new httplib::ThreadPool(2); };
  // httplib's default sets SO_REUSEPORT, which lets a second server share a port in use.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server_->set_keep_alive_timeout(2);
  server_->set_read_timeout(5);
  server_->set_write_timeout(5);
  server_->set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "GET" || req.method == "HEAD") return httplib::Server::HandlerResponse::Unhandled;
    res.status = 405;
    res.set_header("Allow", "GET, HEAD");
    res.set_content("netviz-trace serves read-only: GET only\n", "text/plain");
    return httplib::Server::HandlerResponse::Handled;
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(text_(), "text/plain; version=0.0.4; charset=utf-8");
  });
  if (!server_->bind_to_port(a.host.c_str(), a.port))
    throw Error("--metrics: cannot listen on " + address + " (" + a.host + ":" +
                std::to_string(a.port) + "): address in use or not available");
  bool v6 = a.host.find(':') != std::string::npos;
  url_ = "http://" + (v6 ? "[" + a.host + "]" : a.host) + ":" + std::to_string(a.port) + "/metrics";
}

void MetricsEndpoint::start() {
  // A scraper that goes away mid-write must not end the tracer.
  signal(SIGPIPE, SIG_IGN);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
}

MetricsEndpoint::~MetricsEndpoint() {
  // stop() does nothing until listen_after_bind has begun: wait for it, or the join hangs.
  if (thread_.joinable())
    while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace netviz
