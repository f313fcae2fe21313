// Names that become Kubernetes object names (an account is a namespace, a job names its pods):
// DNS-1123 labels as Kubernetes restricts them, plus our own length bounds. One rule for the
// server, the local backend and the messages clients show.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace paddlecloud::names {

// Lower-case letters, digits and '-', starting with a letter, not ending with '-', `min` to `max`
// characters (a DNS-1123 label is at most 63).
bool IsDnsLabel(std::string_view name, std::size_t min = 1, std::size_t max = 63);

// Ok, or InvalidArgument naming `field` that says what is wrong first and then the rule:
// `account ID "Alice Team" has an upper-case letter ('A') and a space: use 3 to 40 lower-case ...`.
Status CheckDnsLabel(std::string_view name, std::string_view what, std::string_view field, std::size_t min,
                     std::size_t max);

}  // namespace paddlecloud::names
