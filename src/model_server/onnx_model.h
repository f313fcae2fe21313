// OnnxModel: an ONNX model loaded into OpenCV DNN, ready for concurrent inference.
//
// cv::dnn::Net is not thread-safe, so the model holds `instances` Nets built from the same bytes;
// Infer() borrows a free one (waiting when all are busy) and returns it afterwards. Callers run
// Infer() on a pool of at most `instances` threads, so in practice it never waits. OpenCV's own
// intra-op threading is turned off: requests in parallel use the cores better for small models.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "model_server/inference_protocol.h"
#include "model_server/onnx_signature.h"

namespace paddlecloud::model_server {

class OnnxModel {
 public:
  // Reads and parses `path` `instances` times. InvalidArgument with OpenCV's reason when it cannot.
  static Result<std::unique_ptr<OnnxModel>> Load(const std::string& path, int instances);
  ~OnnxModel();

  const ModelSignature& signature() const { return signature_; }

  // Runs the model on inputs already checked against signature(); the outputs in the order asked.
  // InvalidArgument with OpenCV's reason when the runtime rejects the tensors (a dynamic
  // dimension the graph cannot take).
  Result<std::vector<Tensor>> Infer(const InferRequest& request);

 private:
  struct NetPool;  // the cv::dnn::Nets, kept out of this header
  OnnxModel(ModelSignature signature, std::unique_ptr<NetPool> nets);

  ModelSignature signature_;
  std::unique_ptr<NetPool> nets_;
};

}  // namespace paddlecloud::model_server
