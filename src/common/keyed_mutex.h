// KeyedMutex: one mutex per key (an account id), made on first use and kept, so that work on one
// key is serialized while work on different keys runs in parallel. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace paddlecloud {

class KeyedMutex {
 public:
  // Blocks while another holder has `key`.
  std::unique_lock<std::mutex> Lock(const std::string& key) { return std::unique_lock(MutexOf(key)); }
  // The key's lock when nobody holds it, else a lock that does not own it (owns_lock() is false).
  std::unique_lock<std::mutex> TryLock(const std::string& key) {
    return std::unique_lock(MutexOf(key), std::try_to_lock);
  }

 private:
  std::mutex& MutexOf(const std::string& key) {
    std::lock_guard guard(map_mutex_);
    auto& slot = mutexes_[key];
    if (!slot) slot = std::make_unique<std::mutex>();
    return *slot;
  }

  std::mutex map_mutex_;  // guards mutexes_ (not the mutexes themselves)
  std::map<std::string, std::unique_ptr<std::mutex>> mutexes_;
};

}  // namespace paddlecloud
