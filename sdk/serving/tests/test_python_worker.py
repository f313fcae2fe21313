"""The Python serving runtime, run as a real subprocess on a free loopback port with temporary model
folders. Run: /usr/bin/python3 -m unittest discover -s sdk/serving/tests (numpy is needed)."""
import http.client
import json
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WORKER = os.path.join(ROOT, "serving", "paddlecloud_python_worker.py")
DOCS = os.path.join(os.path.dirname(ROOT), "docs", "serving.md")
DEADLINE = 20.0
# The worker must keep the model folder clean by itself, whatever the caller's environment says.
WORKER_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

# Inputs of every datatype family; "boom" in text makes predict raise.
KITCHEN_MODEL = """
import numpy as np

INPUTS = [{"name": "a", "datatype": "INT32", "shape": [-1, 2]},
          {"name": "flag", "datatype": "BOOL", "shape": [-1]},
          {"name": "text", "datatype": "BYTES", "shape": [-1]}]
OUTPUTS = [{"name": "sum", "datatype": "INT64", "shape": [-1]},
           {"name": "not", "datatype": "BOOL", "shape": [-1]},
           {"name": "upper", "datatype": "BYTES", "shape": [-1]}]


def predict(inputs):
    if any("boom" in t for t in inputs["text"]):
        raise ValueError("boom: the text asked for it")
    return {"sum": inputs["a"].sum(axis=1), "not": ~inputs["flag"],
            "upper": np.array([t.upper() for t in inputs["text"]], dtype=object)}
"""

# Two predict calls meet at the barrier only if they run at the same time; a call alone gives up
# after the timeout (the only way to see that calls never overlap is to wait a bounded time).
BARRIER_MODEL = """
import threading
INPUTS = [{"name": "x", "datatype": "INT64", "shape": [1]}]
OUTPUTS = [{"name": "met", "datatype": "BOOL", "shape": [1]}]
%s
barrier = threading.Barrier(%d, timeout=%s)

def predict(inputs):
    try:
        barrier.wait()
        return [True]
    except threading.BrokenBarrierError:
        return [False]
"""

# The KServe documentation's sklearn iris model, served with the protocol's documented names.
IRIS_MODEL = """
import numpy as np

INPUTS = [{"name": "input-0", "datatype": "FP32", "shape": [-1, 4]}]
OUTPUTS = [{"name": "output-0", "datatype": "INT32", "shape": [-1]}]


def predict(inputs):
    petal_length = inputs["input-0"][:, 2]
    return np.where(petal_length < 2.5, 0, np.where(petal_length < 4.95, 1, 2))
"""

# KServe's documented v2 request for its sklearn iris example and the answer's shape
# (docs: "Deploy Scikit-learn models with InferenceService", the v2 protocol).
KSERVE_V2_REQUEST = """{
  "inputs": [
    {
      "name": "input-0",
      "shape": [2, 4],
      "datatype": "FP32",
      "data": [
        [6.8, 2.8, 4.8, 1.4],
        [6.0, 3.4, 4.5, 1.6]
      ]
    }
  ]
}"""


def docs_example_model():
    """The complete example model.py of docs/serving.md, so the documented model is the tested one."""
    with open(DOCS, encoding="utf-8") as f:
        text = f.read()
    section = text[text.index("## Python runtime"):]
    match = re.search(r"```python\n(# model\.py\n.*?)```", section, re.S)
    return match.group(1)


