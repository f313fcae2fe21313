// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as TFRecord files checksum their records.
#pragma once

#include <cstdint>
#include <string_view>

namespace paddlecloud::eventfiles {

// CRC-32C of `bytes`; Crc32c("123456789") == 0xE3069283. Continue a running CRC by passing it as `crc`.
std::uint32_t Crc32c(std::string_view bytes, std::uint32_t crc = 0);

// TFRecord's masked CRC: rotated right by 15 bits plus 0xa282ead8, so a CRC of data holding CRCs
// does not degenerate.
constexpr std::uint32_t MaskCrc(std::uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

}  // namespace paddlecloud::eventfiles
