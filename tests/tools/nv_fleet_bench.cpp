// nv_fleet_bench: simulated fleet hosts for scripts/bench-fleet. Each host is a real
// Publisher (src/fleet/) replaying a generated stream (host line, then connect and close
// lines of flows to the next host) at a set rate.
//
//   nv_fleet_bench publish URL HOSTS EVENTS_PER_HOST DIR   all as fast as the publishers go;
//       each host's lines also written to DIR/hostN.jsonl (the file path's input)
//   nv_fleet_bench latency URL HOSTS RATE SECONDS STITCH   the stitcher (--subscribe
//       --follow --window 1h, started here) against hosts publishing RATE events/s in all
//       (connects left open and closes); every 50 ms a marker flow with a fresh command name;
//       prints the marker-to-edge_added latencies and the stitcher's resident memory
//   nv_fleet_bench memory URL HOSTS RATE SECONDS STITCH WINDOW   the same with --window WINDOW
//       and closed flows only (markers too), so the window forgets every flow in time
//   nv_fleet_bench latency-files DIR HOSTS RATE SECONDS STITCH   the file path beside it: the
//       hosts append to DIR/hostN.jsonl (flushed every 10 ms, as a publisher lingers) and the
//       stitcher follows the growing files (--follow FILES)
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "fleet/publisher.h"
#include "util/time.h"

using namespace netviz;
using Clock = std::chrono::steady_clock;

namespace {

std::string addr(int h) { return "10." + std::to_string(100 + h / 250) + "." + std::to_string(h % 250) + ".1"; }

std::string host_line(int h) {
  return R"({"event":"host","netviz":1,"time":")" + format_time(wall_now_ns()) +
         R"(","host":{"name":"sim)" + std::to_string(h) + R"(","machine_id":"sim)" +
         std::to_string(h) + R"(","netns":[{"inode":1,"addresses":[")" + addr(h) + R"("]}]}})";
}

// Flow k of host h: h's client to host h+1's port, each a fresh local port; odd k close it.
// Markers use ports of their own (base 60000, server 6000) so no other flow shares their tuple.
std::string flow_line(int h, int hosts, uint64_t k, const std::string& comm, int lbase = 10000,
                      int rbase = 5000) {
  std::string t = format_time(wall_now_ns());
  bool close = k % 2;
  uint64_t n = k / 2;
  return std::string(R"({"event":")") + (close ? "close" : "connect") + R"(","time":")" + t +
         R"(","proto":"tcp","family":"ipv4","local":{"addr":")" + addr(h) + R"(","port":)" +
         std::to_string(lbase + n % 5000) + R"(},"remote":{"addr":")" + addr((h + 1) % hosts) +
         R"(","port":)" + std::to_string(rbase + n % 20) + R"(},"direction":"outbound","pid":)" +
         std::to_string(100 + n % 7) + R"(,"comm":")" + comm + R"(","first_seen":")" + t +
         R"(","last_seen":")" + t + "\"" + (close ? R"(,"duration_ms":1)" : "") + "}";
}

std::unique_ptr<Publisher> publisher(const std::string& url, int h) {
  PublishOptions o;
  o.access.servers = parse_nats_urls(url, "url");
  o.subject = "netviz.sim" + std::to_string(h) + ".events";
  o.msg_id_base = "bench." + std::to_string(wall_now_ns()) + "." + std::to_string(h);
  o.spool_max = 256u << 20;
  o.program = "nv_fleet_bench";
  auto p = std::make_unique<Publisher>(o, std::cerr);
  p->start();
  return p;
}

int publish(const std::string& url, int hosts, uint64_t per_host, const std::string& dir) {
  std::vector<std::unique_ptr<Publisher>> pubs;
  for (int h = 0; h < hosts; ++h) pubs.push_back(publisher(url, h));
  uint64_t lost = 0;
  for (int h = 0; h < hosts; ++h) {
    std::ofstream f(dir + "/host" + std::to_string(h) + ".jsonl");
    std::string l = host_line(h);
    pubs[h]->push(l);
    f << l << '\n';
    for (uint64_t k = 0; k < per_host; ++k) {
      l = flow_line(h, hosts, k, "c" + std::to_string(k % 5));
      if (!pubs[h]->push(l)) ++lost;
      f << l << '\n';
    }
  }
  size_t left = 0;
  for (auto& p : pubs) left += p->drain(120000);
  std::printf("published %llu lines from %d hosts, %llu dropped by the spool, %zu unsent\n",
              static_cast<unsigned long long>(hosts * (per_host + 1)), hosts,
              static_cast<unsigned long long>(lost), left);
  return left || lost ? 1 : 0;
}

