#pragma once
// The HTTP side of netviz-trace --metrics: GET /metrics on a cpp-httplib server. The port is
// taken when constructed (a port in use fails before any hook loads); its thread starts in
// start(), after the tracer dropped its capabilities, so the tracer is single-threaded until then.
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace netviz {

class MetricsEndpoint {
 public:
  // address: [ADDRESS:]PORT (loopback when no address). Throws netviz::Error with one line.
  MetricsEndpoint(const std::string& address, std::function<std::string()> text);
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;
  void start();
  std::string url() const { return url_; }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::function<std::string()> text_;
  std::thread thread_;
  std::string url_;
};

}  // namespace netviz
