#!/usr/bin/env python3
"""Authenticated requests: GET /api/v1/me with a Bearer token against the unauthenticated
GET /api/v1/version, wrk on both in the same run, reported as a ratio (target >= 0.8).

Usage: python3 bench/auth_bench.py BUILD_DIR
  env: BENCH_AUTH_SECONDS  wrk duration per endpoint (default 10); wrk: 2 threads, 64 connections.
The server and its sign-up come from jobs_bench.Bench (fresh data dir under a temp dir, loopback).
"""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jobs_bench  # noqa: E402

TARGET = 0.8


def wrk(url, seconds, header=None):
    args = ["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency", url]
    if header:
        args[1:1] = ["-H", header]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non2xx:
        raise jobs_bench.BenchError(f"{url}: {non2xx.group(1)} answers were not 2xx")
    return rps


def main(argv):
    if len(argv) != 2:
        print(f"usage: {argv[0]} BUILD_DIR", file=sys.stderr)
        return 2
    seconds = jobs_bench.env_int("BENCH_AUTH_SECONDS", 10)
    bench = jobs_bench.Bench(os.path.abspath(argv[1]))
    try:
        bench.tmp = tempfile.mkdtemp(prefix="auth_bench.", dir=os.environ.get("TMPDIR") or None)
        bench.data = os.path.join(bench.tmp, "data")
        os.makedirs(bench.data)
        bench.start_server()
        bench.sign_up()
        base = f"http://{bench.api.host}:{bench.api.port}"
        version = wrk(base + "/api/v1/version", seconds)
        me = wrk(base + "/api/v1/me", seconds, "Authorization: Bearer " + bench.token)
        ratio = me / version
        print(f"\nAuthenticated requests: {bench.binary}, wrk -t2 -c64 -d{seconds}s, loopback, 2 shared cores")
        print(f"GET /api/v1/version (no auth)       {version:10.0f} req/s")
        print(f"GET /api/v1/me (Bearer token)       {me:10.0f} req/s")
        print(f"ratio me/version                    {ratio:10.2f}   target >= {TARGET}  "
              f"{'PASS' if ratio >= TARGET else 'BELOW'}")
        return 0
    except jobs_bench.BenchError as e:
        jobs_bench.log(f"error: {e}")
        return 1
    finally:
        bench.cleanup()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
