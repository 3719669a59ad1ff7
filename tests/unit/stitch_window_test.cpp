// What netviz-stitch --subscribe adds to the follow session: lines one by one (a bad one
// refused without harm) and --window forgetting flows that ended long ago.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands/follow.h"
#include "util/error.h"
#include "util/time.h"

namespace netviz {
namespace {

using json = nlohmann::json;

const std::string kHostA =
    R"({"event":"host","netviz":1,"host":{"name":"a","netns":[{"inode":1,"addresses":["10.7.0.1"]}]}})";
const std::string kHostB =
    R"({"event":"host","netviz":1,"host":{"name":"b","netns":[{"inode":2,"addresses":["10.7.0.2"]}]}})";

std::string flow(const char* event, const char* local, int lport, const char* remote, int rport,
                 const char* dir, const char* comm, const char* at, const char* extra = "") {
  return std::string(R"({"event":")") + event + R"(","proto":"tcp","family":"ipv4","local":{"addr":")" +
         local + R"(","port":)" + std::to_string(lport) + R"(},"remote":{"addr":")" + remote +
         R"(","port":)" + std::to_string(rport) + R"(},"direction":")" + dir + R"(","pid":9,"comm":")" +
         comm + R"(","first_seen":")" + at + R"(","last_seen":")" + at + "\"" + extra + "}";
}

std::vector<json> changes(std::stringstream& out) {
  std::vector<json> v;
  std::string l;
  while (std::getline(out, l)) v.push_back(json::parse(l));
  out.clear();
  return v;
}

TEST(StitchSubscribe, BadLineIsRefusedAndTheInputGoesOn) {
  StitchOptions o;
  std::stringstream out;
  FollowSession s(o, out);
  size_t a = s.add_input("netviz.a.events");
  EXPECT_THROW(s.feed_stream_line(a, flow("connect", "10.7.0.1", 1, "10.7.0.2", 80, "outbound",
                                          "cli", "2026-11-21T10:00:00Z")),
               Error);  // no host line yet
  EXPECT_TRUE(s.feed_stream_line(a, kHostA));
  EXPECT_THROW(s.feed_stream_line(a, "{\"event\":"), Error);
  EXPECT_TRUE(s.feed_stream_line(a, flow("connect", "10.7.0.1", 1, "10.7.0.2", 80, "outbound",
                                         "cli", "2026-11-21T10:00:00Z")));
  size_t b = s.add_input("netviz.b.events");
  s.feed_stream_line(b, kHostB);
  s.feed_stream_line(b, flow("accept", "10.7.0.2", 80, "10.7.0.1", 1, "inbound", "srv",
                             "2026-11-21T10:00:00Z"));
  s.tick();
  bool joined = false;
  for (const auto& c : changes(out))
    if (c["change"] == "edge_added" && c["edge"]["joined"] == "both") joined = true;
  EXPECT_TRUE(joined);
}

TEST(StitchSubscribe, WindowDropsEdgesWhoseFlowsEndedBeforeIt) {
  StitchOptions o;
  std::stringstream out;
  FollowSession s(o, out);
  size_t a = s.add_input("netviz.a.events");
  size_t b = s.add_input("netviz.b.events");
  s.feed_stream_line(a, kHostA);
  s.feed_stream_line(b, kHostB);
  // cli -> srv :80 ended at 10:00; web -> api :81 is still open (seen at 10:00 too).
  s.feed_stream_line(a, flow("connect", "10.7.0.1", 1, "10.7.0.2", 80, "outbound", "cli", "2026-11-21T10:00:00Z"));
  s.feed_stream_line(b, flow("accept", "10.7.0.2", 80, "10.7.0.1", 1, "inbound", "srv", "2026-11-21T10:00:00Z"));
  s.feed_stream_line(a, flow("close", "10.7.0.1", 1, "10.7.0.2", 80, "outbound", "cli",
                             "2026-11-21T10:00:00Z", R"(,"duration_ms":5)"));
  s.feed_stream_line(b, flow("close", "10.7.0.2", 80, "10.7.0.1", 1, "inbound", "srv",
                             "2026-11-21T10:00:00Z", R"(,"duration_ms":5)"));
  s.feed_stream_line(a, flow("connect", "10.7.0.1", 2, "10.7.0.2", 81, "outbound", "web", "2026-11-21T10:00:00Z"));
  s.feed_stream_line(b, flow("accept", "10.7.0.2", 81, "10.7.0.1", 2, "inbound", "api", "2026-11-21T10:00:00Z"));
  s.tick();
  ASSERT_EQ(s.graph().edges.size(), 2u);
  changes(out);

  s.drop_ended_before(*parse_time("2026-11-21T09:00:00Z"));  // before both: nothing goes
  s.tick();
  EXPECT_TRUE(changes(out).empty());

  s.drop_ended_before(*parse_time("2026-11-21T11:00:00Z"));
  s.tick();
  auto c = changes(out);
  ASSERT_EQ(s.graph().edges.size(), 1u);
  EXPECT_EQ(s.graph().edges[0].port, 81);  // the open one stays
  bool removed = false;
  for (const auto& l : c)
    if (l["change"] == "edge_removed" && l["edge"]["port"] == 80) removed = true;
  EXPECT_TRUE(removed);
  // The inputs still find the flows they kept: an update of the open one replaces it.
  s.feed_stream_line(a, flow("update", "10.7.0.1", 2, "10.7.0.2", 81, "outbound", "web",
                             "2026-11-21T10:00:00Z", R"(,"bytes_sent":7)"));
  s.tick();
  ASSERT_EQ(s.graph().edges.size(), 1u);
  EXPECT_EQ(s.graph().edges[0].flows, 1u);
}

}  // namespace
}  // namespace netviz
