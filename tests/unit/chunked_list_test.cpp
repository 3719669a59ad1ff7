#include "util/chunked_list.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace netviz {

TEST(ChunkedList, KeepsOrderAcrossChunksAndClears) {
  ChunkedList<std::string, 4> l;
  for (int i = 0; i < 10; ++i) {
    l.push_back(std::to_string(i));
    EXPECT_EQ(l.back(), std::to_string(i));  // back() is the element just added
  }
  EXPECT_EQ(l.size(), 10u);
  std::vector<std::string> seen;
  l.for_each([&](const std::string& s) { seen.push_back(s); });
  ASSERT_EQ(seen.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(seen[i], std::to_string(i));
  l.clear();
  EXPECT_TRUE(l.empty());
  int n = 0;
  l.for_each([&](const std::string&) { ++n; });
  EXPECT_EQ(n, 0);
  l.push_back("again");
  EXPECT_EQ(l.size(), 1u);
  EXPECT_EQ(l.back(), "again");
}

TEST(ChunkedList, ElementsStayPutWhileItGrows) {
  // The live table returns a pointer to the flow it just closed: it must survive pushes.
  ChunkedList<int, 2> l;
  l.push_back(1);
  const int* first = &l.back();
  for (int i = 0; i < 100; ++i) l.push_back(int{i});
  EXPECT_EQ(*first, 1);
}

}  // namespace netviz
