#!/usr/bin/env python3
"""Writes the model server's test models into OUT_DIR, each with a reference answer from numpy.

fit_a_line.onnx   x[-1,13] FP32 -> MatMul(W[13,1]) + b[1] -> y[-1,1]   (known weights)
mnist.onnx        image[1,1,28,28] -> Conv 3x3x8 pad 1 -> Relu -> MaxPool 2x2 -> Flatten -> Gemm(transB) -> logits[1,10]
iris.onnx         input-0[-1,4] FP32 -> MatMul(W[4,3]) -> predict[-1,3]: the input of KServe's documented
                  v2 example request (docs/modelserving/v1beta1/sklearn/v2: iris-input-v2.json)
expected.json     {model: {"inputs": {name: {"shape", "data"}}, "outputs": {name: {"shape", "data"}}}}

Usage: make_test_models.py OUT_DIR
"""
import json
import os
import sys

import numpy as np
from onnx import TensorProto, checker, helper, numpy_helper


def save(model, path):
    checker.check_model(model)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


def fit_a_line(out_dir):
    weights = np.linspace(-1.0, 1.0, 13, dtype=np.float32).reshape(13, 1)
    bias = np.array([0.5], dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["y"])],
        "fit_a_line",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 13])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 1])],
        [numpy_helper.from_array(weights, "W"), numpy_helper.from_array(bias, "b")])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(out_dir, "fit_a_line.onnx"))
    x = np.random.default_rng(1).uniform(-2, 2, size=(4, 13)).astype(np.float32)
    y = x @ weights + bias
    return {"inputs": {"x": tensor(x)}, "outputs": {"y": tensor(y)}}


KSERVE_IRIS_EXAMPLE = {
    "inputs": [{"name": "input-0", "shape": [2, 4], "datatype": "FP32",
                "data": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}]
}


def iris(out_dir):
    weights = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["input-0", "W"], ["predict"])], "iris",
        [helper.make_tensor_value_info("input-0", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("predict", TensorProto.FLOAT, ["batch", 3])],
        [numpy_helper.from_array(weights, "W")])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(out_dir, "iris.onnx"))
    x = np.array(KSERVE_IRIS_EXAMPLE["inputs"][0]["data"], dtype=np.float32)
    return {"request": KSERVE_IRIS_EXAMPLE, "outputs": {"predict": tensor(x @ weights)}}


def conv2d_same(image, kernels, bias):
    """image [C,H,W], kernels [K,C,3,3], padding 1, stride 1 -> [K,H,W]."""
    _, height, width = image.shape
    padded = np.pad(image, ((0, 0), (1, 1), (1, 1)))
    out = np.zeros((kernels.shape[0], height, width), dtype=np.float64)
    for dy in range(3):
        for dx in range(3):
            window = padded[:, dy:dy + height, dx:dx + width]
            out += np.einsum("kc,chw->khw", kernels[:, :, dy, dx], window)
    return out + bias[:, None, None]


def mnist(out_dir):
    rng = np.random.default_rng(7)
    kernels = rng.normal(0, 0.5, size=(8, 1, 3, 3)).astype(np.float32)
    conv_bias = rng.normal(0, 0.1, size=(8,)).astype(np.float32)
    dense = rng.normal(0, 0.05, size=(10, 8 * 14 * 14)).astype(np.float32)
    dense_bias = rng.normal(0, 0.1, size=(10,)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["image", "K", "kb"], ["conv"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("MaxPool", ["relu"], ["pool"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["pool"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "D", "db"], ["logits"], transB=1),
    ]
    graph = helper.make_graph(
        nodes, "mnist",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
        [numpy_helper.from_array(kernels, "K"), numpy_helper.from_array(conv_bias, "kb"),
         numpy_helper.from_array(dense, "D"), numpy_helper.from_array(dense_bias, "db")])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(out_dir, "mnist.onnx"))
    image = rng.uniform(0, 1, size=(1, 1, 28, 28)).astype(np.float32)
    relu = np.maximum(conv2d_same(image[0].astype(np.float64), kernels.astype(np.float64), conv_bias), 0)
    pooled = relu.reshape(8, 14, 2, 14, 2).max(axis=(2, 4))
    logits = pooled.reshape(1, -1) @ dense.T.astype(np.float64) + dense_bias
    return {"inputs": {"image": tensor(image)}, "outputs": {"logits": tensor(logits)}}


def tensor(array):
    return {"shape": list(array.shape), "data": [float(v) for v in array.ravel()]}


def main():
    out_dir = sys.argv[1]
    expected = {"fit_a_line": fit_a_line(out_dir), "mnist": mnist(out_dir), "iris": iris(out_dir)}
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump(expected, f)


if __name__ == "__main__":
    main()