// The stitcher's resident memory (kB) from /proc; 0 when gone.
long rss_kb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  long kb = 0;
  while (f >> key)
    if (key == "VmRSS:" && f >> kb) return kb;
  return 0;
}

// Peak, after the first fifth of the run (warm-up) and at the end, with the growth after
// warm-up of a least-squares line through the samples.
void print_rss(const std::vector<std::pair<double, long>>& rss) {
  if (rss.size() < 5) return;
  size_t warm = rss.size() / 5;
  long peak = 0;
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < rss.size(); ++i) {
    peak = std::max(peak, rss[i].second);
    if (i < warm) continue;
    double x = rss[i].first, y = static_cast<double>(rss[i].second);
    n += 1, sx += x, sy += y, sxx += x * x, sxy += x * y;
  }
  double slope = n > 1 && n * sxx != sx * sx ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : 0;
  double span = rss.back().first - rss[warm].first;
  std::printf("stitcher RSS: peak %.1f MB, %.1f MB after warm-up (%.0f s), %.1f MB at the end; "
              "fitted growth after warm-up %+.1f MB over %.0f s\n",
              peak / 1024.0, rss[warm].second / 1024.0, rss[warm].first, rss.back().second / 1024.0,
              slope * span / 1024.0, span);
}

// Where the simulated hosts' lines go: a publisher each (the fleet path) or a file each that
// a stitcher follows (the file path).
struct HostOutputs {
  std::vector<std::unique_ptr<Publisher>> pubs;
  std::vector<std::unique_ptr<std::ofstream>> files;
  void push(int h, const std::string& line) {
    if (pubs.empty())
      *files[static_cast<size_t>(h)] << line << '\n';
    else
      pubs[static_cast<size_t>(h)]->push(line);
  }
  void flush() {
    for (auto& f : files) f->flush();
  }
};

