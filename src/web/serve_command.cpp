#include "web/serve_command.h"

#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <list>
#include <mutex>
#include <ostream>
#include <sstream>
#include <thread>

#include "stitch/graph_sinks.h"
#include "stitch/render_graph.h"
#include "stitch/render_worker.h"
#include "commands/graph_output.h"
#include "commands/stitch_command.h"
#include "commands/subscribe_command.h"
#include "util/error.h"
#include "util/listen_address.h"
#include "util/time.h"
#include "web/graph_metrics.h"
#include "web/live_graph.h"
#include "web_assets.h"

namespace netviz {

namespace {

// The query of a graph request: view and filters; anything else is a mistake worth saying.
GraphQuery parse_query(const httplib::Request& req) {
  GraphQuery q;
  for (const auto& [name, value] : req.params) {
    if (name == "view")
      q.view = parse_view(value);
    else if (name == "host" || name == "comm" || name == "port" || name == "proto")
      add_filter(q.filter, name, value);
    else
      throw Error("unknown parameter \"" + name + "\": expected view, host, comm, port, proto");
  }
  return q;
}

// Rendered pictures by query, for the version they were drawn at: every page open on the
// same view shares one layout.
class SvgCache {
 public:
  std::optional<std::pair<int, std::string>> get(const std::string& key, uint64_t version) {
    std::lock_guard lock(mu_);
    for (const auto& e : entries_)
      if (e.key == key && e.version == version) return std::make_pair(e.status, e.body);
    return std::nullopt;
  }
  void put(const std::string& key, uint64_t version, int status, std::string body) {
    std::lock_guard lock(mu_);
    entries_.remove_if([&](const Entry& e) { return e.key == key; });
    entries_.push_front({key, version, status, std::move(body)});
    if (entries_.size() > 16) entries_.pop_back();
  }

