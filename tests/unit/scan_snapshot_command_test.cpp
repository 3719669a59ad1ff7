// run_snapshot end to end on the fixture proc root: filters, --netns, the document and
// the JSON lines it writes.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli/filter_options.h"
#include "commands/snapshot_command.h"
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
  o.filter.protos = proto_matches({"tcp"});
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
  // header, the shared socket, the summary
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
  EXPECT_NE(text.find("\n1 socket: 1 ESTABLISHED\n"), std::string::npos) << text;
}

// The fixture holds one TIME_WAIT socket (pid 100's namespace): the table leaves it out and
// counts it, JSON keeps it.
TEST(SnapshotCommand, TableHidesTimeWaitJsonKeepsIt) {
  TraceOptions o = fixture_opts();
  o.format = "table";
  std::string text = capture_stdout(o);
  std::string rows = text.substr(0, text.rfind('\n', text.size() - 2));
  EXPECT_EQ(rows.find("TIME_WAIT"), std::string::npos) << text;
  EXPECT_NE(text.find("; 1 TIME_WAIT not shown (--state time-wait or --state all shows them)\n"),
            std::string::npos)
      << text;
  o.format = "json";
  size_t time_wait = 0;
  for (const auto& l : lines_of(capture_stdout(o))) time_wait += l["state"] == "TIME_WAIT";
  EXPECT_EQ(time_wait, 1u);
}

TEST(SnapshotCommand, StateFilter) {
  TraceOptions o = fixture_opts();
  o.format = "table";
  o.states = {"time-wait"};
  std::string text = capture_stdout(o);
  EXPECT_NE(text.find("TIME_WAIT "), std::string::npos) << text;
  EXPECT_NE(text.find("\n1 socket: 1 TIME_WAIT\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("not shown"), std::string::npos) << text;
  // Given explicitly, --state filters JSON too; close covers unconnected datagram sockets.
  o.format = "json";
  o.states = {"listen", "close"};
  auto lines = lines_of(capture_stdout(o));
  ASSERT_FALSE(lines.empty());
  std::set<std::string> seen;
  for (const auto& l : lines) seen.insert(l["state"].get<std::string>());
  EXPECT_EQ(seen, (std::set<std::string>{"LISTEN", "UNCONN"}));
  o.states = {"established", "all"};
  size_t time_wait = 0;
  for (const auto& l : lines_of(capture_stdout(o))) time_wait += l["state"] == "TIME_WAIT";
  EXPECT_EQ(time_wait, 1u);
}

TEST(SnapshotCommand, BadStateNamesTheOption) {
  TraceOptions o = fixture_opts();
  o.states = {"established", "fin-wait1"};
  try {
    run_snapshot(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("--state: unknown state \"fin-wait1\"", 0), 0u)
        << e.what();
  }
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
