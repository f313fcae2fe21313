// LeaderLease: which one of several servers sharing a database is the active one.
//
// The lease is a row of leader_lease: its holder, the holder's address, an epoch that grows with each
// change of holder (the fencing token) and an expiry in milliseconds of the servers' wall clock
// (their clocks must agree to well under `ttl`). A server takes the lease when it is free, expired or
// already its own, and the holder renews it every `ttl / 3`.
//
// A holder believes it leads only until its local deadline: the steady-clock time it asked for the
// lease plus `ttl` minus a margin. A paused holder (SIGSTOP, a long GC-like stall) therefore knows on
// waking, before touching anything, that its lease may be another's. Fence() adds the database's
// word: run inside a transaction, it fails unless the row still names this holder and epoch, so a
// write of a deposed leader cannot commit after its successor has taken over.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <stop_token>
#include <thread>

#include "common/status.h"
#include "db/database.h"

namespace paddlecloud::leader {

std::vector<db::Migration> LeaderMigrations();

struct LeaseOptions {
  std::string holder;   // this server's name, unique among the servers (host:pid)
  std::string address;  // where it serves, shown to the others
  std::chrono::milliseconds ttl{3000};
  std::function<std::int64_t()> now_ms;  // wall clock; tests may set it
};

class LeaderLease {
 public:
  LeaderLease(db::Database& database, LeaseOptions options);
  ~LeaderLease();

  // One attempt to take or renew the lease. True when this server holds it now.
  Result<bool> TryAcquire();

  // Tries every ttl/6 until the lease is ours; false when `stop` was requested first.
  bool WaitForLeadership(std::stop_token stop);

  // Renews the lease in a background thread every ttl/3. Calls `lost` (once, from that thread) when
  // the local deadline passes without a renewal: the caller must stop acting at once.
  void KeepRenewing(std::function<void()> lost);

  // Gives the lease up (when held) so a standby takes over without waiting for it to expire.
  void Release();

  bool IsLeader() const;
  std::int64_t epoch() const { return epoch_.load(); }
  // The holder and address seen at the last attempt ("" when none).
  std::string leader_seen() const;
  std::string leader_address_seen() const;

  // Inside a transaction: kUnavailable unless the lease still names this holder and epoch.
  Status Fence(db::Session& session) const;

 private:
  std::int64_t NowMs() const;

  db::Database& db_;
  const LeaseOptions options_;
  std::atomic<std::int64_t> epoch_{0};                    // 0: not held
  std::atomic<std::int64_t> deadline_{0};                 // steady-clock ns until which it is ours
  mutable std::mutex mu_;
  std::string leader_seen_, address_seen_;
  std::jthread renewer_;
};

}  // namespace paddlecloud::leader
