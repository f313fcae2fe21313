// The one UTF-8 rule: well-formed UTF-8 (RFC 3629) with no overlong forms, no surrogates and
// nothing above U+10FFFF. Paths, mail and every other text check against it.
#pragma once

#include <string_view>

namespace paddlecloud {

bool IsValidUtf8(std::string_view text);

}  // namespace paddlecloud
