#include "model_server/onnx_model.h"

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

namespace paddlecloud::model_server {

struct OnnxModel::NetPool {
  std::mutex mutex;
  std::condition_variable available;
  std::vector<cv::dnn::Net> free;

  cv::dnn::Net Borrow() {
    std::unique_lock lock(mutex);
    available.wait(lock, [&] { return !free.empty(); });
    cv::dnn::Net net = std::move(free.back());
    free.pop_back();
    return net;
  }
  void Return(cv::dnn::Net net) {
    {
      std::lock_guard lock(mutex);
      free.push_back(std::move(net));
    }
    available.notify_one();
  }
};

namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(Status::InvalidArgument("cannot open model file " + path));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return std::unexpected(Status::InvalidArgument("cannot read model file " + path));
  return std::move(bytes).str();
}

// OpenCV's message without its "OpenCV(4.6.0) file:line: error: (code)" prefix.
std::string Reason(const cv::Exception& e) { return e.err.empty() ? e.what() : e.err; }

Tensor ToTensor(const std::string& name, const cv::Mat& mat) {
  cv::Mat values = mat;
  if (values.type() != CV_32F) mat.convertTo(values, CV_32F);
  if (!values.isContinuous()) values = values.clone();
  Tensor tensor{.name = name};
  for (int i = 0; i < values.dims; ++i) tensor.shape.push_back(values.size[i]);
  const auto* begin = values.ptr<float>();
  tensor.data.assign(begin, begin + values.total());
  return tensor;
}

}  // namespace

OnnxModel::OnnxModel(ModelSignature signature, std::unique_ptr<NetPool> nets)
    : signature_(std::move(signature)), nets_(std::move(nets)) {}
OnnxModel::~OnnxModel() = default;

Result<std::unique_ptr<OnnxModel>> OnnxModel::Load(const std::string& path, int instances) {
  auto bytes = ReadFile(path);
  if (!bytes) return std::unexpected(bytes.error());
  cv::setNumThreads(1);
  auto nets = std::make_unique<NetPool>();
  try {
    for (int i = 0; i < std::max(instances, 1); ++i) {
      nets->free.push_back(cv::dnn::readNetFromONNX(bytes->data(), bytes->size()));
      nets->free.back().setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    }
  } catch (const cv::Exception& e) {
    return std::unexpected(Status::InvalidArgument("OpenCV cannot load " + path + ": " + Reason(e)));
  }
  auto signature = ReadOnnxSignature(*bytes);
  if (!signature) return std::unexpected(signature.error());
  return std::unique_ptr<OnnxModel>(new OnnxModel(std::move(*signature), std::move(nets)));
}

Result<std::vector<Tensor>> OnnxModel::Infer(const InferRequest& request) {
  cv::dnn::Net net = nets_->Borrow();
  std::vector<cv::Mat> results;
  std::string error;
  try {
    for (const auto& input : request.inputs) {
      std::vector<int> shape(input.shape.begin(), input.shape.end());
      if (shape.empty()) shape.push_back(1);
      // The Mat wraps the request's buffer (no copy); setInput copies it into the net.
      cv::Mat blob(static_cast<int>(shape.size()), shape.data(), CV_32F, const_cast<float*>(input.data.data()));
      net.setInput(blob, input.name);
    }
    std::vector<cv::String> names(request.output_names.begin(), request.output_names.end());
    net.forward(results, names);
  } catch (const cv::Exception& e) {
    error = Reason(e);
  }
  nets_->Return(std::move(net));
  if (!error.empty()) return std::unexpected(Status::InvalidArgument("the model cannot run on these inputs: " + error));
  std::vector<Tensor> outputs;
  for (std::size_t i = 0; i < results.size() && i < request.output_names.size(); ++i)
    outputs.push_back(ToTensor(request.output_names[i], results[i]));
  return outputs;
}

}  // namespace paddlecloud::model_server
