#include "model_server/onnx_signature.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "testing/server_process.h"

namespace paddlecloud::model_server {
namespace {

// A model from make_test_models.py, as bytes.
std::string GeneratedModel(const std::string& file) {
  static testing::TempDir dir;  // removed at exit
  static bool generated = [] {
    return testing::RunCommand("/usr/bin/python3 " PC_MAKE_TEST_MODELS " " + dir.path()).empty();
  }();
  EXPECT_TRUE(generated);
  std::ifstream in(dir.path() + "/" + file, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

TEST(OnnxSignatureTest, ReadsInputsAndOutputsWithoutInitializers) {
  auto signature = ReadOnnxSignature(GeneratedModel("fit_a_line.onnx"));
  ASSERT_TRUE(signature) << signature.error().ToString();
  ASSERT_EQ(signature->inputs.size(), 1u);
  EXPECT_EQ(signature->inputs[0].name, "x");
  EXPECT_EQ(signature->inputs[0].datatype, "FP32");
  EXPECT_EQ(signature->inputs[0].shape, (std::vector<std::int64_t>{-1, 13}));
  ASSERT_EQ(signature->outputs.size(), 1u);
  EXPECT_EQ(signature->outputs[0].name, "y");
  EXPECT_EQ(signature->outputs[0].shape, (std::vector<std::int64_t>{-1, 1}));

  auto mnist = ReadOnnxSignature(GeneratedModel("mnist.onnx"));
  ASSERT_TRUE(mnist);
  EXPECT_EQ(mnist->inputs[0].shape, (std::vector<std::int64_t>{1, 1, 28, 28}));
  EXPECT_EQ(mnist->outputs[0].name, "logits");
}

TEST(OnnxSignatureTest, TruncatedOrForeignBytesAreErrorsNotCrashes) {
  std::string model = GeneratedModel("mnist.onnx");
  ASSERT_FALSE(model.empty());
  for (std::size_t cut : {std::size_t{1}, std::size_t{7}, model.size() / 2, model.size() - 1}) {
    auto signature = ReadOnnxSignature(std::string_view(model).substr(0, cut));
    EXPECT_FALSE(signature) << "cut at " << cut;
  }
  EXPECT_FALSE(ReadOnnxSignature(""));
  EXPECT_FALSE(ReadOnnxSignature("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"));
  EXPECT_FALSE(ReadOnnxSignature(std::string("\x3a\x7f", 2)));  // graph field longer than the buffer
}

TEST(OnnxSignatureTest, DatatypeNames) {
  EXPECT_EQ(DatatypeOfOnnxElementType(1), "FP32");
  EXPECT_EQ(DatatypeOfOnnxElementType(7), "INT64");
  EXPECT_EQ(DatatypeOfOnnxElementType(11), "FP64");
  EXPECT_EQ(DatatypeOfOnnxElementType(99), "");
}

}  // namespace
}  // namespace paddlecloud::model_server
