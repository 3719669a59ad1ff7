// Inputs of netviz-stitch: documents and streams, the fast reader, and bad input.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "format/capture_json.h"
#include "../support/json_tree.h"
#include "format/capture_reader.h"
#include "commands/stitch_command.h"
#include "stitch_test_util.h"
#include "util/error.h"

using namespace netviz;
using namespace stitch_test;

namespace {

struct Collect : CaptureVisitor {
  HostInfo host;
  std::vector<Flow> flows;
  std::vector<Socket> sockets;
  void on_host(const HostInfo& h) override { host = h; }
  void on_flow(Flow&& f) override { flows.push_back(std::move(f)); }
  void on_socket(Socket&& s) override { sockets.push_back(std::move(s)); }
  void reset() override { *this = Collect(); }
};

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The error netviz-stitch would print for these inputs (empty when none).
std::string error_for(const std::vector<std::string>& paths) {
  try {
    FlowStore store;
    load_inputs(store, paths, 2);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

Capture sample_capture() {
  Capture c;
  c.host.name = "w\"eb";
  c.host.netns.push_back({4026531840, "", {"127.0.0.1", "10.0.0.1"}});
  for (int i = 0; i < 3; ++i) {
    Flow f;
    f.proto = i == 2 ? Proto::udp : Proto::tcp;
    f.family = Family::ipv4;
    f.local = {"10.0.0.1", 40000u + i};
    if (i != 1) f.remote = Endpoint{"10.0.0.2", 80};
    f.direction = i ? Direction::inbound : Direction::outbound;
    f.pid = 10 + i;
    f.comm = i == 1 ? "weird x" : "nginx";
    if (i == 0) f.service = "nginx.service";
    f.netns = 4026531840;
    f.first_seen = 1'795'000'000'123'456'789 + i;
    f.last_seen = f.first_seen + 5'000'000;
    if (i == 0) f.duration_ns = 5'000'000;
    f.bytes_sent = 1ull << 40;
    f.connect_latency_ns = i == 0 ? std::optional<int64_t>(120'000) : std::nullopt;
    f.attribution = Attribution::connect;
    f.state = SockState::established;
    // Owners given on one flow only: a reader must neither drop them nor carry them on.
    if (i == 0) f.handed_from = Owner{7, "postmaster", -1};
    if (i == 2) f.peer = Owner{8, "socat", -1};
    // NAT on the first two only, one with both members: a reader must not carry it on either.
    if (i == 0) f.nat = std::make_shared<const Nat>(Nat{Endpoint{"10.0.0.3", 40001}, Endpoint{"10.0.0.1", 80}});
    if (i == 1) f.nat = std::make_shared<const Nat>(Nat{std::nullopt, Endpoint{"[::1]", 8080}});
    c.flows.push_back(f);
  }
  Socket s;
  s.proto = Proto::tcp;
  s.family = Family::ipv4;
  s.local = {"0.0.0.0", 80};
  s.state = SockState::listen;
  s.owners.push_back({5, "nginx", 3});
  c.sockets.push_back(s);
  return c;
}

}  // namespace

TEST(StitchInput, FastPathReadsWhatNetvizWrites) {
  std::stringstream ss;
  write_capture(ss, sample_capture());
  Collect fast, checked;
  ASSERT_TRUE(read_capture_fast_path(ss.str(), "t.json", fast));
  read_capture_checked(ss.str(), "t.json", checked);
  ASSERT_EQ(fast.flows.size(), 3u);
  ASSERT_EQ(checked.flows.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const Flow& a = fast.flows[i];
    const Flow& b = checked.flows[i];
    EXPECT_EQ(to_json(a), to_json(b)) << i;
  }
  EXPECT_EQ(fast.host.name, "w\"eb");
  EXPECT_EQ(fast.sockets.size(), 1u);
  EXPECT_EQ(fast.flows[0].bytes_sent, 1ull << 40);
  ASSERT_TRUE(fast.flows[0].handed_from);
  EXPECT_EQ(fast.flows[0].handed_from->pid, 7);
  EXPECT_FALSE(fast.flows[1].handed_from);
  ASSERT_TRUE(fast.flows[2].peer);
  EXPECT_EQ(fast.flows[2].peer->comm, "socat");
  ASSERT_TRUE(fast.flows[0].nat);
  EXPECT_EQ(fast.flows[0].nat->local, (Endpoint{"10.0.0.3", 40001}));
  ASSERT_TRUE(fast.flows[1].nat);
  EXPECT_FALSE(fast.flows[1].nat->local);
  EXPECT_EQ(fast.flows[1].nat->remote, (Endpoint{"[::1]", 8080}));
  EXPECT_FALSE(fast.flows[2].nat);
}

TEST(StitchInput, NatWithNeitherAddressIsBadInput) {
  std::string doc = R"({"netviz":1,"host":{"name":"h"},"flows":[{"proto":"tcp","family":"ipv4",
    "local":{"addr":"1.2.3.4","port":1},"remote":{"addr":"1.2.3.5","port":2},
    "direction":"outbound","pid":1,"comm":"a","nat":{}}]})";
  Collect fast;
  EXPECT_FALSE(read_capture_fast_path(doc, "t.json", fast));
  Collect c;
  try {
    read_capture(doc, "t.json", c);
    FAIL() << "accepted an empty nat";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("t.json: flows[0].nat: neither local nor remote"),
              std::string::npos)
        << e.what();
  }
}

