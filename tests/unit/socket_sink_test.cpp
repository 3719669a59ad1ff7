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
  a.proto = "tcp";
  a.family = "ipv4";
  a.local = {"127.0.0.1", 80};
  a.remote = Endpoint{"127.0.0.1", 54321};
  a.state = "ESTABLISHED";
  a.inode = 1002;
  a.netns = 4026531840;
  a.owners = {{100, "nginx", 4}, {101, "nginx", 4}};
  Socket b;
  b.proto = "tcp";
  b.family = "ipv6";
  b.local = {"::", 8080};
  b.state = "LISTEN";
  b.inode = 1101;
  b.netns = 4026532500;
  Socket c;
  c.proto = "unix";
  c.family = "unix";
  c.local = {"/run/app.sock", 0};
  c.state = "LISTEN";
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
  std::string header, l1, l2, l3, extra;
  std::getline(in, header);
  std::getline(in, l1);
  std::getline(in, l2);
  std::getline(in, l3);
  EXPECT_FALSE(std::getline(in, extra));
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