class Worker:
    """The worker as a subprocess; stdout lines are read as they come to wait for its events."""

    def __init__(self, model_source, name="m", args=(), files=None):
        self.tmp = tempfile.TemporaryDirectory(prefix="pyworker.")
        self.model_dir = os.path.join(self.tmp.name, "model")
        os.makedirs(self.model_dir)
        with open(os.path.join(self.model_dir, "model.py"), "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(model_source))
        for file_name, write in (files or {}).items():
            write(os.path.join(self.model_dir, file_name))
        self.name = name
        self.stderr_path = os.path.join(self.tmp.name, "stderr")
        self.stderr_file = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, WORKER, "--model-dir", self.model_dir, "--name", name, "--port", "0"]
            + list(args), stdout=subprocess.PIPE, stderr=self.stderr_file, env=WORKER_ENV)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)
        self.pending = b""
        self.port = None

    def wait_line(self, pattern):
        """The first stdout line matching pattern (a regex), within the deadline; None if the worker
        exited first."""
        deadline = time.monotonic() + DEADLINE
        while True:
            while b"\n" in self.pending:
                line, self.pending = self.pending.split(b"\n", 1)
                match = re.search(pattern, line.decode())
                if match:
                    return match
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"worker never printed {pattern!r}; stderr: {self.stderr()}")
            if self.selector.select(left):
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    return None
                self.pending += chunk

    def start(self):
        self.port = int(self.wait_line(r"listening on http://[\d.]+:(\d+)").group(1))
        return self

    def wait_ready(self):
        if self.wait_line(r"is ready") is None:
            raise AssertionError(f"worker exited: {self.stderr()}")
        return self

    def stderr(self):
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def connect(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=DEADLINE)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self.selector.close()
        self.stderr_file.close()
        self.tmp.cleanup()


