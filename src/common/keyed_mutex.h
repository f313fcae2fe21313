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
  std::unique_lock<std::mutex> Lock(const std::string& key) {
    std::mutex* mutex;
    {
      std::lock_guard guard(map_mutex_);
      auto& slot = mutexes_[key];
      if (!slot) slot = std::make_unique<std::mutex>();
      mutex = slot.get();
    }
    return std::unique_lock(*mutex);
  }

 private:
  std::mutex map_mutex_;  // guards mutexes_ (not the mutexes themselves)
  std::map<std::string, std::unique_ptr<std::mutex>> mutexes_;
};

}  // namespace paddlecloud
