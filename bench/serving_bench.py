#!/usr/bin/env python3
"""Serving benchmark: the platform's serving instances measured through its inference gateway,
side by side in one run (issue 14, docs/serving.md).

Usage: python3 bench/serving_bench.py BUILD_DIR     (BUILD_DIR holds paddlecloud, paddlecloud-model-server
                                                    and paddlecloud-pod-supervisor)
  env: BENCH_DURATION  seconds per measured wrk run (default 3)
       BENCH_WARMUP    seconds of warm-up at 64 connections before each path's runs (default 1)
       BENCH_LAUNCHES  launches per runtime for launch-to-ready; the median is reported (default 3)
       BENCH_ROUNDS    rounds of part 1, in alternating order; medians are reported (default 2)

It starts `paddlecloud server` on 127.0.0.1:0 in a temp data dir (bench/jobs_bench.py: sign-up
through the outbox, an API token), uploads the fit-a-line model twice — as ONNX (built by
src/model_server/make_test_models.py with Debian's python3-onnx) and as a Python model (model.py doing
x @ w + b with weights from weights.npy, the example of docs/serving.md) — and launches instances of
both, every replica with 500m CPU and 256Mi. Requests are one row, checked once per path before wrk
(a Lua script POSTs the body; Bearer token on the gateway) times it; wrk runs on the same two cores.
  1. gateway vs direct, ONNX, 1 replica: p50 at 1 connection, req/s at 16 and 64 connections through
     /serving/<account>/fit/v2/models/fit/infer vs the replica's endpoint (the local backend's inward
     relay into the replica's network, found among the server's listening sockets; or its $PORT
     when replicas share the host's network), vs the replica from inside its network (nsenter, root
     only), and vs `paddlecloud-model-server` run standalone (2 threads, no CPU cap); also the CPU
     time the platform server (gateway and relays) spends per request. BENCH_ROUNDS rounds in
     alternating order, medians. Targets: p50 overhead <= 100 us, throughput >= 0.9x the replica's endpoint.
  2. req/s of the ONNX runtime vs the Python runtime, both 1 replica of 500m, through the gateway.
  3. launch to ready (POST /api/v1/serving until the instance reads "ready"), onnx and python.
  4. req/s at 64 connections with 1, 2 and 3 ONNX replicas, scaled 1 2 3 2 1 (means): the gain per
     added replica.
Prints a table and one line per ratio, writes BUILD_DIR/bench-serving.json. Targets are
informational: the exit status is 0 unless something failed to run.
"""
import glob
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jobs_bench  # noqa: E402  (the platform's server start-up, sign-up and API client)
import model_server_bench  # noqa: E402  (the fit-a-line request, its answer, the standalone server)
import wrk_post  # noqa: E402

CPU, MEMORY = "500m", "256Mi"
ONNX, PYTHON = "fit", "fitpy"  # the measured instances' names (also their models' names)
MNIST = "mnist"  # the MNIST-sized conv net: a model whose own work outweighs the hops
MNIST_REQUEST = {"inputs": [{"name": "image", "shape": [1, 1, 28, 28], "datatype": "FP32", "data": [0.5] * 784}]}
MODEL_PY = '''import os

import numpy as np

INPUTS = [{"name": "x", "datatype": "FP32", "shape": [-1, 13]}]
OUTPUTS = [{"name": "y", "datatype": "FP32", "shape": [-1, 1]}]
THREAD_SAFE = True


def load(model_dir):
    weights = np.load(os.path.join(model_dir, "weights.npy"))
    return weights[:13].reshape(13, 1), weights[13]


def predict(state, inputs):
    w, b = state
    return inputs["x"] @ w + b
'''
WRITE_WEIGHTS = ("import sys, numpy as np; np.save(sys.argv[1], np.concatenate("
                 "[np.linspace(-1, 1, 13), [0.5]]).astype(np.float32))")


class BenchError(Exception):
    pass


def log(msg):
    print(f"serving_bench: {msg}", file=sys.stderr, flush=True)


