// The socket table and JSON-lines sinks on a stringstream.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "sinks/socket_jsonl.h"
#include "sinks/socket_table.h"

using namespace netviz;

namespace {
std::vector<Socket> sample() {
  Socket a;
  a.proto = Proto::tcp;
  a.family = Family::ipv4;
  a.local = {"127.0.0.1", 80};
  a.remote = Endpoint{"127.0.0.1", 54321};
  a.state = SockState::established;
  a.inode = 1002;
  a.netns = 4026531840;
  a.owners = {{100, "nginx", 4}, {101, "nginx", 4}};
  Socket b;
  b.proto = Proto::tcp;
  b.family = Family::ipv6;
  b.local = {"::", 8080};
  b.state = SockState::listen;
  b.inode = 1101;
  b.netns = 4026532500;
  Socket c;
  c.proto = Proto::unix;
  c.family = Family::unix;
  c.local = {"/run/app.sock", 0};
  c.state = SockState::listen;
  c.inode = 7;
  c.netns = 4026531840;
  return {a, b, c};
}
}  // namespace

TEST(SocketSink, JsonLinesOnePerSocket) {
  std::stringstream out;
  write_socket_lines(out, sample());
  std::string line;
  std::vector<nlohmann::json> lines;
  while (std::getline(out, line)) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["event"], "socket");
  EXPECT_EQ(lines[0]["proto"], "tcp");
  EXPECT_EQ(lines[0]["family"], "ipv4");
  EXPECT_EQ(lines[0]["local"]["addr"], "127.0.0.1");
  EXPECT_EQ(lines[0]["remote"]["port"], 54321);
  EXPECT_EQ(lines[0]["inode"], 1002);
  EXPECT_EQ(lines[0]["netns"], 4026531840u);
  ASSERT_EQ(lines[0]["owners"].size(), 2u);
  EXPECT_EQ(lines[0]["owners"][1]["pid"], 101);
  EXPECT_EQ(lines[0]["owners"][1]["fd"], 4);
  EXPECT_TRUE(lines[1]["remote"].is_null());
  EXPECT_TRUE(lines[1]["owners"].empty());
  EXPECT_EQ(lines[2]["local"]["addr"], "/run/app.sock");
}

TEST(SocketSink, TableLikeSs) {
  std::stringstream out;
  write_socket_table(out, sample(), {NetnsInfo{4026532500, "blue", {}}});
  std::string text = out.str();
  std::istringstream in(text);
  std::string header, l1, l2, l3, summary, extra;
  std::getline(in, header);
  std::getline(in, l1);
  std::getline(in, l2);
  std::getline(in, l3);
  std::getline(in, summary);
  EXPECT_FALSE(std::getline(in, extra));
  EXPECT_EQ(summary, "3 sockets: 1 ESTABLISHED, 2 LISTEN");
  EXPECT_EQ(header.rfind("Netid", 0), 0u);
  EXPECT_NE(header.find("Local Address:Port"), std::string::npos);
  EXPECT_NE(l1.find("127.0.0.1:80 "), std::string::npos);
  EXPECT_NE(l1.find("127.0.0.1:54321"), std::string::npos);
  EXPECT_NE(l1.find("users:((\"nginx\",pid=100,fd=4),(\"nginx\",pid=101,fd=4))"),
            std::string::npos);
  EXPECT_EQ(l2.rfind("tcp6 ", 0), 0u);
  EXPECT_NE(l2.find("[::]:8080"), std::string::npos);
  EXPECT_NE(l2.find("blue"), std::string::npos);
  EXPECT_NE(l3.find("/run/app.sock"), std::string::npos);
  // Columns line up: the state column starts at the same offset on every row.
  EXPECT_EQ(header.find("State"), l1.find("ESTABLISHED"));
  EXPECT_EQ(header.find("State"), l2.find("LISTEN"));
}

