#include "files/tar_format.h"

#include <cstdio>
#include <cstring>

namespace paddlecloud::files {
namespace {

constexpr std::size_t kBlock = 512;

// `width - 1` octal digits and a NUL; callers keep values within range (pax covers the rest).
void PutOctal(char* field, std::size_t width, std::uint64_t value) {
  for (std::size_t i = width - 1; i-- > 0; value >>= 3) field[i] = static_cast<char>('0' + (value & 7));
  field[width - 1] = '\0';
}

std::string UstarBlock(std::string_view name, char type, std::uint64_t size, std::int64_t mtime, unsigned mode) {
  std::string block(kBlock, '\0');
  char* b = block.data();
  std::memcpy(b, name.data(), std::min<std::size_t>(name.size(), 100));
  PutOctal(b + 100, 8, mode);
  PutOctal(b + 108, 8, 0);
  PutOctal(b + 116, 8, 0);
  PutOctal(b + 124, 12, size);
  PutOctal(b + 136, 12, static_cast<std::uint64_t>(mtime < 0 ? 0 : mtime));
  std::memset(b + 148, ' ', 8);
  b[156] = type;
  std::memcpy(b + 257, "ustar", 6);
  std::memcpy(b + 263, "00", 2);
  unsigned checksum = 0;
  for (unsigned char c : block) checksum += c;
  PutOctal(b + 148, 7, checksum);
  b[155] = ' ';
  return block;
}

// One pax record: "<length> <key>=<value>\n" where length counts the whole record.
std::string PaxRecord(std::string_view key, std::string_view value) {
  std::size_t body = key.size() + value.size() + 3;  // ' ', '=', '\n'
  std::size_t length = body + std::to_string(body).size();
  if (std::to_string(length).size() != std::to_string(body).size()) ++length;
  return std::to_string(length) + " " + std::string(key) + "=" + std::string(value) + "\n";
}

bool IsAscii(std::string_view text) {
  for (char c : text)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

}  // namespace

std::string TarHeader(std::string_view path, bool folder, std::uint64_t size, std::int64_t mtime_seconds) {
  std::string name(path);
  if (folder) name += '/';
  std::string out;
  std::string records;
  if (name.size() > 100 || !IsAscii(name)) records += PaxRecord("path", name);
  if (!folder && size >= (1ull << 33)) records += PaxRecord("size", std::to_string(size));
  if (!records.empty()) {
    out += UstarBlock("PaxHeader", 'x', records.size(), mtime_seconds, 0644);
    out += records;
    out += TarPadding(records.size());
  }
  std::string short_name = name.substr(0, 100);
  if (!IsAscii(short_name)) short_name = "entry";
  out += UstarBlock(short_name, folder ? '5' : '0', folder || size >= (1ull << 33) ? 0 : size, mtime_seconds,
                    folder ? 0755 : 0644);
  return out;
}

std::string TarPadding(std::uint64_t size) { return std::string((kBlock - size % kBlock) % kBlock, '\0'); }

std::string TarEnd() { return std::string(2 * kBlock, '\0'); }

}  // namespace paddlecloud::files
