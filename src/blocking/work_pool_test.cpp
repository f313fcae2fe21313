#include "blocking/work_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <stdexcept>
#include <thread>

namespace paddlecloud::blocking {
namespace {

namespace asio = boost::asio;

TEST(WorkPoolTest, RunsOffTheCallerThreadAndResumesOnIt) {
  WorkPool pool(2);
  asio::io_context io;
  std::thread::id io_thread = std::this_thread::get_id();
  std::thread::id work_thread, resumed_thread;
  int answer = 0;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    answer = co_await pool.Run([&] {
      work_thread = std::this_thread::get_id();
      return 42;
    });
    resumed_thread = std::this_thread::get_id();
  }, asio::detached);
  io.run();
  EXPECT_EQ(answer, 42);
  EXPECT_NE(work_thread, io_thread);
  EXPECT_EQ(resumed_thread, io_thread);
}

TEST(WorkPoolTest, ExceptionsReachTheAwaiter) {
  WorkPool pool(1);
  asio::io_context io;
  std::string caught;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    try {
      co_await pool.Run([]() -> int { throw std::runtime_error("disk on fire"); });
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
  }, asio::detached);
  io.run();
  EXPECT_EQ(caught, "disk on fire");
}

TEST(WorkPoolTest, NeverRunsMoreThanItsThreadsAtOnce) {
  WorkPool pool(2);
  asio::io_context io;
  std::mutex mu;
  std::condition_variable changed;
  int running = 0, peak = 0, done = 0;
  for (int i = 0; i < 12; ++i) {
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
      co_await pool.Run([&] {
        std::unique_lock lock(mu);
        peak = std::max(peak, ++running);
        changed.notify_all();
        // Each task stays until a third one runs beside it (which a pool without its limit would
        // allow at once), or for a while: long enough for the pool to show it keeps the limit.
        changed.wait_for(lock, std::chrono::milliseconds(50), [&] { return running > 2; });
        --running;
      });
      ++done;
    }, asio::detached);
  }
  io.run();
  EXPECT_EQ(done, 12);
  EXPECT_EQ(peak, 2);
}

}  // namespace
}  // namespace paddlecloud::blocking