def http_call(host, port, method, path, body=None, headers=None, timeout=30):
    """(status, body bytes), or (None, b"") when nothing answers."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    except OSError:
        return None, b""
    finally:
        conn.close()


def check_answer(address, path, headers=None):
    status, body = http_call(*address.split(":"), "POST", path, json.dumps(model_server_bench.REQUEST),
                             dict(headers or {}, **{"Content-Type": "application/json"}))
    if status != 200:
        raise BenchError(f"POST {address}{path}: HTTP {status}: {body[:300]!r}")
    y = json.loads(body)["outputs"][0]["data"][0]
    if abs(y - model_server_bench.EXPECTED_Y) > 1e-4:
        raise BenchError(f"{address}{path} answered {y}, expected {model_server_bench.EXPECTED_Y}")


def cpu_seconds(pid):
    """User + system CPU time of a process (all its threads) so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()  # from the state on: utime and stime are the 12th and 13th
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def listening_ports(pid):
    """TCP ports a process listens on in its own network namespace (its sockets in /proc/<pid>/net/tcp)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            match = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
        if match:
            inodes.add(match.group(1))
    ports = []
    with open(f"/proc/{pid}/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.append(int(fields[1].split(":")[1], 16))
    return ports


class Platform:
    """`paddlecloud server` with one signed-up account, launching and scaling serving instances."""

    def __init__(self, build_dir, tmp):
        self.bench = jobs_bench.Bench(build_dir)
        self.bench.tmp = os.path.join(tmp, "platform")  # Bench.cleanup() removes it
        self.bench.data = os.path.join(self.bench.tmp, "data")
        self.instances = set()

    @property
    def api(self):
        return self.bench.api

    def change(self, method, path, body=None, expect=(200,)):
        """A call that changes something, on a fresh connection: the keep-alive one may have idled
        out during a measurement, and only GETs are retried."""
        self.api.close()
        return self.api.call(method, path, body, expect)

    def start(self):
        os.makedirs(self.bench.data)
        self.bench.start_server()
        status, payload, _ = self.api.raw("GET", "/api/v1/openapi.json")
        if status != 200 or b'"/api/v1/serving"' not in payload:
            raise BenchError(f"{self.bench.binary} has no serving API (/api/v1/serving): a stale build?")
        self.bench.sign_up()

    def upload(self, path, content):
        created = self.change("POST", "/api/v1/uploads", {"path": path, "size": len(content)}, expect=(201,))
        n = len(content)
        headers = {"Authorization": "Bearer " + self.bench.token, "Content-Range": f"bytes 0-{n - 1}/{n}"}
        status, body = http_call(self.api.host, self.api.port, "PUT", f"/api/v1/uploads/{created['id']}", content,
                                 headers)
        if status is None or status >= 300:
            raise BenchError(f"upload of {path}: HTTP {status}: {body[:300]!r}")

    def instance(self, name):
        return self.api.call("GET", f"/api/v1/serving/{name}")

    def wait_ready(self, name, replicas, timeout=120.0):
        deadline = time.monotonic() + timeout
        while True:
            instance = self.instance(name)
            if instance["state"] == "failed":
                raise BenchError(f"instance {name} failed: {instance['reason']}: {instance['message']}")
            if instance["state"] == "ready" and instance["replicas"]["ready"] == replicas:
                return
            if time.monotonic() > deadline:
                raise BenchError(f"instance {name} not ready within {timeout:.0f} s: {json.dumps(instance)}")
            time.sleep(0.01)

    def launch(self, name, model, runtime):
        """Seconds from sending the launch to seeing the instance ready."""
        t0 = time.monotonic()
        self.change("POST", "/api/v1/serving", {"name": name, "model": model, "runtime": runtime, "replicas": 1,
                                                  "cpu": CPU, "memory": MEMORY}, expect=(201,))
        self.instances.add(name)
        self.wait_ready(name, 1)
        return time.monotonic() - t0

    def scale(self, name, replicas):
        self.change("POST", f"/api/v1/serving/{name}/scale", {"replicas": replicas})
        self.wait_ready(name, replicas)

    def delete(self, name, timeout=60.0):
        self.change("DELETE", f"/api/v1/serving/{name}", expect=(204,))
        deadline = time.monotonic() + timeout
        while self.api.raw("GET", f"/api/v1/serving/{name}")[0] != 404:
            if time.monotonic() > deadline:
                raise BenchError(f"instance {name} still listed {timeout:.0f} s after DELETE")
            time.sleep(0.02)
        self.instances.discard(name)

    def gateway(self, name):
        """(address, path, headers) of `name`'s infer endpoint through the gateway."""
        return (f"{self.api.host}:{self.api.port}", f"/serving/{self.bench.account}/{name}/v2/models/{name}/infer",
                [f"Authorization: Bearer {self.bench.token}"])

    def replica_pod(self, name):
        """The pod.json of `name`'s only replica, as the local backend keeps it."""
        pattern = os.path.join(self.bench.data, "cluster", ".services", self.bench.account, f"serving-{name}",
                               "replicas", "*", "pod.json")
        found = glob.glob(pattern)
        if len(found) != 1:
            raise BenchError(f"expected one replica's pod.json at {pattern}, found {len(found)}")
        with open(found[0]) as f:
            return json.load(f)

    def replica_endpoints(self, name):
        """(address the gateway reaches the replica at, (keeper pid, $PORT) inside its network or None)."""
        pod = self.replica_pod(name)
        port = int(pod["env"]["PORT"])
        keeper = (pod.get("network") or {}).get("keeper_pid", 0)
        if not keeper:
            return f"127.0.0.1:{port}", None
        for candidate in listening_ports(self.bench.proc.pid):  # the inward relay is the server's socket
            if candidate != self.api.port and http_call("127.0.0.1", candidate, "GET", f"/v2/models/{name}/ready",
                                                         timeout=5)[0] == 200:
                return f"127.0.0.1:{candidate}", (keeper, port)
        raise BenchError(f"no listening socket of the server answers /v2/models/{name}/ready")

    def cleanup(self):
        for name in list(self.instances):
            try:
                self.delete(name, timeout=30)
            except Exception as e:  # noqa: BLE001 - Bench.cleanup() stops the supervisors instead
                log(f"clean-up: deleting {name}: {e}")
                break
        self.bench.cleanup()


