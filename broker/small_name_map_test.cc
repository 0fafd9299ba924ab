#include "broker/small_name_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace channelstream::broker {
namespace {

TEST(SmallNameMapTest, BehavesLikeAStdMap) {
  SmallNameMap<uint64_t> small;
  std::map<std::string, uint64_t> reference;
  std::mt19937 random(7);
  for (int step = 0; step < 5000; ++step) {
    const std::string name = "c" + std::to_string(random() % 50);
    switch (random() % 3) {
      case 0: {
        auto [it, added] = small.try_emplace(name, step);
        auto [ref_it, ref_added] = reference.try_emplace(name, step);
        EXPECT_EQ(added, ref_added);
        EXPECT_EQ(it->second, ref_it->second);
        break;
      }
      case 1:
        EXPECT_EQ(small.erase(name), reference.erase(name));
        break;
      default: {
        auto it = small.find(name);
        ASSERT_EQ(it != small.end(), reference.count(name) == 1);
        if (it != small.end()) it->second += 1, reference[name] += 1;
        EXPECT_EQ(small.count(name), reference.count(name));
      }
    }
    ASSERT_EQ(small.size(), reference.size());
  }
  auto ref = reference.begin();
  for (const auto& [name, value] : small) {
    EXPECT_EQ(name, ref->first);
    EXPECT_EQ(value, ref->second);
    ++ref;
  }
}

TEST(SmallNameMapTest, OneEntryNeedsNoAllocationBeyondTheRecord) {
  EXPECT_LE(sizeof(SmallNameMap<uint64_t>), 56u);
  SmallNameMap<uint64_t> map;
  EXPECT_TRUE(map.empty());
  EXPECT_TRUE(map.try_emplace("only", 1).second);
  EXPECT_FALSE(map.try_emplace("only", 2).second);
  EXPECT_EQ(map.find("only")->second, 1u);
  EXPECT_EQ(map.find("other"), map.end());
}

}  // namespace
}  // namespace channelstream::broker