 private:
  struct Entry {
    std::string key;
    uint64_t version;
    int status;
    std::string body;
  };
  std::mutex mu_;
  std::list<Entry> entries_;
};

std::string query_key(const httplib::Request& req) {
  std::string k;
  for (const auto& [name, value] : req.params) k += name + "=" + value + "&";
  return k;
}

}  // namespace

int run_serve(const StitchOptions& o, const ServeOptions& s, std::ostream& err) {
  check_input_source(o);
  if (!o.output.empty()) throw Error("--serve: -o is not used; the graph is at /graph.json");
  if (s.max_nodes == 0) throw Error("--serve-max-nodes: expected a number > 0");
  if (s.render_timeout <= 0) throw Error("--render-timeout: expected a number of seconds > 0");
  if (s.metrics_max_series == 0) throw Error("--metrics-max-series: expected a number > 0");
  RenderLayout layout = parse_layout(o.layout);
  ListenAddress hp = parse_listen_address("--serve", s.address);
  // Before the HTTP server's and the inputs' threads: render_worker.h says why.
  RenderWorker render_worker;
  std::once_flag worker_lost_said;

  LiveGraph live(graph_options(o));
  GraphMetrics metrics(s.metrics_max_series);
  std::mutex metrics_mu;
  SvgCache cache;
  std::atomic<int> streams{0};
  const int max_streams = 24;

  httplib::Server server;
  // Event streams hold a thread each; the pool leaves room for the other requests.
  server.new_task_queue = [] { return new httplib::ThreadPool(max_streams + 8); };
  // httplib's default sets SO_REUSEPORT, which lets a second server share a port in use.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server.set_keep_alive_timeout(2);
  server.set_read_timeout(5);
  server.set_write_timeout(5);
  server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "GET" || req.method == "HEAD") return httplib::Server::HandlerResponse::Unhandled;
    res.status = 405;
    res.set_header("Allow", "GET, HEAD");
    res.set_content("netviz-stitch serves read-only: GET only\n", "text/plain");
    return httplib::Server::HandlerResponse::Handled;
  });
  server.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
    // The page runs only its own script; a picture opened alone runs none.
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                   "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("Cache-Control", "no-store");
  });
  auto bad = [](httplib::Response& res, int status, const std::string& msg) {
    res.status = status;
    res.set_content(msg + "\n", "text/plain; charset=utf-8");
  };
  // Runs `fn` with the graph of the request, or answers 400/503.
  auto with_graph = [&](const httplib::Request& req, httplib::Response& res, auto fn) {
    GraphQuery q;
    try {
      q = parse_query(req);
    } catch (const Error& e) {
      return bad(res, 400, e.what());
    }
    uint64_t version = live.version();
    auto g = live.build(q);
    if (!g) return bad(res, 503, "the inputs are not read yet");
    res.set_header("X-Netviz-Version", std::to_string(version));
    fn(*g, q, version);
  };

  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(web_assets::index_html), "text/html; charset=utf-8");
  });
  server.Get("/app.js", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(web_assets::app_js), "text/javascript; charset=utf-8");
  });
  server.Get("/app.css", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(web_assets::app_css), "text/css; charset=utf-8");
  });
  server.Get("/graph.json", [&](const httplib::Request& req, httplib::Response& res) {
    with_graph(req, res, [&](const Graph& g, const GraphQuery&, uint64_t) {
      std::ostringstream out;
      write_graph_json(out, g);
      res.set_content(out.str(), "application/json");
    });
  });
  server.Get("/graph.dot", [&](const httplib::Request& req, httplib::Response& res) {
    with_graph(req, res, [&](const Graph& g, const GraphQuery& q, uint64_t) {
      std::ostringstream out;
      write_dot(out, g, q.view);
      res.set_content(out.str(), "text/vnd.graphviz; charset=utf-8");
    });
  });
  server.Get("/graph.svg", [&](const httplib::Request& req, httplib::Response& res) {
    with_graph(req, res, [&](const Graph& g, const GraphQuery& q, uint64_t version) {
      std::string key = query_key(req);
      auto hit = cache.get(key, version);
      if (!hit) {
        int status = 200;
        std::string body;
        if (g.nodes.size() > s.max_nodes) {
          status = 413;
          body = "too large to draw: " + std::to_string(g.nodes.size()) + " nodes (limit " +
                 std::to_string(s.max_nodes) + ", --serve-max-nodes)";
        } else {
          try {
            body = render_graph(g, q.view, layout, "svg", s.render_timeout);
          } catch (const RenderTimeout& e) {
            status = 413;
            body = std::string("too large to draw in time: ") + e.what();
          } catch (const RenderWorkerLost& e) {
            status = 500;
            body = e.what();
            std::call_once(worker_lost_said, [&] {
              err << "netviz-stitch: " << e.what() << "\n";
              err.flush();
            });
          } catch (const std::exception& e) {
            status = 500;
            body = e.what();
          }
        }
        cache.put(key, version, status, body);
        hit = std::make_pair(status, std::move(body));
      }
      res.status = hit->first;
      res.set_content(hit->second, hit->first == 200 ? "image/svg+xml" : "text/plain; charset=utf-8");
    });
  });
  server.Get("/events", [&](const httplib::Request&, httplib::Response& res) {
    if (streams.fetch_add(1) >= max_streams) {
      streams.fetch_sub(1);
      return bad(res, 503, "too many live pages open");
    }
    res.set_header("Cache-Control", "no-store");
    auto seen = std::make_shared<uint64_t>(UINT64_MAX);
    res.set_chunked_content_provider(
        "text/event-stream",
        [&live, seen](size_t, httplib::DataSink& sink) {
          // A change is sent at once; otherwise a comment every few seconds finds a
          // client that went away, so its thread is freed.
          uint64_t v = live.wait_change(*seen, std::chrono::seconds(3));
          if (live.stopped()) return false;
          std::string msg = v != *seen ? "event: graph\ndata: " + std::to_string(v) + "\n\n"
                                       : ": idle\n\n";
          *seen = v;
          return sink.write(msg.data(), msg.size());
        },
        [&streams](bool) { streams.fetch_sub(1); });
  });
  server.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
    auto g = live.build(GraphQuery{});
    if (!g) return bad(res, 503, "the inputs are not read yet");
    std::lock_guard lock(metrics_mu);
    metrics.update(*g, wall_now_ns());
    res.set_content(metrics.text(), "text/plain; version=0.0.4; charset=utf-8");
  });

  if (!server.bind_to_port(hp.host.c_str(), hp.port))
    throw Error("--serve: cannot listen on " + s.address + " (" + hp.host + ":" +
                std::to_string(hp.port) + "): address in use or not available");
  // A page closed mid-write must not kill the server.
  signal(SIGPIPE, SIG_IGN);
  std::thread http([&] { server.listen_after_bind(); });
  err << "netviz-stitch: serving http://" << (hp.host.find(':') != std::string::npos ? "[" + hp.host + "]" : hp.host)
      << ":" << hp.port << "/\n";
  err.flush();
  int rc = 0;
  try {
    std::ostream nowhere(nullptr);
    if (o.subscribe.empty()) {
      rc = run_follow(o, nowhere, err, live.hooks());
    } else {
      StitchOptions fo = o;
      fo.follow = true;  // the page follows the fleet until stopped
      rc = run_subscribe(fo, nowhere, err, live.hooks());
    }
  } catch (...) {
    live.stop();
    server.stop();
    http.join();
    throw;
  }
  live.stop();
  server.stop();
  http.join();
  return rc;
}

}  // namespace netviz
