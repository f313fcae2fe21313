#include "client/board_commands.h"

#include <charconv>
#include <iostream>

#include <boost/json/serialize.hpp>

#include "client/job_lookup.h"
#include "client/output.h"

namespace paddlecloud::client {
namespace {

namespace json = boost::json;

// A value as the server wrote it: the shortest decimal, or "NaN", "Infinity", "-Infinity".
std::string Text(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (!v.is_number()) return "-";
  char text[32];
  auto [end, ec] = std::to_chars(text, text + sizeof text, v.to_number<double>());
  return std::string(text, end);
}

std::string FormatBoard(const json::value& board) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& graph : ArrayAt(board, "graphs"))
    for (const auto& c : ArrayAt(graph, "curves")) {
      std::string pod = StringAt(c, {"pod"});
      rows.push_back({StringAt(graph, {"name"}), StringAt(c, {"curve"}), pod.empty() ? "-" : pod,
                      std::to_string(IntAt(c, {"points"})),
                      std::to_string(IntAt(c, {"first_step"})) + ".." + std::to_string(IntAt(c, {"last_step"})),
                      Text(c.at("last_value"))});
    }
  if (rows.empty()) return "No curves yet: the job has not drawn on its board (see docs/board.md).\n";
  std::string out = FormatTable({"GRAPH", "CURVE", "POD", "POINTS", "STEPS", "LAST VALUE"}, rows);
  const json::value& skipped = board.at("skipped");
  std::int64_t corrupt = IntAt(skipped, {"corrupt_records"}), behind = IntAt(skipped, {"out_of_order"}),
               over = IntAt(skipped, {"over_limit"});
  if (corrupt + behind + over > 0)
    out += "Skipped: " + std::to_string(corrupt) + " corrupt records, " + std::to_string(behind) +
           " points out of order, " + std::to_string(over) + " points over the pod limit\n";
  return out;
}

}  // namespace

int ShowBoard(const BoardFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto opened = OpenJob(flags.connection, env, flags.job, exit_code);
  if (!opened) return exit_code;
  auto& [client, job] = *opened;
  const std::string path = "/api/v1/jobs/" + std::to_string(IntAt(*job, {"id"})) + "/board";
  if (!flags.export_format.empty()) {
    Status streamed = client->Stream(path + "/export?format=" + flags.export_format, [](std::string_view chunk) {
      std::cout.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      return static_cast<bool>(std::cout);
    });
    std::cout.flush();
    if (!streamed.ok()) return FailSignedIn(*client, streamed);
    return kExitOk;
  }
  auto board = client->Call("GET", path);
  if (!board) return FailSignedIn(*client, board.error());
  if (flags.output == "json") {
    std::cout << json::serialize(*board) << "\n";
  } else {
    std::cout << FormatBoard(*board);
  }
  return kExitOk;
}

}  // namespace paddlecloud::client
