#include "common/keyed_mutex.h"

#include <gtest/gtest.h>

#include <thread>

namespace paddlecloud {
namespace {

// Asked from another thread: trying a mutex its own thread holds is undefined.
bool TryFromAnotherThread(KeyedMutex& mutexes, const std::string& key) {
  bool owned = false;
  std::thread([&] { owned = mutexes.TryLock(key).owns_lock(); }).join();
  return owned;
}

TEST(KeyedMutexTest, TryLockFailsOnlyWhileThatKeyIsHeld) {
  KeyedMutex mutexes;
  auto held = mutexes.Lock("a");
  EXPECT_FALSE(TryFromAnotherThread(mutexes, "a"));
  EXPECT_TRUE(TryFromAnotherThread(mutexes, "b"));
  held.unlock();
  EXPECT_TRUE(TryFromAnotherThread(mutexes, "a"));
}

}  // namespace
}  // namespace paddlecloud
