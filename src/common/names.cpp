#include "common/names.h"

#include <vector>

namespace paddlecloud::names {

namespace {

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsAllowed(char c) { return IsLower(c) || (c >= '0' && c <= '9') || c == '-'; }

// What is wrong with `name`, most telling first.
std::vector<std::string> Problems(std::string_view name, std::size_t min, std::size_t max) {
  std::vector<std::string> problems;
  if (name.empty()) return {"is empty"};
  if (name.size() < min) problems.push_back("is too short");
  if (name.size() > max) problems.push_back("is too long");
  bool upper = false, space = false;
  std::string other;
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') {
      if (!upper) problems.push_back(std::string("has an upper-case letter ('") + c + "')");
      upper = true;
    } else if (c == ' ') {
      if (!space) problems.push_back("has a space");
      space = true;
    } else if (!IsAllowed(c) && other.empty()) {
      other = static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f ? "a control or non-ASCII character"
                                                                                              : std::string("'") + c + "'";
      problems.push_back("has " + other);
    }
  }
  if (!IsLower(name.front()) && !(name.front() >= 'A' && name.front() <= 'Z')) problems.push_back("does not start with a letter");
  if (name.back() == '-') problems.push_back("ends with '-'");
  return problems;
}

}  // namespace

bool IsDnsLabel(std::string_view name, std::size_t min, std::size_t max) {
  if (name.size() < min || name.size() > max || name.empty() || !IsLower(name.front()) || name.back() == '-') return false;
  for (char c : name)
    if (!IsAllowed(c)) return false;
  return true;
}

Status CheckDnsLabel(std::string_view name, std::string_view what, std::string_view field, std::size_t min,
                     std::size_t max) {
  if (IsDnsLabel(name, min, max)) return Status::Ok();
  std::vector<std::string> problems = Problems(name, min, max);
  std::string said;
  for (std::size_t i = 0; i < problems.size(); ++i)
    said += (i == 0 ? "" : i + 1 == problems.size() ? " and " : ", ") + problems[i];
  std::string shown = name.size() > 64 ? std::string(name.substr(0, 64)) + "..." : std::string(name);
  return Status::InvalidArgument(std::string(what) + " \"" + shown + "\" " + said + ": use " + std::to_string(min) + " to " +
                                     std::to_string(max) +
                                     " lower-case letters, digits or '-', starting with a letter and not ending with '-'",
                                 std::string(field));
}

}  // namespace paddlecloud::names
