// Scalars out of serialized TensorBoard `Event` and VisualDL `Record` messages.
//
// TensorBoard (tensorboard/compat/proto/event.proto, summary.proto, tensor.proto): an Event's
// summary values that hold a simple_value, or a tensor of one element (shape of size 1) whose dtype
// is DT_FLOAT, DT_DOUBLE, DT_INT32 or DT_INT64, given by tensor_content or the typed *_val field.
// The point takes the Event's step and wall_time (seconds). Events without a summary (file_version,
// graphs, session logs) hold no scalar.
//
// VisualDL (visualdl/proto/record.proto): each Record.Value with the `value` float of its oneof;
// `id` is the step, `timestamp` the wall time in milliseconds.
//
// Values are kept as written, NaN and infinities included. Tags that are not valid UTF-8 are dropped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace paddlecloud::eventfiles {

struct ScalarPoint {
  std::string tag;
  std::int64_t step = 0;
  double wall_time_s = 0;
  double value = 0;
  bool operator==(const ScalarPoint&) const = default;
};

enum class Extracted {
  kScalars,    // one or more points were appended
  kNone,       // a well-formed message without a scalar
  kMalformed,  // not a well-formed message; nothing was appended
};

Extracted ExtractTensorBoardScalars(std::string_view event, std::vector<ScalarPoint>& out);
Extracted ExtractVisualDlScalars(std::string_view record, std::vector<ScalarPoint>& out);

}  // namespace paddlecloud::eventfiles
