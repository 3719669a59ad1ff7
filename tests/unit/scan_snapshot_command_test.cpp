// run_snapshot end to end on the fixture proc root: filters, --netns, the document and
// the JSON lines it writes.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/trace_options.h"
#include "util/error.h"

using namespace netviz;

namespace {

TraceOptions fixture_opts() {
  TraceOptions o;
  o.snapshot = true;
  o.proc_root = NETVIZ_FIXTURES "/proc";
  return o;
}

// Runs run_snapshot with stdout captured.
std::string capture_stdout(const TraceOptions& o) {
  std::stringstream out;
  auto* old = std::cout.rdbuf(out.rdbuf());
  try {
    EXPECT_EQ(run_snapshot(o), 0);
  } catch (...) {
    std::cout.rdbuf(old);
    throw;
  }
  std::cout.rdbuf(old);
  return out.str();
}

std::vector<nlohmann::json> lines_of(const std::string& text) {
  std::vector<nlohmann::json> v;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) v.push_back(nlohmann::json::parse(line));
  return v;
}

}  // namespace

TEST(SnapshotCommand, DocumentWithFilters) {
  char dir[] = "/tmp/nvt-s1-unit-XXXXXX";
  ASSERT_TRUE(mkdtemp(dir));
  TraceOptions o = fixture_opts();
  o.output = std::string(dir) + "/snap.json";
  o.filter.protos = {"tcp"};
  o.filter.ports = {6379};
  o.no_cmdline = true;
  EXPECT_EQ(run_snapshot(o), 0);
  std::ifstream in(o.output);
  auto doc = nlohmann::json::parse(in);
  EXPECT_EQ(doc["netviz"], 1);
  ASSERT_EQ(doc["sockets"].size(), 2u);  // the listener and the accepted connection
  for (const auto& s : doc["sockets"]) EXPECT_EQ(s["local"]["port"], 6379);
  ASSERT_EQ(doc["flows"].size(), 1u);
  EXPECT_EQ(doc["flows"][0]["direction"], "inbound");
  ASSERT_EQ(doc["processes"].size(), 2u);  // pruned to the owners of what is left
  EXPECT_EQ(doc["processes"][0]["pid"], 200);
  EXPECT_FALSE(doc["processes"][0].contains("cmdline"));
  EXPECT_EQ(doc["stats"]["scan_path"], "proc");
  unlink(o.output.c_str());
  rmdir(dir);
}

TEST(SnapshotCommand, JsonLinesNetnsAndListening) {
  TraceOptions o = fixture_opts();
  o.format = "json";
  o.netns = "4026532500";
  auto lines = lines_of(capture_stdout(o));
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& l : lines) {
    EXPECT_EQ(l["event"], "socket");
    EXPECT_EQ(l["netns"], 4026532500u);
  }
  o.netns.clear();
  o.filter.listening = true;
  o.filter.comms = {"nginx"};
  lines = lines_of(capture_stdout(o));
  // nginx listens on tcp 80, tcp6 8080, unix /run/app.sock, sctp 9999, and holds bound
  // unconnected datagram sockets on udp 53, udp6 5353, raw 1, raw6 58, packet 3.
  std::multiset<std::string> kinds;
  for (const auto& l : lines) kinds.insert(l["proto"].get<std::string>());
  EXPECT_EQ(kinds.count("tcp"), 2u);
  EXPECT_EQ(kinds.count("unix"), 1u);
  EXPECT_EQ(kinds.count("udp"), 2u);
  for (const auto& l : lines) EXPECT_TRUE(l["remote"].is_null()) << l.dump();
}

TEST(SnapshotCommand, TableFormat) {
  TraceOptions o = fixture_opts();
  o.format = "table";
  o.filter.pids = {201};
  std::string text = capture_stdout(o);
  EXPECT_EQ(text.rfind("Netid", 0), 0u);
  EXPECT_NE(text.find("(\"redis-server\",pid=201,fd=7)"), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);  // header + the shared socket
}

TEST(SnapshotCommand, BadNetnsNamesTheOption) {
  TraceOptions o = fixture_opts();
  o.netns = "999";
  try {
    run_snapshot(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("--netns", 0), 0u) << e.what();
  }
}
