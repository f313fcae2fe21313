#!/usr/bin/env python3
"""The Python serving runtime on the fit-a-line model of docs/serving.md: requests/s and latency of
POST /v2/models/fit_a_line/infer with wrk (keep-alive connections, 2 threads), one row and a batch
of 32 rows per request. The C++ ONNX server's bench runs the same requests for the comparison.

Usage: /usr/bin/python3 bench/python_worker_bench.py
  env: BENCH_PYWORKER_SECONDS  wrk duration per case (default 10)
       BENCH_PYWORKER_CONNS    wrk connections (default 16)
The worker runs with --threads 2 (THREAD_SAFE model), on 127.0.0.1, from a temporary folder.
"""
import json
import os
import re
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "sdk", "serving", "tests"))
import test_python_worker as harness  # noqa: E402 - the tests' worker launcher and docs example

LATENCY = re.compile(r"^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$", re.M)
UNIT_US = {"us": 1.0, "ms": 1e3, "s": 1e6}


def env_int(name, default):
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() else default


def infer_body(rows, rng):
    x = rng.normal(size=(rows, 13))
    return json.dumps({"inputs": [harness.tensor("x", [rows, 13], "FP32", x.ravel().tolist())]})


def wrk(url, body, seconds, conns, tmp):
    script = os.path.join(tmp, "post.lua")
    with open(script, "w") as f:
        f.write(f'wrk.method = "POST"\nwrk.body = [==[{body}]==]\n'
                'wrk.headers["Content-Type"] = "application/json"\n')
    args = ["wrk", f"-t{min(2, conns)}", f"-c{conns}", f"-d{seconds}s", "--latency", "-s", script, url]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non2xx:
        raise RuntimeError(f"{non2xx.group(1)} answers were not 200:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    latency = {p: float(v) * UNIT_US[u] / 1e3 for p, v, u in LATENCY.findall(out)}
    return rps, latency


def main():
    seconds = env_int("BENCH_PYWORKER_SECONDS", 10)
    conns = env_int("BENCH_PYWORKER_CONNS", 16)
    weights = np.random.default_rng(3).normal(size=14)
    worker = harness.Worker(harness.docs_example_model(), name="fit_a_line", args=["--threads", "2"],
                            files=harness.write_weights(weights)).start().wait_ready()
    try:
        url = f"http://127.0.0.1:{worker.port}/v2/models/fit_a_line/infer"
        rng = np.random.default_rng(5)
        print(f"\nPython serving runtime (paddlecloud_python_worker.py, {sys.executable}), fit-a-line, "
              f"wrk -t{min(2, conns)} -c{conns} -d{seconds}s keep-alive, loopback, 2 shared cores")
        for rows in (1, 32):
            rps, lat = wrk(url, infer_body(rows, rng), seconds, conns, worker.tmp.name)
            print(f"infer, {rows:2d} row(s) per request   {rps:8.0f} req/s   "
                  f"p50 {lat.get('50', float('nan')):6.2f} ms   p99 {lat.get('99', float('nan')):6.2f} ms")
        return 0
    finally:
        worker.stop()


if __name__ == "__main__":
    sys.exit(main())