// `where`: a NATS URL, or with `files` the directory of the hosts' files.
int latency(const std::string& where, int hosts, double rate, double seconds, const std::string& stitch,
            const std::string& window, bool closed_only, bool files) {
  HostOutputs out;
  std::vector<std::string> args{stitch};
  if (files) {
    args.push_back("--follow");
    for (int h = 0; h < hosts; ++h) {
      std::string path = where + "/host" + std::to_string(h) + ".jsonl";
      out.files.push_back(std::make_unique<std::ofstream>(path));
      args.push_back(path);
    }
  } else {
    args.insert(args.end(), {"--subscribe", where, "--follow", "--since", "1s", "--window", window});
  }
  if (files)
    for (int h = 0; h < hosts; ++h) out.push(h, host_line(h));
  out.flush();
  int fds[2];
  if (pipe(fds) != 0) return 1;
  pid_t child = fork();
  if (child == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(stitch.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  if (!files)
    for (int h = 0; h < hosts; ++h) {
      out.pubs.push_back(publisher(where, h));
      out.push(h, host_line(h));
    }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  std::map<std::string, Clock::time_point> sent;
  std::vector<double> lat_ms;
  std::string buf;
  // Reads the stitcher's changes for `wait_ms` (at least one poll).
  auto read_changes = [&](int wait_ms) {
    pollfd p{fds[0], POLLIN, 0};
    auto until = Clock::now() + std::chrono::milliseconds(wait_ms);
    for (;;) {
      int left = static_cast<int>(std::max<int64_t>(
          0, std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count()));
      if (poll(&p, 1, left) != 1) return;
      char b[65536];
      ssize_t n = read(fds[0], b, sizeof b);
      if (n <= 0) return;
      auto now = Clock::now();
      buf.append(b, static_cast<size_t>(n));
      size_t nl;
      while ((nl = buf.find('\n')) != std::string::npos) {
        std::string line = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        if (line.find("\"edge_added\"") == std::string::npos) continue;
        size_t m = line.find("|mk");
        if (m == std::string::npos) continue;
        size_t end = line.find('"', m);
        auto it = sent.find(line.substr(m + 1, end - m - 1));
        if (it != sent.end()) {
          lat_ms.push_back(std::chrono::duration<double, std::milli>(now - it->second).count());
          sent.erase(it);
        }
      }
    }
  };
  auto start = Clock::now();
  uint64_t events = 0, k = 0, markers = 0;
  auto next_marker = start, next_rss = start, next_flush = start;
  std::vector<std::pair<double, long>> rss;  // (seconds, kB) every second
  while (Clock::now() - start < std::chrono::duration<double>(seconds)) {
    auto due = static_cast<uint64_t>(rate * std::chrono::duration<double>(Clock::now() - start).count());
    while (events < due) {
      int h = static_cast<int>(events % hosts);
      // Closed flows only (every other line otherwise): all of them leave the --window.
      uint64_t line = closed_only ? 2 * k + 1 : k;
      out.push(h, flow_line(h, hosts, line, "c" + std::to_string(k % 5)));
      ++k;
      ++events;
    }
    if (Clock::now() >= next_marker) {
      std::string name = "mk" + std::to_string(markers++);
      sent[name] = Clock::now();
      int h = static_cast<int>(markers % hosts);
      // A marker of the memory run is a closed flow too: an open one the window keeps for good.
      out.push(h, flow_line(h, hosts, closed_only ? 2 * markers + 1 : 2 * markers, name, 60000, 6000));
      next_marker += std::chrono::milliseconds(50);
    }
    if (Clock::now() >= next_flush) {
      out.flush();
      next_flush += std::chrono::milliseconds(10);
    }
    if (Clock::now() >= next_rss) {
      rss.emplace_back(std::chrono::duration<double>(Clock::now() - start).count(), rss_kb(child));
      next_rss += std::chrono::seconds(1);
    }
    read_changes(1);
  }
  auto end = Clock::now();
  out.flush();
  read_changes(3000);
  kill(child, SIGINT);
  read_changes(2000);
  waitpid(child, nullptr, 0);
  std::sort(lat_ms.begin(), lat_ms.end());
  auto pct = [&](double q) { return lat_ms.empty() ? -1.0 : lat_ms[static_cast<size_t>(q * (lat_ms.size() - 1))]; };
  double secs = std::chrono::duration<double>(end - start).count();
  std::printf("latency: %llu events in %.1f s (%.0f/s) from %d hosts; %zu of %llu markers seen; "
              "p50 %.0f ms, p99 %.0f ms, max %.0f ms\n",
              static_cast<unsigned long long>(events), secs, events / secs, hosts, lat_ms.size(),
              static_cast<unsigned long long>(markers), pct(0.5), pct(0.99), pct(1.0));
  print_rss(rss);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() == 5 && a[0] == "publish") return publish(a[1], std::stoi(a[2]), std::stoull(a[3]), a[4]);
  if (a.size() == 6 && a[0] == "latency")
    return latency(a[1], std::stoi(a[2]), std::stod(a[3]), std::stod(a[4]), a[5], "1h", false, false);
  if (a.size() == 7 && a[0] == "memory")
    return latency(a[1], std::stoi(a[2]), std::stod(a[3]), std::stod(a[4]), a[5], a[6], true, false);
  if (a.size() == 6 && a[0] == "latency-files")
    return latency(a[1], std::stoi(a[2]), std::stod(a[3]), std::stod(a[4]), a[5], "", false, true);
  std::cerr << "usage: nv_fleet_bench publish URL HOSTS EVENTS_PER_HOST DIR | latency URL HOSTS RATE "
               "SECONDS STITCH | memory URL HOSTS RATE SECONDS STITCH WINDOW | latency-files DIR "
               "HOSTS RATE SECONDS STITCH\n";
  return 2;
}
