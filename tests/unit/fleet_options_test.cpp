// The fleet's option values: NATS URLs (syntax, masking), durations, sizes, the subject
// naming, and the publisher's spool bound, all without a server.
#include <gtest/gtest.h>

#include <sstream>

#include "fleet/fleet_values.h"
#include "fleet/nats_url.h"
#include "fleet/publisher.h"
#include "util/error.h"

namespace netviz {
namespace {

std::string error_of(const std::string& urls) {
  try {
    parse_nats_urls(urls, "--publish");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(NatsUrl, AcceptsServerLists) {
  auto s = parse_nats_urls("nats://10.0.0.1:4222, nats://b.example:4223,tls://[::1]:4222", "--publish");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[1].url, "nats://b.example:4223");
  EXPECT_EQ(masked_list(s), "nats://10.0.0.1:4222,nats://b.example:4223,tls://[::1]:4222");
  EXPECT_EQ(parse_nats_urls("nats://host", "--subscribe").size(), 1u);  // port 4222 by default
}

TEST(NatsUrl, MasksPasswordsAndTokens) {
  auto s = parse_nats_urls("nats://alice:pa55word@h:4222,nats://tok3n@h2:4222", "--publish");
  EXPECT_EQ(s[0].masked, "nats://alice:***@h:4222");
  EXPECT_EQ(s[1].masked, "nats://***@h2:4222");
  EXPECT_EQ(s[0].url, "nats://alice:pa55word@h:4222");  // the client still gets it
  EXPECT_EQ(mask_secrets("bad login pa55word and tok3n", s), "bad login *** and ***");
}

TEST(NatsUrl, RefusesBadSyntaxNamingTheOptionWithoutTheSecret) {
  EXPECT_NE(error_of("http://h:4222").find("--publish: http://h:4222: the scheme"), std::string::npos);
  EXPECT_NE(error_of("nats://h:99999").find("port"), std::string::npos);
  EXPECT_NE(error_of("nats://h:42x").find("port"), std::string::npos);
  EXPECT_NE(error_of("nats://:4222").find("no host"), std::string::npos);
  EXPECT_NE(error_of("nats://h:4222,,nats://g").find("empty"), std::string::npos);
  std::string e = error_of("nats://bob:hunter2@h:notaport");
  EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
  EXPECT_NE(e.find("bob:***@"), std::string::npos) << e;
  EXPECT_NE(error_of("nats://bob:@h:4222").find("empty user or password"), std::string::npos);
}

TEST(FleetValues, Durations) {
  EXPECT_EQ(parse_duration_ns("24h", "--retention"), 24LL * 3600 * 1'000'000'000);
  EXPECT_EQ(parse_duration_ns("10m", "--since"), 600LL * 1'000'000'000);
  EXPECT_EQ(parse_duration_ns("90", "--since"), 90LL * 1'000'000'000);
  EXPECT_EQ(parse_duration_ns("2d", "--window"), 2LL * 86400 * 1'000'000'000);
  for (const char* bad : {"", "h", "10x", "-5m", "0", "1e3s", "10 m"})
    EXPECT_THROW(parse_duration_ns(bad, "--retention"), Error) << bad;
}

TEST(FleetValues, Sizes) {
  EXPECT_EQ(parse_size_bytes("64M", "--spool-max"), 64ull << 20);
  EXPECT_EQ(parse_size_bytes("512K", "--spool-max"), 512ull << 10);
  EXPECT_EQ(parse_size_bytes("1000", "--spool-max"), 1000u);
  for (const char* bad : {"", "M", "64Q", "-1", "0"})
    EXPECT_THROW(parse_size_bytes(bad, "--spool-max"), Error) << bad;
}

TEST(FleetSubject, MachineIdAndNamespace) {
  EXPECT_EQ(fleet_subject("0123abcd", 0), "netviz.0123abcd.events");
  EXPECT_EQ(fleet_subject("0123abcd", 4026532000), "netviz.0123abcd-4026532000.events");
  EXPECT_EQ(fleet_subject("a.b*c>d e", 0), "netviz.a_b_c_d_e.events");  // no subject wildcards
}

// Not started, the publisher only spools: what goes beyond --spool-max is dropped,
// counted and said once per overflow.
TEST(Publisher, SpoolIsBoundedAndOverflowCounted) {
  PublishOptions o;
  o.access.servers = parse_nats_urls("nats://127.0.0.1:1", "--publish");
  o.spool_max = 100;
  o.subject = "netviz.x.events";
  std::ostringstream err;
  Publisher p(o, err);
  std::string line(39, 'a');  // 40 bytes with its newline
  EXPECT_TRUE(p.push(line));
  EXPECT_TRUE(p.push(line));
  EXPECT_FALSE(p.push(line));
  EXPECT_FALSE(p.push(line));
  EXPECT_EQ(p.lost(), 2u);
  EXPECT_TRUE(p.push(std::string(9, 'b')));  // still room for a short one
  EXPECT_EQ(err.str().find("spool full"), err.str().rfind("spool full"));  // said once
  EXPECT_NE(err.str().find("lost_transport"), std::string::npos);
  EXPECT_EQ(p.drain(10), 3u);  // nothing sent: never started
}

// Beyond its memory part the spool goes on in a file, still bounded by spool_max as a whole.
TEST(Publisher, SpoolSpillsToAFileBeyondItsMemoryPart) {
  PublishOptions o;
  o.access.servers = parse_nats_urls("nats://127.0.0.1:1", "--publish");
  o.spool_max = 400;
  o.spool_memory = 100;
  o.spill_dir = testing::TempDir();
  o.subject = "netviz.x.events";
  std::ostringstream err;
  Publisher p(o, err);
  std::string line(39, 'a');
  for (int i = 0; i < 10; ++i) EXPECT_EQ(p.push(line), i < 10 && (i + 1) * 40 <= 400) << i;
  EXPECT_EQ(p.lost(), 0u);
  EXPECT_FALSE(p.push(line));
  EXPECT_EQ(p.lost(), 1u);
  EXPECT_NE(err.str().find("spool file"), std::string::npos) << err.str();
  EXPECT_EQ(p.drain(10), 10u);
}

}  // namespace
}  // namespace netviz