TEST(SocketSink, TableSummaryCountsHiddenTimeWait) {
  std::stringstream out;
  auto sockets = sample();
  sockets[1].state = SockState::time_wait;
  write_socket_table(out, sockets, {}, 41);
  std::string text = out.str();
  ASSERT_FALSE(text.empty());
  std::string last = text.substr(text.rfind('\n', text.size() - 2) + 1);
  EXPECT_EQ(last,
            "3 sockets: 1 ESTABLISHED, 1 LISTEN, 1 TIME_WAIT; 41 TIME_WAIT not shown "
            "(--state time-wait or --state all shows them)\n");
}

TEST(SocketSink, EmptyTableStillSummarises) {
  std::stringstream out;
  write_socket_table(out, {}, {}, 1);
  EXPECT_EQ(out.str(),
            "Netid State Local Address:Port Peer Address:Port Netns Process\n"
            "0 sockets; 1 TIME_WAIT not shown (--state time-wait or --state all shows them)\n");
}

// The streamed document writer must produce exactly what src/format's to_json produces.
#include "format/capture_json.h"
#include "../support/json_tree.h"
#include "sinks/capture_document.h"

namespace {
Capture sample_capture() {
  Capture c;
  c.host.name = "h1";
  c.host.kernel = "6.1";
  c.host.netns = {NetnsInfo{1, "blue", {"10.0.0.1", "::1"}}};
  Process p;
  p.pid = 100;
  p.comm = "ng\"inx";
  p.cmdline = {"nginx", "-g", "x"};
  p.uid = 33;
  c.processes = {p};
  c.sockets = sample();
  c.sockets[2].local.addr = "/tmp/we\\ird\n\x01path";
  c.sockets[0].owners[0].comm = "caf\xc3\xa9";  // UTF-8
  Socket bad = c.sockets[2];
  bad.local.addr = "\xff\xfe";  // not UTF-8: must not throw
  c.sockets.push_back(bad);
  Flow f;
  f.proto = Proto::tcp;
  f.family = Family::ipv4;
  f.local = {"127.0.0.1", 80};
  f.remote = Endpoint{"127.0.0.1", 5000};
  f.direction = Direction::inbound;
  f.pid = 100;
  f.comm = "nginx";
  f.netns = 1;
  f.first_seen = f.last_seen = 1763767200123456789;
  f.state = SockState::established;
  f.attribution = Attribution::scan;
  Flow u = f;
  u.proto = Proto::udp;
  u.state = SockState::none;
  u.packets = 3;
  u.remote.reset();
  Flow traced = f;
  traced.duration_ns = 1500000;
  traced.connect_latency_ns = 2000;
  c.flows = {f, u, traced};
  c.stats.scan_path = "proc";
  c.stats.counters["sockets"] = 4;
  c.stats.notes = {"a note"};
  return c;
}
}  // namespace

TEST(SocketSink, StreamedDocumentEqualsReferenceWriter) {
  Capture c = sample_capture();
  for (bool cmdline : {true, false}) {
    std::stringstream out;
    write_capture_streamed(out, c, cmdline);
    auto got = ojson::parse(out.str());
    // The reference writer throws on the non-UTF-8 path; compare with it replaced.
    auto want = ojson::parse(to_json(c, cmdline).dump(-1, ' ', false,
                                                      nlohmann::json::error_handler_t::replace));
    EXPECT_EQ(got, want) << got.dump(1) << "\nvs\n" << want.dump(1);
  }
  std::stringstream lines;
  write_socket_lines(lines, c.sockets);
  std::string line;
  size_t i = 0;
  while (std::getline(lines, line)) {
    auto j = ojson::parse(line);
    ASSERT_LT(i, c.sockets.size());
    EXPECT_EQ(j.begin().key(), "event");
    j.erase("event");
    auto want = ojson::parse(
        to_json(c.sockets[i]).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    EXPECT_EQ(j, want);
    ++i;
  }
  EXPECT_EQ(i, c.sockets.size());
}
