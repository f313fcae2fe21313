#include "leader/leader_lease.h"

#include <spdlog/spdlog.h>

#include <condition_variable>

namespace paddlecloud::leader {
namespace {

constexpr char kLease[] = "platform";

std::int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Sleeps for `d` or until `stop` is requested; false when stopped.
bool SleepFor(std::stop_token stop, std::chrono::milliseconds d) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  cv.wait_for(lock, stop, d, [] { return false; });
  return !stop.stop_requested();
}

}  // namespace

std::vector<db::Migration> LeaderMigrations() {
  return {{90, "the leadership lease of servers sharing a database",
           "CREATE TABLE leader_lease (name TEXT PRIMARY KEY, holder TEXT NOT NULL, address TEXT NOT NULL, "
           "epoch INTEGER NOT NULL, expires_at_ms INTEGER NOT NULL);"}};
}

LeaderLease::LeaderLease(db::Database& database, LeaseOptions options) : db_(database), options_(std::move(options)) {}

LeaderLease::~LeaderLease() {
  renewer_.request_stop();
  if (renewer_.joinable()) renewer_.join();
}

std::int64_t LeaderLease::NowMs() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<bool> LeaderLease::TryAcquire() {
  // The local deadline counts from before the request: the database may answer late, never early.
  const std::int64_t asked_at = SteadyNs();
  const std::int64_t now = NowMs();
  const std::int64_t ttl = options_.ttl.count();
  std::int64_t new_epoch = 0;
  std::string holder, address;
  Status s = db_.Transaction([&](db::Session& session) -> Status {
    auto rows = session.Query("SELECT holder, address, epoch, expires_at_ms FROM leader_lease WHERE name = ?", {kLease});
    if (!rows) return rows.error();
    if (rows->empty()) {
      auto added = session.Execute(
          "INSERT INTO leader_lease (name, holder, address, epoch, expires_at_ms) VALUES (?, ?, ?, 1, ?)",
          {kLease, options_.holder, options_.address, now + ttl});
      if (!added) return added.error();
      new_epoch = 1;
      holder = options_.holder, address = options_.address;
      return Status::Ok();
    }
    holder = rows->Text(0, "holder"), address = rows->Text(0, "address");
    const std::int64_t epoch = rows->Int(0, "epoch");
    const bool mine = holder == options_.holder && epoch == epoch_.load();
    if (!mine && rows->Int(0, "expires_at_ms") > now) return Status::Ok();  // another's, still valid
    new_epoch = mine ? epoch : epoch + 1;
    auto taken = session.Execute(
        "UPDATE leader_lease SET holder = ?, address = ?, epoch = ?, expires_at_ms = ? WHERE name = ?",
        {options_.holder, options_.address, new_epoch, now + ttl, kLease});
    if (!taken) return taken.error();
    holder = options_.holder, address = options_.address;
    return Status::Ok();
  });
  {
    std::lock_guard lock(mu_);
    if (s.ok()) leader_seen_ = holder, address_seen_ = address;
  }
  if (!s.ok()) return Err(std::move(s));
  if (new_epoch == 0) {
    epoch_ = 0;
    return false;
  }
  // A tenth of the lease is kept back for the time the answer took to arrive and for clock drift.
  deadline_ = asked_at + std::chrono::duration_cast<std::chrono::nanoseconds>(options_.ttl * 9 / 10).count();
  epoch_ = new_epoch;
  return true;
}

bool LeaderLease::WaitForLeadership(std::stop_token stop) {
  std::string reported;
  while (!stop.stop_requested()) {
    auto held = TryAcquire();
    if (held && *held) return true;
    if (!held) {
      spdlog::warn("leader lease: {}", held.error().message());
    } else if (std::string leader = leader_seen(); leader != reported) {
      spdlog::info("standing by: {} at {} leads", leader, leader_address_seen());
      reported = leader;
    }
    if (!SleepFor(stop, options_.ttl / 6)) break;
  }
  return false;
}

void LeaderLease::KeepRenewing(std::function<void()> lost) {
  renewer_ = std::jthread([this, lost = std::move(lost)](std::stop_token stop) {
    while (SleepFor(stop, options_.ttl / 3)) {
      auto held = TryAcquire();
      if (held && *held) continue;
      if (!held) spdlog::warn("leader lease: cannot renew: {}", held.error().message());
      // Unreachable database: keep trying while the lease lasts. Taken by another: lost at once.
      if (held || !IsLeader()) {
        epoch_ = 0;
        lost();
        return;
      }
    }
  });
}

void LeaderLease::Release() {
  renewer_.request_stop();
  if (renewer_.joinable()) renewer_.join();
  const std::int64_t epoch = epoch_.exchange(0);
  if (epoch == 0) return;
  (void)db_.Execute("UPDATE leader_lease SET expires_at_ms = 0 WHERE name = ? AND holder = ? AND epoch = ?",
                    {kLease, options_.holder, epoch});
}

bool LeaderLease::IsLeader() const { return epoch_.load() != 0 && SteadyNs() < deadline_.load(); }

std::string LeaderLease::leader_seen() const {
  std::lock_guard lock(mu_);
  return leader_seen_;
}

std::string LeaderLease::leader_address_seen() const {
  std::lock_guard lock(mu_);
  return address_seen_;
}

Status LeaderLease::Fence(db::Session& session) const {
  const std::int64_t epoch = epoch_.load();
  auto rows = session.Query("SELECT holder, epoch FROM leader_lease WHERE name = ?", {kLease});
  if (!rows) return rows.error();
  if (epoch != 0 && !rows->empty() && rows->Text(0, "holder") == options_.holder && rows->Int(0, "epoch") == epoch)
    return Status::Ok();
  return Status::Unavailable("this server no longer leads (the lease is at epoch " +
                             (rows->empty() ? std::string("0") : std::to_string(rows->Int(0, "epoch"))) + ")");
}

}  // namespace paddlecloud::leader
