#!/usr/bin/env python3
"""Model server benchmark: requests/s of paddlecloud-model-server on the fit-a-line ONNX model vs a
plain Python HTTP server (stdlib ThreadingHTTPServer + numpy) computing the same model and speaking
the same v2 infer JSON, side by side in one run, both measured with wrk on loopback.

Usage: bench/model_server_bench.py BUILD_DIR     (BUILD_DIR holds paddlecloud-model-server)
  env: BENCH_DURATION seconds per wrk run (default 10), BENCH_CONNS (default 16),
       BENCH_THREADS wrk threads (default 2), BENCH_SERVER_THREADS --threads of the C++ server (default 2)

The model (x[-1,13] -> x @ linspace(-1,1,13) + 0.5) is built by src/model_server/make_test_models.py
with Debian's python3-onnx; each server's answer to the benchmark request is checked before it is
timed. The request is one row (the usual online-inference call). wrk shares the machine's cores with
the server under test. Prints req/s and latency of each and the ratio C++ / Python.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wrk_post  # noqa: E402  (wrk with a POST body, shared with serving_bench.py)

HERE = os.path.dirname(os.path.abspath(__file__))
GENERATOR = os.path.join(HERE, "..", "src", "model_server", "make_test_models.py")
# Debian's interpreter has python3-onnx and python3-numpy; another python3 on PATH may not.
SYSTEM_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
ROW = [0.5 * i - 3 for i in range(13)]
REQUEST = {"inputs": [{"name": "x", "shape": [1, 13], "datatype": "FP32", "data": ROW}]}
EXPECTED_Y = sum(x * (-1 + i / 6) for i, x in enumerate(ROW)) + 0.5

PYTHON_SERVER = r'''
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import numpy as np

W = np.linspace(-1.0, 1.0, 13, dtype=np.float32).reshape(13, 1)
B = np.array([0.5], dtype=np.float32)

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else headers and body in two writes meet delayed ACKs (40 ms)
    def log_message(self, *args):
        pass
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        tensor = body["inputs"][0]
        x = np.asarray(tensor["data"], dtype=np.float32).reshape(tensor["shape"])
        y = x @ W + B
        out = json.dumps({"model_name": "fit", "outputs": [{"name": "y", "shape": list(y.shape),
                          "datatype": "FP32", "data": y.ravel().tolist()}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
server.handle_error = lambda request, address: None  # wrk's connections reset at the end
print("ready on 127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()
'''


def start(command):
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    match = re.search(r"ready on (\S+)", line)
    if not match:
        process.kill()
        sys.exit("model_server_bench: %s did not start: %r" % (command[0], line))
    return process, match.group(1)


def check_answer(address):
    request = urllib.request.Request("http://%s/v2/models/fit/infer" % address, json.dumps(REQUEST).encode(),
                                     {"Content-Type": "application/json"})
    y = json.load(urllib.request.urlopen(request, timeout=10))["outputs"][0]["data"][0]
    if abs(y - EXPECTED_Y) > 1e-5:
        sys.exit("model_server_bench: %s answered %r, expected %r" % (address, y, EXPECTED_Y))


def wrk(address, work_dir):
    script = wrk_post.write_script(os.path.join(work_dir, "post.lua"), REQUEST)
    try:
        r = wrk_post.run("http://%s/v2/models/fit/infer" % address, script, int(os.environ.get("BENCH_CONNS", "16")),
                         int(os.environ.get("BENCH_DURATION", "10")), int(os.environ.get("BENCH_THREADS", "2")))
    except wrk_post.WrkError as e:
        sys.exit("model_server_bench: %s" % e)
    return r["rps"], "%.2fms" % (r["p50"] * 1e3), "%.2fms" % (r["p99"] * 1e3)


def measure(command, work_dir):
    process, address = start(command)
    try:
        check_answer(address)
        return wrk(address, work_dir)
    finally:
        process.terminate()
        process.wait()


def main():
    build_dir = sys.argv[1] if len(sys.argv) > 1 else "build"
    with tempfile.TemporaryDirectory() as work_dir:
        subprocess.run([SYSTEM_PYTHON, GENERATOR, work_dir], check=True)
        cpp = measure([os.path.join(build_dir, "paddlecloud-model-server"), "--model",
                       os.path.join(work_dir, "fit_a_line.onnx"), "--name", "fit", "--port", "0",
                       "--threads", os.environ.get("BENCH_SERVER_THREADS", "2")], work_dir)
        server_py = os.path.join(work_dir, "python_server.py")
        with open(server_py, "w") as f:
            f.write(PYTHON_SERVER)
        python = measure([SYSTEM_PYTHON, server_py], work_dir)
    print("model_server_bench: fit-a-line infer, 1 row, %s connections" % os.environ.get("BENCH_CONNS", "16"))
    print("  paddlecloud-model-server  %9.0f req/s  p50 %s  p99 %s" % cpp)
    print("  python stdlib + numpy     %9.0f req/s  p50 %s  p99 %s" % python)
    print("  ratio C++ / Python        %9.1fx" % (cpp[0] / python[0]))


if __name__ == "__main__":
    main()