def call(conn, method, path, body=None):
    """(status, parsed JSON) over a kept-alive connection."""
    payload = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
    conn.request(method, path, body=payload, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    return response.status, json.loads(data)


def tensor(name, shape, datatype, data):
    return {"name": name, "shape": shape, "datatype": datatype, "data": data}


def write_weights(weights):
    return {"weights.npy": lambda path: np.save(path, weights)}


def raw_exchange(port, request_bytes):
    """Send bytes on a fresh socket and read the answer until the server closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as s:
        s.sendall(request_bytes)
        answer = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            answer += chunk
    return answer


class FitALineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        rng = np.random.default_rng(7)
        cls.weights = rng.normal(size=14)
        cls.worker = Worker(docs_example_model(), name="fit_a_line",
                            files=write_weights(cls.weights)).start().wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.worker.stop()

    def setUp(self):
        self.conn = self.worker.connect()

    def tearDown(self):
        self.conn.close()

    def infer(self, body, model="fit_a_line"):
        return call(self.conn, "POST", f"/v2/models/{model}/infer", body)

    def expected(self, x):
        w = self.weights[:13].reshape(13, 1)
        return x.astype(np.float32) @ w + self.weights[13]

    def test_predicts_what_numpy_computes(self):
        x = np.random.default_rng(1).normal(size=(32, 13))
        status, answer = self.infer({"id": "r1", "inputs": [tensor("x", [32, 13], "FP32", x.ravel().tolist())]})
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["model_name"], "fit_a_line")
        self.assertEqual(answer["id"], "r1")
        [out] = answer["outputs"]
        self.assertEqual((out["name"], out["shape"], out["datatype"]), ("y", [32, 1], "FP32"))
        np.testing.assert_allclose(np.array(out["data"]).reshape(32, 1), self.expected(x), rtol=1e-5, atol=1e-5)
        status, nested = self.infer({"inputs": [tensor("x", [32, 13], "FP32", x.tolist())]})
        self.assertEqual(nested["outputs"], answer["outputs"])
        self.assertNotIn("id", nested)

    def test_metadata(self):
        status, meta = call(self.conn, "GET", "/v2/models/fit_a_line")
        self.assertEqual(status, 200)
        self.assertEqual(meta, {"name": "fit_a_line", "versions": ["1"], "platform": "python",
                                "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 13]}],
                                "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 1]}]})
        self.assertEqual(call(self.conn, "GET", "/v2/models/fit_a_line/versions/1")[1], meta)
        self.assertEqual(call(self.conn, "GET", "/v2/models/fit%5Fa%5Fline")[1], meta)
        self.assertEqual(call(self.conn, "GET", "/v2/models/fit_a_line/ready"),
                         (200, {"name": "fit_a_line", "ready": True}))
        self.assertEqual(call(self.conn, "GET", "/v2/health/live"), (200, {"live": True}))
        self.assertEqual(call(self.conn, "GET", "/v2/health/ready"), (200, {"ready": True}))
        status, server = call(self.conn, "GET", "/v2")
        self.assertEqual((status, server["name"]), (200, "paddlecloud-python-worker"))

    def test_keep_alive_reuses_one_connection(self):
        x = [0.5] * 13
        call(self.conn, "GET", "/v2/health/live")
        sock = self.conn.sock
        for _ in range(5):
            status, _ = self.infer({"inputs": [tensor("x", [1, 13], "FP32", x)]})
            self.assertEqual(status, 200)
            self.assertIs(self.conn.sock, sock)

    def test_bad_tensors_answer_400_naming_the_problem(self):
        good = [0.0] * 13
        cases = [
            ({"inputs": [tensor("z", [1, 13], "FP32", good)]}, "'z': the model has no such input"),
            ({"inputs": []}, "non-empty list"),
            ({"outputs": []}, "non-empty list"),
            ({"inputs": [tensor("x", [1, 13], "FP32", good), tensor("x", [1, 13], "FP32", good)]},
             "'x' is given twice"),
            ({"inputs": [tensor("x", [2, 13], "FP32", good)]}, "shape [2,13] holds 26 values, data has 13"),
            ({"inputs": [tensor("x", [1, 12], "FP32", good[:12])]},
             "shape [1,12] does not match the model's [-1,13]"),
            ({"inputs": [tensor("x", [13], "FP32", good)]}, "shape [13] does not match the model's [-1,13]"),
            ({"inputs": [tensor("x", [1, 13], "FP64", good)]}, "datatype 'FP64' does not match the model's FP32"),
            ({"inputs": [tensor("x", [1, 13], "FP32", good[:12] + ["abc"])]},
             "FP32 data must be numbers, found a string"),
            ({"inputs": [tensor("x", [1, 13], "FP32", good[:12] + [None])]}, "must be numbers, found null"),
            ({"inputs": [tensor("x", [1, -13], "FP32", good)]}, "\"shape\" must be a list of sizes"),
            ({"inputs": [{"name": "x", "shape": [1, 13], "datatype": "FP32"}]}, "\"data\" is missing"),
            ({"inputs": [tensor("x", [1, 13], "FP32", good)], "outputs": [{"name": "q"}]},
             "output 'q': the model has no such output"),
            ([1, 2], "must be a JSON object"),
        ]
        for body, message in cases:
            with self.subTest(message=message):
                status, answer = self.infer(body)
                self.assertEqual(status, 400, answer)
                self.assertIn(message, answer["error"])
        status, answer = self.infer(b"{not json")
        self.assertEqual(status, 400)
        self.assertIn("not JSON", answer["error"])
        status, _ = self.infer({"inputs": [tensor("x", [1, 13], "FP32", good)]})
        self.assertEqual(status, 200, "the worker keeps serving on the same connection")

    def test_other_model_path_or_method(self):
        body = {"inputs": [tensor("x", [1, 13], "FP32", [0.0] * 13)]}
        status, answer = self.infer(body, model="other")
        self.assertEqual(status, 404)
        self.assertIn("'other' is not served here", answer["error"])
        self.assertEqual(call(self.conn, "GET", "/v2/models/other")[0], 404)
        self.assertEqual(call(self.conn, "GET", "/v2/models/fit_a_line/versions/2")[0], 404)
        self.assertEqual(call(self.conn, "GET", "/v2/nothing")[0], 404)
        self.assertEqual(call(self.conn, "GET", "/v2/models/fit_a_line/infer")[0], 405)
        self.assertEqual(call(self.conn, "POST", "/v2/models/fit_a_line/ready", b"{}")[0], 405)
        self.assertEqual(self.infer(body)[0], 200)

    def test_post_without_content_length_is_refused(self):
        answer = raw_exchange(self.worker.port, b"POST /v2/models/fit_a_line/infer HTTP/1.1\r\n"
                              b"Host: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        self.assertTrue(answer.startswith(b"HTTP/1.1 411 "), answer)

    def test_malformed_requests_answer_json(self):
        for request, status in ((b"GET /v2 bad syntax HTTP/1.1\r\n\r\n", b"400"),
                                (b"DELETE /v2/models/fit_a_line HTTP/1.1\r\nHost: x\r\n\r\n", b"501")):
            with self.subTest(status=status):
                head, _, body = raw_exchange(self.worker.port, request).partition(b"\r\n\r\n")
                self.assertTrue(head.startswith(b"HTTP/1.1 " + status), head)
                self.assertIn(b"Content-Type: application/json", head)
                self.assertIn("error", json.loads(body))

    def test_100_megabyte_body_is_refused_unread(self):
        head = (b"POST /v2/models/fit_a_line/infer HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100000000\r\n")
        # Not one byte of the body is sent: the answer can only come from Content-Length.
        answer = raw_exchange(self.worker.port, head + b"\r\n")
        self.assertTrue(answer.startswith(b"HTTP/1.1 413 "), answer)
        self.assertIn(b'{"error":"the request body is over 67108864 bytes"}', answer)
        # A client that asks first never gets a 100 Continue.
        answer = raw_exchange(self.worker.port, head + b"Expect: 100-continue\r\n\r\n")
        self.assertTrue(answer.startswith(b"HTTP/1.1 413 "), answer)
        # A client already sending the body still reads the answer.
        answer = raw_exchange(self.worker.port, head + b"\r\n" + b"[" * (1 << 20))
        self.assertTrue(answer.startswith(b"HTTP/1.1 413 "), answer)
        # So does one that sends all of it before reading (Python's http.client, requests).
        status, answer = self.infer(b"[" * 100_000_000)
        self.assertEqual(status, 413)
        self.assertIn("over 67108864 bytes", answer["error"])

    def test_concurrent_clients(self):
        errors = []

        def client(seed):
            conn = self.worker.connect()
            try:
                rng = np.random.default_rng(seed)
                for _ in range(20):
                    x = rng.normal(size=(4, 13))
                    status, answer = call(conn, "POST", "/v2/models/fit_a_line/infer",
                                          {"inputs": [tensor("x", [4, 13], "FP32", x.tolist())]})
                    got = np.array(answer["outputs"][0]["data"]).reshape(4, 1) if status == 200 else None
                    if got is None or not np.allclose(got, self.expected(x), rtol=1e-5, atol=1e-5):
                        errors.append((seed, status, answer))
            except Exception as e:  # noqa: BLE001 - reported by the assertion below
                errors.append((seed, repr(e)))
            finally:
                conn.close()

        threads = [threading.Thread(target=client, args=(seed,)) for seed in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(DEADLINE)
        self.assertEqual(errors, [])


class KitchenTest(unittest.TestCase):
    """Every datatype family, predict raising, serialized predict calls."""

    @classmethod
    def setUpClass(cls):
        cls.worker = Worker(KITCHEN_MODEL, name="kitchen").start().wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.worker.stop()

    def setUp(self):
        self.conn = self.worker.connect()

    def tearDown(self):
        self.conn.close()

    def infer(self, a, flag, text, outputs=None):
        body = {"inputs": [tensor("a", [len(a), 2], "INT32", a), tensor("flag", [len(flag)], "BOOL", flag),
                           tensor("text", [len(text)], "BYTES", text)]}
        if outputs:
            body["outputs"] = [{"name": n} for n in outputs]
        return call(self.conn, "POST", "/v2/models/kitchen/infer", body)

    def test_every_datatype_family_and_bytes_round_trip(self):
        status, answer = self.infer([[1, 2], [3, -4], [2**31 - 1, 0]], [True, False, True],
                                    ["héllo", "", "日本 ok"])
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["outputs"], [
            {"name": "sum", "shape": [3], "datatype": "INT64", "data": [3, -1, 2**31 - 1]},
            {"name": "not", "shape": [3], "datatype": "BOOL", "data": [False, True, False]},
            {"name": "upper", "shape": [3], "datatype": "BYTES", "data": ["HÉLLO", "", "日本 OK"]}])

    def test_requested_outputs_in_their_order(self):
        status, answer = self.infer([[1, 1]], [False], ["a"], outputs=["upper", "sum"])
        self.assertEqual(status, 200, answer)
        self.assertEqual([o["name"] for o in answer["outputs"]], ["upper", "sum"])

    def test_bad_datatype_values(self):
        cases = [
            (([[1, 2.5]], [True], ["a"]), "INT32 data must be integers, found a number"),
            (([[1, 2**40]], [True], ["a"]), "outside INT32's range"),
            (([[1, True]], [True], ["a"]), "must be integers, found a boolean"),
            (([[1, 2]], [1], ["a"]), "BOOL data must be true or false, found an integer"),
            (([[1, 2]], [True], [3]), "BYTES data must be strings, found an integer"),
        ]
        for args, message in cases:
            with self.subTest(message=message):
                status, answer = self.infer(*args)
                self.assertEqual(status, 400, answer)
                self.assertIn(message, answer["error"])
        status, answer = call(self.conn, "POST", "/v2/models/kitchen/infer",
                              {"inputs": [tensor("a", [1, 2], "INT32", [1, 2])]})
        self.assertEqual(status, 400)
        self.assertIn("input 'flag' is missing", answer["error"])

    def test_predict_raising_answers_500_and_keeps_serving(self):
        status, answer = self.infer([[1, 2]], [True], ["boom"])
        self.assertEqual((status, answer), (500, {"error": "ValueError: boom: the text asked for it"}))
        self.assertIn("Traceback", self.worker.stderr())
        status, answer = self.infer([[1, 2]], [True], ["fine"])
        self.assertEqual(status, 200, answer)

class LifecycleTest(unittest.TestCase):
    def start(self, model, **kwargs):
        worker = Worker(model, **kwargs)
        self.addCleanup(worker.stop)
        return worker

    def test_ready_only_after_a_slow_load(self):
        model = """
            import os
            INPUTS = [{"name": "x", "datatype": "FP64", "shape": [1]}]
            OUTPUTS = [{"name": "y", "datatype": "FP64", "shape": [1]}]

            def load(model_dir):
                with open(os.path.join(model_dir, "go")) as f:   # a FIFO: blocks until the test writes
                    return float(f.read())

            def predict(state, inputs):
                return inputs["x"] * state
        """
        worker = self.start(model, files={"go": os.mkfifo})
        worker.start()
        conn = worker.connect()
        self.assertEqual(call(conn, "GET", "/v2/health/live"), (200, {"live": True}))
        self.assertEqual(call(conn, "GET", "/v2/health/ready"), (503, {"ready": False}))
        self.assertEqual(call(conn, "GET", "/v2/models/m/ready")[0], 503)
        body = {"inputs": [tensor("x", [1], "FP64", [2.0])]}
        status, answer = call(conn, "POST", "/v2/models/m/infer", body)
        self.assertEqual(status, 503)
        self.assertIn("loading", answer["error"])
        with open(os.path.join(worker.model_dir, "go"), "w") as f:
            f.write("3.5")
        worker.wait_ready()
        self.assertEqual(call(conn, "GET", "/v2/health/ready"), (200, {"ready": True}))
        self.assertEqual(call(conn, "GET", "/v2/models/m/ready")[0], 200)
        status, answer = call(conn, "POST", "/v2/models/m/infer", body)
        self.assertEqual((status, answer["outputs"][0]["data"]), (200, [7.0]))
        conn.close()

    def assert_exits_with(self, model, message):
        worker = self.start(model)
        worker.wait_line(r"listening on")
        self.assertIsNone(worker.wait_line(r"is ready"), "the worker must not become ready")
        self.assertNotEqual(worker.proc.wait(DEADLINE), 0)
        self.assertIn(message, worker.stderr())

    def test_load_raising_exits_non_zero_with_the_message(self):
        self.assert_exits_with("""
            INPUTS = [{"name": "x", "datatype": "FP32", "shape": [1]}]
            OUTPUTS = [{"name": "y", "datatype": "FP32", "shape": [1]}]
            def load(model_dir):
                raise RuntimeError("weights.npy is missing")
            def predict(inputs):
                return inputs["x"]
        """, "model.py failed to load: RuntimeError: weights.npy is missing")

    def test_bad_declarations_exit_non_zero(self):
        cases = [
            ('INPUTS = [{"name": "x", "datatype": "FLOAT", "shape": [1]}]\n'
             'OUTPUTS = [{"name": "y", "datatype": "FP32", "shape": [1]}]\ndef predict(i): pass\n',
             "INPUTS[0] (x): datatype 'FLOAT' is not one of"),
            ('INPUTS = [{"name": "x", "datatype": "FP32", "shape": [1]}]\ndef predict(i): pass\n',
             "OUTPUTS must be a non-empty list"),
            ('INPUTS = [{"name": "x", "datatype": "FP32", "shape": [-2]}]\n'
             'OUTPUTS = [{"name": "y", "datatype": "FP32", "shape": [1]}]\ndef predict(i): pass\n',
             "'shape' must be a list of sizes"),
            ('INPUTS = [{"name": "x", "datatype": "FP32", "shape": [1]}]\n'
             'OUTPUTS = [{"name": "y", "datatype": "FP32", "shape": [1]}]\n',
             "defines no predict"),
            ('def predict(:\n', "SyntaxError"),
        ]
        for model, message in cases:
            with self.subTest(message=message):
                self.assert_exits_with(model, message)

    def concurrent_predicts(self, model, clients, args=()):
        """Whether each of `clients` simultaneous requests met the others inside predict."""
        worker = self.start(model, args=args).start().wait_ready()
        results = []

        def client(i):
            conn = worker.connect()
            status, answer = call(conn, "POST", "/v2/models/m/infer",
                                  {"inputs": [tensor("x", [1], "INT64", [i])]})
            results.append(answer["outputs"][0]["data"][0] if status == 200 else answer)
            conn.close()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(DEADLINE)
        return results

    def test_predict_calls_are_serialized_by_default(self):
        results = self.concurrent_predicts(BARRIER_MODEL % ("", 2, "0.5"), 2, args=["--threads", "4"])
        self.assertEqual(results, [False, False])

    def test_thread_safe_model_runs_up_to_threads_predicts_at_once(self):
        results = self.concurrent_predicts(BARRIER_MODEL % ("THREAD_SAFE = True", 3, "10"), 3,
                                           args=["--threads", "3"])
        self.assertEqual(results, [True, True, True])

    def test_small_max_body(self):
        worker = self.start(IRIS_MODEL, args=["--max-body", "1000"]).start().wait_ready()
        conn = worker.connect()
        status, answer = call(conn, "POST", "/v2/models/m/infer", b" " * 2000)
        self.assertEqual(status, 413)
        self.assertIn("over 1000 bytes", answer["error"])

    def test_kserve_documented_request_gets_the_documented_answer(self):
        worker = self.start(IRIS_MODEL, name="sklearn-v2-iris").start().wait_ready()
        conn = worker.connect()
        conn.request("POST", "/v2/models/sklearn-v2-iris/infer", body=KSERVE_V2_REQUEST,
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        answer = json.loads(response.read())
        self.assertEqual(response.status, 200, answer)
        self.assertEqual(answer["model_name"], "sklearn-v2-iris")
        self.assertEqual(answer["outputs"], [{"name": "output-0", "shape": [2], "datatype": "INT32",
                                              "data": [1, 1]}])
        conn.close()

    def test_sigterm_during_a_slow_load_exits_at_once(self):
        worker = self.start(IRIS_MODEL.replace("def predict", "def load(d):\n    open(d + '/go').read()\n\n"
                                               "def predict"), files={"go": os.mkfifo}).start()
        self.assertEqual(call(worker.connect(), "GET", "/v2/health/ready")[0], 503)
        worker.proc.send_signal(signal.SIGTERM)
        self.assertEqual(worker.proc.wait(DEADLINE), 0)
        self.assertIn("stopped while loading the model", worker.stderr())

    def test_sigterm_exits_zero(self):
        worker = self.start(IRIS_MODEL).start().wait_ready()
        worker.proc.send_signal(signal.SIGTERM)
        self.assertEqual(worker.proc.wait(DEADLINE), 0)
        self.assertFalse(os.path.exists(os.path.join(worker.model_dir, "__pycache__")))


if __name__ == "__main__":
    unittest.main()
