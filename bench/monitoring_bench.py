#!/usr/bin/env python3
"""Monitoring benchmark: what the usage sampler costs the server with 100 running pods, and a job's
usage query over HTTP.

Usage: python3 bench/monitoring_bench.py BUILD_DIR     (BUILD_DIR holds the Release binary `paddlecloud`)
  env: BENCH_MON_SECONDS      seconds the server's CPU time is measured in each phase (default 60)
       BENCH_MON_QUERY_ITERS  measured usage queries, after 5 warm-up ones            (default 200)
       BENCH_OUT_MONITORING   JSON result file          (default BUILD_DIR/bench-monitoring.json)

What it does (one temp dir, loopback only, cleaned up on exit):
  1. starts the server (usage_interval 5s), signs up, and submits 100 pods that sleep: one job of
     8 trainers + 4 pservers and 22 jobs of 4 trainers (10m CPU, 16Mi each);
  2. measures the server's CPU time (utime + stime of /proc/<pid>/stat) over BENCH_MON_SECONDS while
     they run, and reads the sampler's own pass time from /metrics;
  3. restarts the server on the same data dir with usage_interval 24h (the pods keep running and are
     re-adopted; the sampler makes one pass, then sleeps) and measures the same: the reference is
     the same server doing everything but sampling, so the difference is the sampler's cost;
  4. times GET /api/v1/jobs/{id}/usage over the last 24 h at 1,000 points of the 12-pod job (p50/p99,
     checked to answer 12 pods): the answer has its full size (12 pods x 10 metrics x 3 x 1,000
     values), though its series hold only the minutes of phase 2.
The store's own figures (24 h of a 12-pod job at 1,000 points, bytes per pod-day, downsampling
1,000,000 points) are measured by build/src/timeseries/series_bench, which `make bench` also runs.
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jobs_bench import Bench, BenchError, Interrupted, log, env_int, percentile, build_type  # noqa: E402

SAMPLER_TARGET_PERCENT = 1.0
QUERY_TARGET_MS = 5.0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric(bench, name):
    status, payload, _ = bench.api.raw("GET", "/metrics")
    for line in payload.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise BenchError(f"/metrics has no {name}")


def measure(bench, seconds):
    """CPU seconds the server spends per minute over `seconds` of wall time."""
    pid = bench.proc.pid
    c0, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    c1, t1 = cpu_seconds(pid), time.monotonic()
    return (c1 - c0) * 60.0 / (t1 - t0)


def submit_pods(bench):
    jobs = [bench.api.call("POST", "/api/v1/jobs", {
        "name": "wide", "entry": "exec sleep 3600", "num_trainer": 8, "cpu_per_trainer": "10m",
        "mem_per_trainer": "16Mi", "num_ps": 4, "cpu_per_ps": "10m", "mem_per_ps": "16Mi"}, expect=(201,))["id"]]
    for i in range(22):
        jobs.append(bench.api.call("POST", "/api/v1/jobs", {
            "name": f"narrow-{i}", "entry": "exec sleep 3600", "num_trainer": 4, "cpu_per_trainer": "10m",
            "mem_per_trainer": "16Mi"}, expect=(201,))["id"])
    deadline = time.monotonic() + 120
    while True:
        running = sum(sum(1 for p in bench.api.call("GET", f"/api/v1/jobs/{j}")["pods"] if p["phase"] == "Running")
                      for j in jobs)
        if running == 100:
            return jobs
        if time.monotonic() > deadline:
            raise BenchError(f"only {running} of 100 pods running after 120 s")
        time.sleep(0.5)


def bench_query(bench, job_id, iters):
    times = []
    for i in range(iters + 5):
        now = int(time.time() * 1000)
        status, payload, elapsed = bench.api.raw(
            "GET", f"/api/v1/jobs/{job_id}/usage?from={now - 86_400_000}&to={now}&points=1000")
        if status != 200 or payload.count(b'"role"') != 12:
            raise BenchError(f"usage query: HTTP {status}: {payload[:200]!r}")
        if i >= 5:
            times.append(elapsed * 1000)
    return times, len(payload)


def run(bench, out_path):
    seconds = env_int("BENCH_MON_SECONDS", 60)
    iters = env_int("BENCH_MON_QUERY_ITERS", 200)
    btype = build_type(bench.build_dir)
    import tempfile
    bench.tmp = tempfile.mkdtemp(prefix="monitoring_bench.", dir=os.environ.get("TMPDIR") or None)
    bench.data = os.path.join(bench.tmp, "data")
    os.makedirs(bench.data)
    bench.server_args = ["--usage-interval", "5s"]
    bench.start_server()
    bench.sign_up()
    jobs = submit_pods(bench)
    log(f"100 pods running in {len(jobs)} jobs; measuring the server with the sampler for {seconds} s")
    time.sleep(6)  # the first pass after the pods started
    sampling = measure(bench, seconds)
    pass_s = metric(bench, "paddlecloud_usage_sampler_pass_seconds")
    times, size = bench_query(bench, jobs[0], iters)  # on this server: its 5 s interval sets the buckets
    bench.stop_server()
    bench.server_args = ["--usage-interval", "24h"]
    bench.start_server()
    time.sleep(6)  # its one pass and the re-adoption of the pods
    log(f"measuring the same server without sampling for {seconds} s")
    reference = measure(bench, seconds)
    cost = sampling - reference
    rows = [
        ("server CPU s/min, sampling 100 pods every 5 s", f"{sampling:.3f}"),
        ("server CPU s/min, same pods, no sampling (reference)", f"{reference:.3f}"),
        ("sampler cost: CPU s/min (% of one core)", f"{cost:.3f} ({cost / 60 * 100:.2f} %)"),
        ("sampler pass over 100 pods (from /metrics), ms", f"{pass_s * 1000:.1f} "
         f"(x12/min = {pass_s * 12 / 60 * 100:.2f} % of one core)"),
        (f"usage query, 12-pod job, 24 h at 1000 points ({size // 1024} KiB), ms",
         f"p50 {statistics.median(times):.2f}  p99 {percentile(times, 99):.2f}"),
    ]
    print()
    print(f"Monitoring benchmark: {bench.binary} ({btype}), {os.cpu_count()} cores; "
          f"targets: sampler < {SAMPLER_TARGET_PERCENT:g} % of one core, query p99 < {QUERY_TARGET_MS:g} ms")
    for name, value in rows:
        print(f"{name:<62} {value}")
    import json
    with open(out_path, "w") as f:
        json.dump({"benchmark": "monitoring", "build_type": btype, "sampling_cpu_s_per_min": sampling,
                   "reference_cpu_s_per_min": reference, "sampler_percent_of_core": cost / 60 * 100,
                   "sampler_pass_ms": pass_s * 1000, "query_p50_ms": statistics.median(times),
                   "query_p99_ms": percentile(times, 99), "query_bytes": size}, f, indent=2)
    print(f"results: {out_path}")


def main(argv):
    if len(argv) != 2:
        print(f"usage: {argv[0]} BUILD_DIR", file=sys.stderr)
        return 2
    build_dir = os.path.abspath(argv[1])
    out_path = os.environ.get("BENCH_OUT_MONITORING") or os.path.join(build_dir, "bench-monitoring.json")
    bench = Bench(build_dir)
    rc = 0
    try:
        run(bench, out_path)
    except (KeyboardInterrupt, Interrupted):
        rc = 130
    except BenchError as e:
        log(f"error: {e}")
        rc = 1
    finally:
        bench.cleanup()
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