TEST(StitchInput, FastPathGivesUpOnWhatItDoesNotKnow) {
  // Escaped strings and numeric times are valid; the checked reader reads them.
  std::string doc = R"({"netviz":1,"host":{"name":"h"},"flows":[{"proto":"tcp","family":"ipv4",
    "local":{"addr":"1.2.3.4","port":1},"remote":null,"direction":"inbound","pid":1,
    "comm":"a\u0041","first_seen":1795000000.5}]})";
  Collect fast;
  EXPECT_FALSE(read_capture_fast_path(doc, "t.json", fast));
  Collect all;
  read_capture(doc, "t.json", all);
  ASSERT_EQ(all.flows.size(), 1u);
  EXPECT_EQ(all.flows[0].comm, "aA");
  EXPECT_EQ(all.flows[0].first_seen, 1'795'000'000'500'000'000);
}

TEST(StitchInput, FastPathRejectsMalformedSkippedParts) {
  // The fast path skips "processes"; it must still refuse bad JSON there.
  std::string doc = R"({"netviz":1,"host":{"name":"h"},"processes":[{"pid":12x}],"flows":[]})";
  Collect c;
  EXPECT_FALSE(read_capture_fast_path(doc, "t.json", c));
  EXPECT_THROW(read_capture(doc, "t.json", c), Error);
}

TEST(StitchInput, DetectsStreamsByContent) {
  EXPECT_TRUE(looks_like_stream(slurp(fixture("stream.jsonl"))));
  EXPECT_FALSE(looks_like_stream(slurp(fixture("web1.json"))));
  EXPECT_FALSE(looks_like_stream(slurp(fixture("minimal.json"))));  // one-line document
}

TEST(StitchInput, StreamKeepsTheLatestLinePerFlow) {
  FlowStore store;
  load_inputs(store, {fixture("stream.jsonl")}, 1);
  ASSERT_EQ(store.ends.size(), 1u);
  EXPECT_TRUE(store.ends[0].closed);
  EXPECT_EQ(store.ends[0].bytes, 120u);
  ASSERT_EQ(store.listeners.size(), 1u);
  EXPECT_EQ(store.listeners[0].port, 8080);
}

// The accept line names the accepting process, the close line the one it was handed to: one
// flow, ending on the served process, never a second one-sided end on the accepting one.
TEST(StitchInput, StreamHandoffReplacesTheAcceptingEnd) {
  FlowStore store;
  load_inputs(store, {fixture("stream_handoff.jsonl")}, 1);
  ASSERT_EQ(store.ends.size(), 2u);
  int server = store.ends[0].outbound ? 1 : 0;
  EXPECT_EQ(store.ends[server].pid, 101);
  EXPECT_TRUE(store.ends[server].closed);
  EXPECT_EQ(store.ends[server].bytes, 800u);
  EXPECT_EQ(store.ends[1 - server].pid, 200);
}

TEST(StitchInput, BadInputNamesTheFileAndWhere) {
  struct Case {
    std::string file, expect;
  };
  std::vector<Case> cases = {
      {"bad/truncated.json", "bad/truncated.json: line 2: truncated JSON"},
      {"bad/malformed.json", "bad/malformed.json: line 2: malformed JSON"},
      {"bad/empty.json", "bad/empty.json: empty input"},
      {"bad/version2.json", "bad/version2.json: netviz: unsupported format version 2"},
      {"bad/wrong_type.json", "bad/wrong_type.json: flows[0].pid: expected an integer"},
      {"bad/wrong_value.json", "bad/wrong_value.json: flows[0].local.port: out of range"},
      {"bad/no_flows.json", "bad/no_flows.json: flows: missing"},
      {"bad/stream_bad_line.jsonl", "bad/stream_bad_line.jsonl:3: malformed JSON"},
      {"bad/stream_no_host.jsonl", "bad/stream_no_host.jsonl:1: expected the stream's host line"},
      {"bad", "bad: is a directory"},
      {"bad/missing.json", "bad/missing.json: cannot open: No such file or directory"},
  };
  for (const auto& c : cases) {
    std::string err = error_for({fixture("web1.json"), fixture(c.file)});
    EXPECT_NE(err.find(c.expect), std::string::npos) << c.file << " gave: " << err;
    EXPECT_EQ(err.find('\n'), std::string::npos) << "one line: " << err;
  }
}

TEST(StitchInput, BadInputLeavesNoOutputFile) {
  std::string out = ::testing::TempDir() + "/stitch-bad-out.dot";
  std::remove(out.c_str());
  StitchOptions o;
  o.inputs = {fixture("web1.json"), fixture("bad/truncated.json")};
  o.output = out;
  std::stringstream so, se;
  EXPECT_THROW(run_stitch(o, so, se), Error);
  struct stat st{};
  EXPECT_NE(stat(out.c_str(), &st), 0) << "output file left behind";
  EXPECT_TRUE(so.str().empty());
  // and with good input the file appears, whole
  o.inputs = {fixture("web1.json"), fixture("db1.json")};
  EXPECT_EQ(run_stitch(o, so, se), 0);
  EXPECT_NE(slurp(out).find("digraph netviz {"), std::string::npos);
  std::remove(out.c_str());
}

TEST(StitchInput, ParallelReadingGivesTheSameGraph) {
  std::vector<std::string> in = {fixture("web1.json"), fixture("db1.json"),
                                 fixture("reuse_a.json"), fixture("reuse_b.json"),
                                 fixture("stream.jsonl"), fixture("minimal.json")};
  FlowStore one, two;
  load_inputs(one, in, 1);
  load_inputs(two, in, 2);
  GraphOptions o;
  o.external = true;
  o.listeners = true;
  EXPECT_EQ(edge_list(build_graph(one, o)), edge_list(build_graph(two, o)));
}
