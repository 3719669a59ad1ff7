#include "format/capture_json.h"
#include "../support/json_tree.h"

#include <gtest/gtest.h>

#include <sstream>

#include "model/service.h"
#include "util/error.h"
#include "util/time.h"

using namespace netviz;
using nlohmann::json;

namespace {
Capture sample() {
  Capture c;
  c.host.name = "web1";
  c.host.netns.push_back({4026531840, "", {"127.0.0.1", "::1"}});
  Flow f;
  f.proto = Proto::tcp;
  f.family = Family::ipv4;
  f.local = {"127.0.0.1", 40000};
  f.remote = Endpoint{"127.0.0.1", 5432};
  f.direction = Direction::outbound;
  f.pid = 42;
  f.comm = "psql";
  f.netns = 4026531840;
  f.first_seen = 1'795'000'000'123'456'789;
  f.last_seen = f.first_seen + 5'000'000;
  f.duration_ns = 5'000'000;
  f.attribution = Attribution::connect;
  c.flows.push_back(f);
  return c;
}
}  // namespace

TEST(CaptureJson, RoundTripsAFlow) {
  std::stringstream ss;
  write_capture(ss, sample());
  Capture back = capture_from_json(json::parse(ss.str()), "t.json");
  ASSERT_EQ(back.flows.size(), 1u);
  const Flow& f = back.flows[0];
  EXPECT_EQ(f.remote->port, 5432u);
  EXPECT_EQ(f.first_seen, 1'795'000'000'123'456'789);
  EXPECT_EQ(f.duration_ns.value(), 5'000'000);
  EXPECT_EQ(back.host.netns.at(0).addresses.at(1), "::1");
}

TEST(CaptureJson, NatOnlyOnTranslatedFlows) {
  Capture c = sample();
  Flow plain = c.flows[0];
  c.flows[0].nat = std::make_shared<const Nat>(Nat{std::nullopt, Endpoint{"10.77.0.1", 6379}});
  c.flows.push_back(plain);
  std::stringstream ss;
  write_capture(ss, c);
  json doc = json::parse(ss.str());
  EXPECT_EQ(doc["flows"][0]["nat"], json::parse(R"({"remote":{"addr":"10.77.0.1","port":6379}})"));
  EXPECT_FALSE(doc["flows"][1].contains("nat"));
  // The streamed writer and the tree writer agree, nat included.
  EXPECT_EQ(doc["flows"][0], json::parse(to_json(c.flows[0]).dump()));
  Capture back = capture_from_json(doc, "t.json");
  ASSERT_TRUE(back.flows[0].nat);
  EXPECT_EQ(*back.flows[0].nat, *c.flows[0].nat);
  EXPECT_FALSE(back.flows[1].nat);
}

TEST(CaptureJson, ServiceOnlyWhereTheCgroupNamesOne) {
  Capture c = sample();
  Process p;
  p.pid = 42;
  p.comm = "psql";
  p.cgroup = "/system.slice/postgresql.service";
  c.processes.push_back(p);
  p.pid = 43;
  p.cgroup = "/user.slice";
  c.processes.push_back(p);
  fill_flow_services(c.flows, c.processes);
  std::stringstream ss;
  write_capture(ss, c);
  json j = json::parse(ss.str());
  EXPECT_EQ(j["processes"][0]["service"], "postgresql.service");
  EXPECT_FALSE(j["processes"][1].contains("service"));
  EXPECT_EQ(j["flows"][0]["service"], "postgresql.service");
  Capture back = capture_from_json(j, "t.json");
  EXPECT_EQ(back.flows.at(0).service, "postgresql.service");
  // Without a service the flow line has no such key, as before.
  c.flows[0].service.clear();
  EXPECT_FALSE(json::parse(to_json(c.flows[0]).dump()).contains("service"));
}

TEST(CaptureJson, ErrorsNameSourceAndField) {
  json j = json::parse(to_json(sample()).dump());
  j["flows"][0]["local"]["port"] = "x";
  try {
    capture_from_json(j, "web1.json");
    FAIL() << "accepted a string port";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "web1.json: flows[0].local.port: expected an integer");
  }
  j = json::parse(to_json(sample()).dump());
  j["netviz"] = 2;
  EXPECT_THROW(capture_from_json(j, "x"), Error);
  j = json::parse(to_json(sample()).dump());
  j["flows"][0]["direction"] = "sideways";
  EXPECT_THROW(capture_from_json(j, "x"), Error);
}

TEST(CaptureJson, MinimalInputIsAccepted) {
  json j = {{"netviz", 1},
            {"host", {{"name", "h"}}},
            {"flows",
             {{{"proto", "tcp"},
               {"family", "ipv4"},
               {"local", {{"addr", "10.0.0.1"}, {"port", 1}}},
               {"remote", {{"addr", "10.0.0.2"}, {"port", 80}}},
               {"direction", "outbound"},
               {"pid", 1},
               {"comm", "c"}}}}};
  Capture c = capture_from_json(j, "m");
  EXPECT_EQ(c.flows.at(0).remote->addr, "10.0.0.2");
}

TEST(Time, FormatsAndParses) {
  EXPECT_EQ(format_time(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(parse_time("1970-01-01T00:00:01.5Z").value(), 1'500'000'000);
  EXPECT_EQ(parse_time("1970-01-01T01:00:00+01:00").value(), 0);
  EXPECT_FALSE(parse_time("yesterday"));
  // Years past 2262 overflowed the nanosecond count (seen while writing time_fuzz).
  EXPECT_FALSE(parse_time("9999-12-31T23:59:59Z"));
  WallNs t = 1'795'000'000'000'000'001;
  EXPECT_EQ(parse_time(format_time(t)).value(), t);
}