class Run:
    def __init__(self, build_dir, tmp):
        self.build_dir, self.tmp = build_dir, tmp
        self.duration = jobs_bench.env_int("BENCH_DURATION", 3)
        self.warmup = jobs_bench.env_int("BENCH_WARMUP", 1, minimum=0)
        self.launches = jobs_bench.env_int("BENCH_LAUNCHES", 3)
        self.rounds = jobs_bench.env_int("BENCH_ROUNDS", 2)
        self.script = wrk_post.write_script(os.path.join(tmp, "infer.lua"), model_server_bench.REQUEST)
        self.platform = Platform(build_dir, tmp)
        self.onnx_file = None  # the fit-a-line .onnx, once prepare() made it
        self.standalone = None
        self.results = {}

    def wrk(self, address, path, conns, headers=(), prefix=()):
        return wrk_post.run(f"http://{address}{path}", self.script, conns, self.duration, headers=headers,
                            prefix=prefix)

    def measure(self, label, address, path, headers=(), prefix=()):
        """p50 at 1 connection, req/s at 16 and 64 after a warm-up at 64, and the CPU time the platform
        server (gateway and inward relays) spent per request at 64."""
        if self.warmup:
            wrk_post.run(f"http://{address}{path}", self.script, 64, self.warmup, headers=headers, prefix=prefix)
        one = self.wrk(address, path, 1, headers, prefix)
        sixteen = self.wrk(address, path, 16, headers, prefix)
        server = self.platform.bench.proc.pid
        cpu_before = cpu_seconds(server)
        sixty_four = self.wrk(address, path, 64, headers, prefix)
        figures = {"p50_1_us": one["p50"] * 1e6, "rps_16": sixteen["rps"], "rps_64": sixty_four["rps"],
                   "server_cpu_us_per_request": (cpu_seconds(server) - cpu_before) / sixty_four["requests"] * 1e6}
        log(f"{label}: p50 {figures['p50_1_us']:.0f} us at 1 connection, {figures['rps_16']:,.0f} req/s at 16, "
            f"{figures['rps_64']:,.0f} at 64 (server CPU {figures['server_cpu_us_per_request']:.0f} us/request)")
        return figures

    def prepare(self):
        models = os.path.join(self.tmp, "models")
        os.makedirs(models)
        subprocess.run([model_server_bench.SYSTEM_PYTHON, model_server_bench.GENERATOR, models], check=True)
        subprocess.run([model_server_bench.SYSTEM_PYTHON, "-c", WRITE_WEIGHTS, os.path.join(models, "weights.npy")],
                       check=True)
        self.onnx_file = os.path.join(models, "fit_a_line.onnx")
        self.platform.start()
        with open(self.onnx_file, "rb") as f:
            self.platform.upload("models/fit/model.onnx", f.read())
        with open(os.path.join(models, "weights.npy"), "rb") as f:
            self.platform.upload("models/fitpy/weights.npy", f.read())
        self.platform.upload("models/fitpy/model.py", MODEL_PY.encode())
        with open(os.path.join(models, "mnist.onnx"), "rb") as f:
            self.platform.upload("models/mnist/model.onnx", f.read())

    def part_launch(self):
        """3. Launch to ready; the first launch of each runtime stays up for the other parts."""
        times = {"onnx": [], "python": []}
        for i in range(self.launches):
            for runtime, model, name in (("onnx", "models/fit", ONNX), ("python", "models/fitpy", PYTHON)):
                name = name if i == 0 else f"{name}-{i}"
                times[runtime].append(self.platform.launch(name, model, runtime))
                log(f"launch to ready: {runtime} #{i + 1} {times[runtime][-1]:.2f} s")
                if i > 0:
                    self.platform.delete(name)
        self.results["launch_to_ready_s"] = times

    def part_gateway(self):
        """1. The gateway vs the ways straight to the replica, in BENCH_ROUNDS rounds of alternating
        order (A B C D, D C B A, ...) so that the machine's other load drifts onto all alike; medians."""
        address, path, headers = self.platform.gateway(ONNX)
        check_answer(address, path, {"Authorization": headers[0].split(": ", 1)[1]})
        replica, inside = self.platform.replica_endpoints(ONNX)
        direct = f"/v2/models/{ONNX}/infer"
        check_answer(replica, direct)
        paths = {"gateway": (address, path, headers, ()), "replica endpoint": (replica, direct, (), ())}
        if inside and os.geteuid() == 0 and shutil.which("nsenter"):
            paths["inside replica network"] = (f"127.0.0.1:{inside[1]}", direct, (),
                                               ("nsenter", f"--net=/proc/{inside[0]}/ns/net"))
        self.standalone, standalone = model_server_bench.start(
            [os.path.join(self.build_dir, "paddlecloud-model-server"), "--model", self.onnx_file, "--name", ONNX,
             "--port", "0", "--threads", "2"])
        check_answer(standalone, direct)
        paths["standalone model server"] = (standalone, direct, (), ())
        samples = {label: [] for label in paths}
        for r in range(self.rounds):
            for label in (list(paths) if r % 2 == 0 else reversed(paths)):
                samples[label].append(self.measure(f"{label} (round {r + 1})", *paths[label]))
        self.standalone.terminate()
        self.standalone.wait()
        self.standalone = None
        self.results["gateway_vs_direct"] = {
            label: {key: statistics.median(f[key] for f in figures) for key in figures[0]}
            for label, figures in samples.items()}

    def part_heavier_model(self):
        """1b. Gateway vs the replica's endpoint for the MNIST-sized net: a fixed cost per request
        weighs less when the model itself works longer."""
        self.platform.launch(MNIST, "models/mnist", "onnx")
        address, path, headers = self.platform.gateway(MNIST)
        replica, _ = self.platform.replica_endpoints(MNIST)
        saved, self.script = self.script, wrk_post.write_script(os.path.join(self.tmp, "mnist.lua"), MNIST_REQUEST)
        try:
            self.results["mnist"] = {
                "gateway": self.measure("mnist via gateway", address, path, headers),
                "replica endpoint": self.measure("mnist at the replica's endpoint", replica,
                                                 f"/v2/models/{MNIST}/infer")}
        finally:
            self.script = saved
        self.platform.delete(MNIST)

    def part_runtimes(self):
        """2. The Python runtime through the gateway (the ONNX one was measured in part 1)."""
        address, path, headers = self.platform.gateway(PYTHON)
        check_answer(address, path, {"Authorization": headers[0].split(": ", 1)[1]})
        self.results["python_gateway"] = self.measure("python runtime via gateway", address, path, headers)
        self.platform.delete(PYTHON)

    def part_replicas(self):
        """4. req/s at 64 connections with 1, 2 and 3 replicas, scaling up and back down (1 2 3 2 1):
        the mean of each count's runs."""
        address, path, headers = self.platform.gateway(ONNX)
        samples = {1: [], 2: [], 3: []}
        for replicas in (1, 2, 3, 2, 1):
            self.platform.scale(ONNX, replicas)
            wrk_post.run(f"http://{address}{path}", self.script, 64, max(self.warmup, 1), headers=headers)
            samples[replicas].append(self.wrk(address, path, 64, headers)["rps"])
            log(f"{replicas} replicas: {samples[replicas][-1]:,.0f} req/s at 64 connections")
        self.results["replicas_rps_64"] = {n: statistics.mean(rates) for n, rates in samples.items()}

    def report(self):
        r = self.results
        paths = r["gateway_vs_direct"]
        gw, replica = paths["gateway"], paths["replica endpoint"]
        print(f"\n1. gateway vs direct: fit_a_line ONNX, 1 replica ({CPU} CPU), {self.duration} s per wrk run")
        print(f"  {'path':<34} {'p50 @1 conn':>12} {'req/s @16':>11} {'req/s @64':>11}   server CPU/request @64")
        for label, f in paths.items():
            print(f"  {label:<34} {f['p50_1_us']:>9.0f} us {f['rps_16']:>11,.0f} {f['rps_64']:>11,.0f}   "
                  f"{f['server_cpu_us_per_request']:>6.0f} us")
        overhead = gw["p50_1_us"] - replica["p50_1_us"]
        ratio16, ratio64 = gw["rps_16"] / replica["rps_16"], gw["rps_64"] / replica["rps_64"]
        mnist = r["mnist"]
        print(f"\n1b. the same for the MNIST-sized conv net (Conv/Relu/MaxPool/Gemm, 1x1x28x28 in)")
        for label, f in mnist.items():
            print(f"  {label:<34} {f['p50_1_us']:>9.0f} us {f['rps_16']:>11,.0f} {f['rps_64']:>11,.0f}   "
                  f"{f['server_cpu_us_per_request']:>6.0f} us")
        py = r["python_gateway"]
        print("\n2. ONNX (C++) vs Python runtime, 1 replica each, through the gateway")
        print(f"  {'runtime':<34} {'p50 @1 conn':>12} {'req/s @16':>11} {'req/s @64':>11}")
        for label, f in (("onnx", gw), ("python", py)):
            print(f"  {label:<34} {f['p50_1_us']:>9.0f} us {f['rps_16']:>11,.0f} {f['rps_64']:>11,.0f}")
        launch = r["launch_to_ready_s"]
        print(f"\n3. launch to ready (POST /api/v1/serving until state ready), median of {self.launches}")
        for runtime, times in launch.items():
            print(f"  {runtime:<8} {statistics.median(times):6.2f} s   (all: {', '.join(f'{t:.2f}' for t in times)})")
        rates = r["replicas_rps_64"]
        print(f"\n4. req/s through the gateway at 64 connections by replicas ({CPU} CPU each, "
              f"{os.cpu_count()} cores shared with wrk and the server)")
        for n, rate in rates.items():
            print(f"  {n} replica{'s' if n > 1 else ' '}  {rate:>9,.0f} req/s   {rate / rates[1]:.2f}x one replica")
        gains = [(rates[n] - rates[n - 1]) / rates[1] for n in (2, 3)]
        print("\nsummary")
        print(f"  gateway p50 overhead at 1 connection: {overhead:+.0f} us over the replica's endpoint "
              f"(target <= 100 us: {'ok' if overhead <= 100 else 'MISSED'})")
        print(f"  gateway / replica endpoint throughput: {ratio16:.2f}x at 16, {ratio64:.2f}x at 64 connections "
              f"(target >= 0.9x: {'ok' if min(ratio16, ratio64) >= 0.9 else 'MISSED'})")
        mg, mr = mnist["gateway"], mnist["replica endpoint"]
        print(f"  mnist: gateway p50 overhead {mg['p50_1_us'] - mr['p50_1_us']:+.0f} us, throughput "
              f"{mg['rps_16'] / mr['rps_16']:.2f}x at 16, {mg['rps_64'] / mr['rps_64']:.2f}x at 64 connections")
        if "standalone model server" in paths:
            alone = paths["standalone model server"]
            print(f"  gateway / standalone model server (uncapped): p50 {gw['p50_1_us'] - alone['p50_1_us']:+.0f} us, "
                  f"{gw['rps_64'] / alone['rps_64']:.2f}x req/s at 64")
        print(f"  server CPU per request at 64 connections: {gw['server_cpu_us_per_request']:.0f} us through the "
              f"gateway, {replica['server_cpu_us_per_request']:.0f} us at the replica's endpoint")
        print(f"  ONNX / Python runtime: {gw['rps_16'] / py['rps_16']:.2f}x req/s at 16, "
              f"{gw['rps_64'] / py['rps_64']:.2f}x at 64 connections")
        print(f"  launch to ready: onnx {statistics.median(launch['onnx']):.2f} s, "
              f"python {statistics.median(launch['python']):.2f} s (python / onnx "
              f"{statistics.median(launch['python']) / statistics.median(launch['onnx']):.2f}x)")
        print(f"  per added replica: {gains[0]:+.2f}x (1 -> 2), {gains[1]:+.2f}x (2 -> 3) of one replica's req/s")
        r.update(p50_overhead_us=overhead, gateway_over_replica_rps={"16": ratio16, "64": ratio64},
                 gain_per_added_replica=gains)

    def cleanup(self):
        if self.standalone is not None:
            self.standalone.terminate()
            self.standalone.wait()
        self.platform.cleanup()


