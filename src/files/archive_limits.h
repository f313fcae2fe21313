// The one rule for unpacking an archive on the server (job packages, publishing an archive): a
// cap on the bytes written, on the number of entries and on the expansion ratio, and the
// account's remaining storage. An extractor asks the budget before each entry and each block it
// writes, stops at the first error and removes what it wrote.
//
// Errors: PayloadTooLarge with details.limit = "archive_bytes" | "archive_entries" |
// "expansion_ratio"; QuotaExceeded (details.quota_left_bytes) past the account's storage.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include "common/status.h"

namespace paddlecloud::files {

struct ArchiveLimits {
  std::uint64_t max_bytes = 1ull << 30;
  std::uint64_t max_entries = 100'000;
  // Bytes written per byte of archive; the first kRatioAllowanceBytes are always allowed, so
  // small archives of very compressible text pass.
  std::uint64_t max_ratio = 100;
  std::uint64_t quota_left = std::numeric_limits<std::uint64_t>::max();
};

inline constexpr std::uint64_t kRatioAllowanceBytes = 16ull << 20;

class ExtractionBudget {
 public:
  ExtractionBudget(const ArchiveLimits& limits, std::uint64_t archive_bytes)
      : limits_(limits), archive_bytes_(archive_bytes) {}

  // Counts one more entry (file or folder).
  Status AddEntry() {
    if (++entries_ > limits_.max_entries)
      return Status::PayloadTooLarge("the archive has more than " + std::to_string(limits_.max_entries) + " entries")
          .WithDetail("limit", "archive_entries");
    return Status::Ok();
  }

  // Counts `n` more bytes about to be written.
  Status AddBytes(std::uint64_t n) {
    bytes_ += n;
    if (bytes_ > limits_.max_bytes)
      return Status::PayloadTooLarge("the archive unpacks to more than " + std::to_string(limits_.max_bytes) + " bytes")
          .WithDetail("limit", "archive_bytes");
    if (bytes_ > kRatioAllowanceBytes && bytes_ / std::max<std::uint64_t>(archive_bytes_, 1) >= limits_.max_ratio)
      return Status::PayloadTooLarge("the archive of " + std::to_string(archive_bytes_) + " bytes expands more than " +
                                     std::to_string(limits_.max_ratio) + " times")
          .WithDetail("limit", "expansion_ratio");
    if (bytes_ > limits_.quota_left)
      return Status::QuotaExceeded("unpacking the archive would exceed the storage quota (" +
                                   std::to_string(limits_.quota_left) + " bytes left)")
          .WithDetail("quota_left_bytes", std::to_string(limits_.quota_left));
    return Status::Ok();
  }

  std::uint64_t bytes() const { return bytes_; }
  std::uint64_t entries() const { return entries_; }

 private:
  ArchiveLimits limits_;
  std::uint64_t archive_bytes_;
  std::uint64_t bytes_ = 0;
  std::uint64_t entries_ = 0;
};

}  // namespace paddlecloud::files
