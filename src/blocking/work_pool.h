// WorkPool: a bounded set of threads for blocking work (SQLite, argon2, disk, fork/exec).
//
// An I/O coroutine awaits `pool.Run(fn)`: fn runs on a pool thread, and the coroutine resumes on its
// own executor with fn's result (or fn's exception rethrown). At most `threads` calls run at once;
// the rest queue in order. I/O threads therefore never block on a disk or a lock.
#pragma once

#include <atomic>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace paddlecloud::blocking {

class WorkPool {
 public:
  explicit WorkPool(int threads) : pool_(static_cast<std::size_t>(threads)), threads_(threads) {}
  ~WorkPool() { Stop(); }
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  template <typename F, typename R = std::invoke_result_t<F>>
  boost::asio::awaitable<R> Run(F fn) {
    namespace asio = boost::asio;
    using Slot = std::optional<std::conditional_t<std::is_void_v<R>, bool, R>>;
    auto initiate = [this, fn = std::move(fn)](auto handler) mutable {
      auto work = asio::make_work_guard(asio::get_associated_executor(handler));
      queued_.fetch_add(1, std::memory_order_relaxed);
      asio::post(pool_, [this, fn = std::move(fn), handler = std::move(handler), work = std::move(work)]() mutable {
        queued_.fetch_sub(1, std::memory_order_relaxed);
        std::exception_ptr error;
        Slot result;
        try {
          if constexpr (std::is_void_v<R>) {
            fn();
            result.emplace(true);
          } else {
            result.emplace(fn());
          }
        } catch (...) {
          error = std::current_exception();
        }
        auto executor = work.get_executor();
        asio::dispatch(executor, [handler = std::move(handler), error, result = std::move(result)]() mutable {
          std::move(handler)(error, std::move(result));
        });
      });
    };
    Slot slot = co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr, Slot)>(
        std::move(initiate), asio::use_awaitable);
    if constexpr (!std::is_void_v<R>) co_return std::move(*slot);
  }

  // Finishes queued work and joins the threads. Idempotent.
  void Stop() {
    pool_.join();
  }

  int threads() const { return threads_; }
  // Calls waiting for a thread right now (for /metrics).
  long queued() const { return queued_.load(std::memory_order_relaxed); }

 private:
  boost::asio::thread_pool pool_;
  int threads_;
  std::atomic<long> queued_{0};
};

}  // namespace paddlecloud::blocking
