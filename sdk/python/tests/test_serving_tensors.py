"""predict()'s tensors: numpy arrays and lists to Open Inference Protocol (v2) tensors and back, with
and without numpy; and a Serving's calls against a scripted gateway (no server binary)."""
import json
import math
import os
import sys
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from paddlecloud import ApiError, Client, predict  # noqa: E402
from paddlecloud import serving  # noqa: E402
from paddlecloud.serving import (Serving, datatype_of, decode_tensor, encode_tensor,  # noqa: E402
                                 infer_request, outputs_of)

try:
    import numpy as np
except ImportError:
    np = None

FIT_METADATA = {"name": "fit", "platform": "onnx", "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 13]}],
                "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 1]}]}


class WithoutNumpy(unittest.TestCase):
    """Lists in, nested lists out: what the SDK does on an interpreter without numpy."""

    def setUp(self):
        patcher = mock.patch.object(serving, "np", None)
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_nested_lists_become_a_flat_tensor_with_their_shape(self):
        tensor = encode_tensor("x", [[1.5, 2], [3, 4]], "FP32")
        self.assertEqual(tensor, {"name": "x", "shape": [2, 2], "datatype": "FP32", "data": [1.5, 2.0, 3.0, 4.0]})
        self.assertEqual(encode_tensor("n", [[1, 2, 3]], "INT64")["data"], [1, 2, 3])
        self.assertEqual(encode_tensor("s", 7, "INT32")["shape"], [])
        self.assertEqual(encode_tensor("e", [], "FP32")["shape"], [0])

    def test_the_datatype_follows_the_values_when_the_model_declares_none(self):
        self.assertEqual(datatype_of([[0.5, 1]]), "FP32")
        self.assertEqual(datatype_of([1, 2]), "INT64")
        self.assertEqual(datatype_of([True, False]), "BOOL")
        self.assertEqual(datatype_of(["a", b"b"]), "BYTES")
        with self.assertRaises(ValueError):
            datatype_of([{"a": 1}])

    def test_values_that_do_not_fit_the_datatype_name_the_input(self):
        cases = [([[1, 2], [3]], "ragged"), ([1.5], "is not an integer"), (["a"], "is not a number"),
                 ([float("nan")], "JSON has no NaN"), ([float("inf")], "JSON has no NaN"), ([2], "is not a BOOL")]
        for value, why in cases:
            datatype = {"is not an integer": "INT64", "is not a BOOL": "BOOL"}.get(why, "FP32")
            with self.subTest(value=value), self.assertRaises(ValueError) as caught:
                encode_tensor("x", value, datatype)
            self.assertIn(why, str(caught.exception))
            if why != "ragged":
                self.assertIn("'x'", str(caught.exception))
        with self.assertRaises(ValueError):
            encode_tensor("x", [1], "FP99")
        with self.assertRaises(ValueError):
            encode_tensor("x", [1], "BYTES")

    def test_answers_become_nested_lists_of_their_shape(self):
        self.assertEqual(decode_tensor({"name": "y", "shape": [2, 3], "datatype": "FP32", "data": [1, 2, 3, 4, 5, 6]}),
                         [[1, 2, 3], [4, 5, 6]])
        self.assertEqual(decode_tensor({"name": "y", "shape": [3], "datatype": "INT64", "data": [[1], [2], [3]]}),
                         [1, 2, 3])
        nan = decode_tensor({"name": "y", "shape": [2], "datatype": "FP32", "data": [None, 1]})
        self.assertTrue(math.isnan(nan[0]))
        self.assertEqual(decode_tensor({"name": "y", "shape": [], "datatype": "FP32", "data": [2.5]}), 2.5)

    def test_a_request_uses_the_declared_datatypes_and_asks_for_outputs(self):
        request = infer_request({"x": [[1] * 13]}, ["y"], FIT_METADATA)
        self.assertEqual(request["inputs"][0]["datatype"], "FP32")  # ints, sent as the model's FP32
        self.assertEqual(request["inputs"][0]["data"], [1.0] * 13)
        self.assertEqual(request["outputs"], [{"name": "y"}])
        self.assertNotIn("outputs", infer_request({"x": [1.0]}))


@unittest.skipIf(np is None, "numpy is not installed for this interpreter")
class WithNumpy(unittest.TestCase):
    def test_arrays_are_cast_to_the_declared_datatype_within_their_kind(self):
        x = np.arange(26, dtype=np.float64).reshape(2, 13) / 7
        tensor = encode_tensor("x", x, "FP32")
        self.assertEqual(tensor["shape"], [2, 13])
        self.assertEqual(tensor["datatype"], "FP32")
        self.assertEqual(len(tensor["data"]), 26)
        self.assertAlmostEqual(tensor["data"][1], 1 / 7)
        self.assertEqual(encode_tensor("i", np.array([1, 2], dtype=np.int32), "INT64")["data"], [1, 2])
        self.assertEqual(encode_tensor("b", np.array([True]), "FP32")["data"], [1.0])
        self.assertEqual(encode_tensor("s", np.array(["a", "b"]), "BYTES")["data"], ["a", "b"])
        with self.assertRaises(ValueError) as caught:
            encode_tensor("x", np.array([0.5]), "INT64")
        self.assertIn("input 'x': float64 values cannot be sent as INT64", str(caught.exception))
        with self.assertRaises(ValueError):
            encode_tensor("x", np.array([np.nan], dtype=np.float32), "FP32")

    def test_the_datatype_of_an_array_is_its_dtype(self):
        for dtype, name in ((np.float32, "FP32"), (np.float64, "FP64"), (np.float16, "FP16"), (np.int8, "INT8"),
                            (np.int64, "INT64"), (np.uint16, "UINT16"), (np.bool_, "BOOL")):
            self.assertEqual(datatype_of(np.zeros(2, dtype=dtype)), name)
        self.assertEqual(datatype_of(np.array(["a"])), "BYTES")
        self.assertEqual(datatype_of([0.5]), "FP32")  # Python floats: FP32, numpy or not
        with self.assertRaises(ValueError):
            datatype_of(np.zeros(2, dtype=np.complex64))

    def test_answers_become_arrays_of_their_shape_and_dtype(self):
        y = decode_tensor({"name": "y", "shape": [2, 1], "datatype": "FP32", "data": [0.5, None]})
        self.assertEqual(y.shape, (2, 1))
        self.assertEqual(y.dtype, np.float32)
        self.assertEqual(y[0, 0], 0.5)
        self.assertTrue(np.isnan(y[1, 0]))
        i = decode_tensor({"name": "i", "shape": [3], "datatype": "INT64", "data": [1, 2, 3]})
        self.assertEqual(i.dtype, np.int64)
        b = decode_tensor({"name": "b", "shape": [1, 2], "datatype": "BOOL", "data": [True, False]})
        self.assertEqual(b.dtype, np.bool_)
        s = decode_tensor({"name": "s", "shape": [2], "datatype": "BYTES", "data": ["a", "b"]})
        self.assertEqual(s.dtype, object)
        self.assertEqual(list(s), ["a", "b"])
        outs = outputs_of({"model_name": "m", "outputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [2]},
                                                          {"name": "b", "shape": [2, 2], "datatype": "UINT8",
                                                           "data": [1, 2, 3, 4]}]})
        self.assertEqual(sorted(outs), ["a", "b"])
        self.assertEqual(outs["b"].dtype, np.uint8)
        self.assertEqual(outs["b"].tolist(), [[1, 2], [3, 4]])