def main(argv):
    if len(argv) != 2 or not os.path.isdir(argv[1]):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    build_dir = os.path.abspath(argv[1])

    def on_term(signum, frame):
        raise jobs_bench.Interrupted()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    tmp = tempfile.mkdtemp(prefix="serving_bench.")
    run = Run(build_dir, tmp)
    rc = 0
    started = time.monotonic()
    try:
        load = os.getloadavg()
        print(f"serving benchmark: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        run.prepare()
        run.part_launch()
        run.part_gateway()
        run.part_heavier_model()
        run.part_runtimes()
        run.part_replicas()
        run.report()
        load = os.getloadavg()
        out = os.path.join(build_dir, "bench-serving.json")
        with open(out, "w") as f:
            json.dump(dict(run.results, date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                           loadavg_end=load), f, indent=2)
        print(f"\nload average at the end {load[0]:.2f}; {time.monotonic() - started:.0f} s; results: {out}")
    except (KeyboardInterrupt, jobs_bench.Interrupted):
        log("interrupted; cleaning up")
        rc = 130
    except (BenchError, jobs_bench.BenchError, wrk_post.WrkError, subprocess.CalledProcessError, OSError) as e:
        log(f"error: {e}")
        if run.platform.bench.proc is not None:
            log("server log:\n" + run.platform.bench.server_tail())
        rc = 1
    finally:
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        run.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
