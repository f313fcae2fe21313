// Base64 (RFC 4648) as Kubernetes, MIME and HTTP Basic authentication use it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace paddlecloud {

// The standard alphabet, with '=' padding, on one line.
std::string Base64Encode(std::string_view bytes);
// Either alphabet (standard or URL-safe), padding optional, whitespace ignored; nullopt when the
// text is not base64.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace paddlecloud
