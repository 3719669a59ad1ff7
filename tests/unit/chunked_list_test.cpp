#include "util/chunked_list.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "util/chunk_memory.h"

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

TEST(ChunkedList, DefaultChunksFillTwoMiBOnAHugePageBoundaryAndDestroyTheirElements) {
  struct Counted {
    int v;
    int* dead;
    uint64_t pad = 0;  // 24 bytes: whole elements fill a little less than 2 MiB
    Counted(int v, int* dead) : v(v), dead(dead) {}
    Counted(Counted&& o) noexcept : v(o.v), dead(o.dead) { o.dead = nullptr; }
    ~Counted() {
      if (dead) ++*dead;
    }
  };
  int dead = 0;
  const size_t per_chunk = kChunkFor<Counted>;
  ASSERT_EQ(per_chunk, kHugeChunkBytes / sizeof(Counted));
  {
    ChunkedList<Counted> l;
    const int n = static_cast<int>(per_chunk * 2 + 3);  // three chunks, the last one partial
    for (int i = 0; i < n; ++i) {
      l.push_back(Counted(i, &dead));
      // The first element of each chunk starts on a 2 MiB boundary.
      if (i % per_chunk == 0) {
        EXPECT_EQ(reinterpret_cast<uintptr_t>(&l.back()) % kHugeChunkBytes, 0u) << i;
      }
    }
    EXPECT_EQ(dead, 0);  // moved-from temporaries hold no counter
    int expect = 0;
    bool in_order = true;
    l.for_each([&](const Counted& c) { in_order = in_order && c.v == expect++; });
    EXPECT_TRUE(in_order);
    EXPECT_EQ(expect, n);
  }
  EXPECT_EQ(dead, static_cast<int>(per_chunk * 2 + 3));
}

}  // namespace netviz