class ScriptedGateway:
    """An inference gateway that serves one model the way the platform's forwards a replica's answers."""

    def __init__(self):
        self.requests = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status, body):
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):
                gateway.requests.append(("GET", self.path, self.headers.get("Authorization"), None))
                if self.path == "/api/v1/serving/fit":
                    self.answer(200, {"name": "fit", "state": "ready", "url": "/serving/lab/fit",
                                      "infer_url": "/serving/lab/fit/v2/models/fit/infer"})
                elif self.path == "/serving/lab/fit/v2/models/fit":
                    self.answer(200, FIT_METADATA)
                elif self.path.startswith("/serving/lab/"):
                    self.answer(404, {"error": "unknown path"})  # a replica without metadata
                else:
                    self.answer(404, {"error": {"code": "not_found", "message": "no serving instance named it"}})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.requests.append(("POST", self.path, self.headers.get("Authorization"), body))
                x = body["inputs"][0]
                if x["datatype"] != "FP32" or len(x["data"]) != 13 * x["shape"][0]:
                    self.answer(400, {"error": f"input 'x': {len(x['data'])} values, the shape needs 13 per row"})
                    return
                rows = x["shape"][0]
                sums = [sum(x["data"][r * 13:(r + 1) * 13]) for r in range(rows)]
                self.answer(200, {"model_name": "fit", "outputs": [
                    {"name": "y", "shape": [rows, 1], "datatype": "FP32", "data": sums}]})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class PredictThroughTheGateway(unittest.TestCase):
    def setUp(self):
        self.gateway = ScriptedGateway()
        self.addCleanup(self.gateway.close)
        self.client = Client(self.gateway.url, token="t0ken")

    def test_predict_by_name_reads_the_instance_and_its_metadata_and_sends_the_declared_datatype(self):
        answer = predict("fit", {"x": [[1] * 13, [2] * 13]}, client=self.client)
        y = answer["y"]
        self.assertEqual(y.tolist() if np is not None else y, [[13.0], [26.0]])
        if np is not None:
            self.assertEqual((y.shape, y.dtype), ((2, 1), np.float32))
        paths = [(method, path) for method, path, _, _ in self.gateway.requests]
        self.assertEqual(paths, [("GET", "/api/v1/serving/fit"), ("GET", "/serving/lab/fit/v2/models/fit"),
                                 ("POST", "/serving/lab/fit/v2/models/fit/infer")])
        self.assertTrue(all(auth == "Bearer t0ken" for _, _, auth, _ in self.gateway.requests))
        self.assertEqual(self.gateway.requests[-1][3]["inputs"][0]["datatype"], "FP32")

    def test_account_slash_name_goes_straight_to_the_gateway_and_metadata_is_read_once(self):
        predict("lab/fit", {"x": [[0.5] * 13]}, client=self.client)
        self.assertNotIn("/api/v1/serving/fit", [path for _, path, _, _ in self.gateway.requests])
        fit = Serving(self.client, {"name": "fit", "infer_url": "/serving/lab/fit/v2/models/fit/infer"})
        for _ in range(3):
            fit.predict({"x": [[0.5] * 13]})
        metadata_reads = [p for _, p, _, _ in self.gateway.requests if p == "/serving/lab/fit/v2/models/fit"]
        self.assertEqual(len(metadata_reads), 2)  # one for predict(), one for the Serving used three times

    def test_the_models_refusal_is_an_api_error_with_its_message(self):
        with self.assertRaises(ApiError) as caught:
            predict("fit", {"x": [[1.0] * 12]}, client=self.client)
        self.assertEqual((caught.exception.status, caught.exception.code), (400, "inference_error"))
        self.assertEqual(caught.exception.message, "input 'x': 12 values, the shape needs 13 per row")

    def test_an_unknown_instance_is_the_apis_404(self):
        with self.assertRaises(ApiError) as caught:
            predict("gone", {"x": [[1.0] * 13]}, client=self.client)
        self.assertEqual((caught.exception.status, caught.exception.code), (404, "not_found"))

    def test_a_model_without_metadata_sends_the_values_own_datatypes(self):
        other = Serving(self.client, {"name": "raw", "infer_url": "/serving/lab/raw/v2/models/raw/infer"})
        self.assertEqual(other.metadata(), {})
        self.assertEqual(infer_request({"x": [[1.0] * 13]}, None, other.metadata())["inputs"][0]["datatype"], "FP32")


if __name__ == "__main__":
    unittest.main()
