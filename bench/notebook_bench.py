#!/usr/bin/env python3
"""Notebook benchmark: PaddleCloud's notebooks vs JupyterHub 3.0 + configurable-http-proxy 5, side by side.

Usage: python3 bench/notebook_bench.py BUILD_DIR [PART ...]
  PART (default: all, in this order): proxy ws spawn rss api. Each part runs on its own.
  env: BENCH_DURATION   seconds per measured wrk / WebSocket run      (default 10)
       BENCH_WARMUP     seconds of warm-up before each               (default 2)
       BENCH_CONNS      wrk connections (HTTP parts)                 (default 64)
       BENCH_THREADS    wrk threads                                  (default 2)
       BENCH_ROUNDS     rounds of the throughput comparisons; medians are reported (default 3)
       BENCH_SPAWNS     spawns per side for "spawn to ready"; the median is reported (default 3)
       BENCH_NOTEBOOKS  notebooks running for "rss" (and while "api" runs)    (default 10)
       BENCH_WS_CONNS   concurrent WebSocket connections              (default 16)
       BENCH_NOTEBOOK_CPU, BENCH_NOTEBOOK_MEMORY  what each of our rss part's notebooks requests
                        (100m, 512Mi; the spawn part's notebook takes the platform's defaults)
       BENCH_CACHE      where npm modules are installed               (default ~/.cache/paddlecloud-bench)

Parts (ratios are printed; targets are informational, the exit status is 0 unless something failed):
  proxy  GET of a 15-byte static file from nginx at BENCH_CONNS connections: directly, through our
         ReverseProxy (src/reverse_proxy/proxy_bench_server) and through configurable-http-proxy
         (targets: ours >= 0.8x direct, >= 2x CHP); nginx as a reverse proxy (one worker, keep-alive
         upstream connections) is measured too, as the reference of what a proxy costs on this machine;
  ws     WebSocket round trips per second (16-byte messages, each connection waits for its echo)
         through both proxies to the same echo server (Node `ws`), and directly;
  spawn  spawn to ready (first proxied /api/status 200): JupyterHub (POST /hub/api/users/<name>/server,
         then poll /user/<name>/api/status through CHP) vs ours (POST /api/v1/notebook/start, poll
         GET /api/v1/notebook until running, then /user/<id>/api/status through the notebook origin)
         (target: ours <= 0.5x);
  rss    VmRSS of the control plane with BENCH_NOTEBOOKS notebooks running: our server vs the hub +
         CHP (the Jupyter processes themselves are not counted on either side);
  api    GET /api/v1/account/notebooks (the master's API token) vs GET /hub/api/users (an admin
         service token), wrk at BENCH_CONNS connections, with the rss part's notebooks running when
         it ran first (target >= 10x).
JupyterHub runs LocalProcessSpawner (SimpleLocalProcessSpawner: no system users), DummyAuthenticator,
jupyterhub-singleuser on Debian's python3-notebook (the Jupyter behind our notebooks too), CHP
started by this script (the hub talks to it through its API). Missing tools are installed:
`apt-get install jupyterhub wrk nginx-light` and `npm install configurable-http-proxy@5 ws@8` into
BENCH_CACHE. Everything else lives in one temp dir, binds 127.0.0.1 and is stopped on exit.
"""
import email
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jobs_bench  # noqa: E402  (the platform's server start-up, sign-up and API client)

PARTS = ("proxy", "ws", "spawn", "rss", "api")
JUPYTER_APP = "notebook.notebookapp.NotebookApp"


class BenchError(Exception):
    pass


class Interrupted(Exception):
    pass


class NoNotebooks(BenchError):
    """The server binary has no notebook service."""


def log(msg):
    print(f"notebook_bench: {msg}", file=sys.stderr, flush=True)


def env_int(name, default):
    value = os.environ.get(name, str(default))
    if not re.fullmatch(r"[1-9][0-9]*", value):
        raise BenchError(f"{name} must be a positive integer (got '{value}')")
    return int(value)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, check, timeout=60.0, interval=0.05):
    """Polls check() until it returns something truthy, with a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise BenchError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


def http_get(host, port, path, headers=None, timeout=10):
    """(status, body, headers) or (None, b"", {}) when nothing answers."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read(), resp.headers  # case-insensitive
    except OSError:
        return None, b"", {}
    finally:
        conn.close()


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise BenchError(f"no VmRSS for pid {pid}")


# ---------------------------------------------------------------------------------- tools
def sudo():
    return [] if os.geteuid() == 0 else ["sudo", "-n"]


def ensure_apt(command, package):
    if shutil.which(command) or os.path.exists(command):
        return
    log(f"installing Debian's {package} (apt-get)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo() + ["apt-get", "install", "-y", "--no-install-recommends", package], check=True, env=env,
                   stdout=subprocess.DEVNULL)


def ensure_node_modules(cache):
    """configurable-http-proxy 5 and ws 8 under cache/node_modules (npm, once)."""
    chp = os.path.join(cache, "node_modules", ".bin", "configurable-http-proxy")
    if not (os.path.exists(chp) and os.path.isdir(os.path.join(cache, "node_modules", "ws"))):
        log(f"installing configurable-http-proxy@5 and ws@8 from npm into {cache}")
        os.makedirs(cache, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", cache,
                        "configurable-http-proxy@5", "ws@8"], check=True, stdout=subprocess.DEVNULL)
    version = subprocess.run(["node", "-p", "require(process.argv[1]).version",
                              os.path.join(cache, "node_modules", "configurable-http-proxy", "package.json")],
                             capture_output=True, text=True, check=True).stdout.strip()
    if not version.startswith("5."):
        raise BenchError(f"configurable-http-proxy {version} in {cache}, expected 5.x")
    return chp, version


# Echo server and round-trip load generator for WebSockets (Node's `ws`).
WS_TOOL = r"""
const WebSocket = require('ws');
const [mode, arg1, arg2, arg3] = process.argv.slice(2);
if (mode === 'echo') {
  const wss = new WebSocket.Server({host: '127.0.0.1', port: 0});
  wss.on('listening', () => console.log(wss.address().port));
  wss.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, {binary})));
} else {
  const url = arg1, conns = Number(arg2), seconds = Number(arg3);
  const payload = Buffer.alloc(16, 'x');
  let trips = 0, open = 0, counting = false, failed = 0;
  const sockets = [];
  for (let i = 0; i < conns; i++) {
    const ws = new WebSocket(url);
    sockets.push(ws);
    ws.on('open', () => { if (++open === conns) start(); });
    ws.on('message', () => { if (counting) trips++; ws.send(payload); });
    ws.on('error', () => { failed++; });
    ws.on('close', () => { if (counting) failed++; });
  }
  function start() {
    sockets.forEach((ws) => ws.send(payload));
    setTimeout(() => { counting = true; const t0 = process.hrtime.bigint();
      setTimeout(() => { counting = false;
        const s = Number(process.hrtime.bigint() - t0) / 1e9;
        console.log(JSON.stringify({trips_per_s: trips / s, failed}));
        sockets.forEach((ws) => ws.terminate()); process.exit(0); }, seconds * 1000); }, 1000);
  }
  setTimeout(() => { console.error('connections did not open'); process.exit(1); }, 15000 + seconds * 1000);
}
"""


# ---------------------------------------------------------------------------------- processes
class Procs:
    """Every process this script starts, each in its own session; all stopped by stop_all()."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []

    def start(self, name, cmd, env=None, cwd=None):
        out = open(os.path.join(self.tmp, f"{name}.log"), "ab")
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                cwd=cwd, start_new_session=True)
        out.close()
        proc.bench_name = name
        self.procs.append(proc)
        return proc

    def log_tail(self, name, n=15):
        try:
            with open(os.path.join(self.tmp, f"{name}.log"), "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""

    def first_line(self, proc, timeout=20.0):
        """The first line the process logged (our tools print their address or port first)."""
        path = os.path.join(self.tmp, f"{proc.bench_name}.log")

        def line():
            if proc.poll() is not None:
                raise BenchError(f"{proc.bench_name} exited:\n{self.log_tail(proc.bench_name)}")
            with open(path) as f:
                text = f.read()
            return text.split("\n", 1)[0].strip() if "\n" in text else None
        return wait_until(f"{proc.bench_name} start-up", line, timeout)

    def stop(self, proc, timeout=10.0):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except OSError:
                pass
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log(f"{proc.bench_name} (pid {proc.pid}) did not stop on SIGTERM; killing it")
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except OSError:
                    pass
                proc.wait()
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self):
        for proc in reversed(list(self.procs)):
            self.stop(proc)


def processes_under(directory):
    """Pids of processes whose working directory is inside `directory` (single-user servers)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cwd = os.readlink(f"/proc/{entry}/cwd")
            except OSError:
                continue
            if cwd == directory or cwd.startswith(directory + "/"):
                pids.append(int(entry))
    return pids


# ---------------------------------------------------------------------------------- load
class Load:
    def __init__(self):
        self.duration = env_int("BENCH_DURATION", 10)
        self.warmup = env_int("BENCH_WARMUP", 2)
        self.conns = env_int("BENCH_CONNS", 64)
        self.threads = env_int("BENCH_THREADS", 2)
        self.rounds = env_int("BENCH_ROUNDS", 3)

    def wrk(self, url, headers=()):
        """Requests/s of `url`; non-2xx answers make it an error."""
        args = ["wrk", f"-t{self.threads}", f"-c{self.conns}"]
        for h in headers:
            args += ["-H", h]
        subprocess.run(args + [f"-d{self.warmup}s", url], check=True, stdout=subprocess.DEVNULL)
        out = subprocess.run(args + [f"-d{self.duration}s", url], check=True, capture_output=True, text=True).stdout
        if "Non-2xx" in out:
            raise BenchError(f"wrk {url}: error answers:\n{out}")
        errors = re.search(r"Socket errors: .*", out)
        if errors:
            log(f"wrk {url}: {errors.group(0)}")
        return float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))

    def rounds_of(self, label, variants):
        """Runs each (name, fn) in turn, BENCH_ROUNDS times; the median of each."""
        results = {name: [] for name, _ in variants}
        for r in range(self.rounds):
            for name, fn in variants:
                value = fn()
                results[name].append(value)
                log(f"{label} round {r + 1}/{self.rounds}: {name} {value:,.0f}")
        return {name: statistics.median(values) for name, values in results.items()}


def print_ratio_table(title, unit, medians, rows):
    print(f"\n{title}")
    for name in medians:
        print(f"  {name:<38} {medians[name]:>12,.0f} {unit}")
    for text, ratio, target in rows:
        verdict = "ok" if target[0](ratio) else "MISSED"
        print(f"  {text:<38} {ratio:>12.2f}x   target {target[1]}  {verdict}")


def seconds_list(times):
    return ", ".join(f"{t:.2f}" for t in times)


AT_LEAST = lambda t: (lambda r: r >= t, f">= {t}x")  # noqa: E731
AT_MOST = lambda t: (lambda r: r <= t, f"<= {t}x")  # noqa: E731


# ---------------------------------------------------------------------------------- sides
class Hub:
    """JupyterHub 3.0 with CHP 5 (started here), users spawned with SimpleLocalProcessSpawner."""

    def __init__(self, procs, tmp, chp):
        self.procs, self.tmp, self.chp = procs, tmp, chp
        self.port, self.hub_port, self.api_port = free_port(), free_port(), free_port()
        self.token = secrets.token_hex(32)
        self.chp_proc = self.hub_proc = None
        self.spawned = []

    def start(self):
        home = os.path.join(self.tmp, "hub-homes")
        os.makedirs(home)
        proxy_token = secrets.token_hex(32)
        config = os.path.join(self.tmp, "jupyterhub_config.py")
        with open(config, "w") as f:
            f.write(f"""
c.JupyterHub.ip = '127.0.0.1'
c.JupyterHub.port = {self.port}
c.JupyterHub.hub_ip = '127.0.0.1'
c.JupyterHub.hub_port = {self.hub_port}
c.JupyterHub.db_url = 'sqlite:///{self.tmp}/jupyterhub.sqlite'
c.JupyterHub.cookie_secret_file = '{self.tmp}/jupyterhub_cookie_secret'
c.JupyterHub.pid_file = '{self.tmp}/jupyterhub.pid'
c.JupyterHub.authenticator_class = 'dummy'
c.JupyterHub.spawner_class = 'jupyterhub.spawner.SimpleLocalProcessSpawner'
c.SimpleLocalProcessSpawner.home_dir_template = '{home}/{{username}}'
c.Spawner.cmd = ['/usr/bin/jupyterhub-singleuser']
c.Spawner.args = ['--allow-root']
c.Spawner.environment = {{'JUPYTERHUB_SINGLEUSER_APP': '{JUPYTER_APP}'}}
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.JupyterHub.services = [{{'name': 'bench', 'api_token': '{self.token}', 'admin': True}}]
c.ConfigurableHTTPProxy.should_start = False
c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{self.api_port}'
c.ConfigurableHTTPProxy.auth_token = '{proxy_token}'
c.JupyterHub.log_level = 'WARN'
""")
        env = dict(os.environ, CONFIGPROXY_AUTH_TOKEN=proxy_token)
        self.chp_proc = self.procs.start("chp-hub", [self.chp, "--ip", "127.0.0.1", "--port", str(self.port),
                                                     "--api-ip", "127.0.0.1", "--api-port", str(self.api_port),
                                                     "--log-level", "warn", "--error-target",
                                                     f"http://127.0.0.1:{self.hub_port}/hub/error"], env=env)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYENV", "VIRTUAL_ENV", "PYTHON"))}
        env["PATH"] = "/usr/bin:/bin:/usr/sbin:/sbin"
        self.hub_proc = self.procs.start("jupyterhub", ["/usr/bin/jupyterhub", "-f", config], env=env, cwd=self.tmp)
        wait_until("JupyterHub start-up", lambda: self.check_alive() and self.get("/hub/api/")[0] == 200, 60, 0.1)
        log(f"JupyterHub listening on 127.0.0.1:{self.port} (hub pid {self.hub_proc.pid}, CHP pid {self.chp_proc.pid})")

    def check_alive(self):
        for proc in (self.chp_proc, self.hub_proc):
            if proc.poll() is not None:
                raise BenchError(f"{proc.bench_name} exited:\n{self.procs.log_tail(proc.bench_name)}")
        return True

    def get(self, path):
        return http_get("127.0.0.1", self.port, path, {"Authorization": f"token {self.token}"})

    def call(self, method, path, expect):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, headers={"Authorization": f"token {self.token}"})
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        if resp.status not in expect:
            raise BenchError(f"hub {method} {path}: HTTP {resp.status}: {body[:300].decode(errors='replace')}")
        return body

    def start_server(self, name):
        if self.get(f"/hub/api/users/{name}")[0] == 404:
            self.call("POST", f"/hub/api/users/{name}", (201,))
        self.call("POST", f"/hub/api/users/{name}/server", (201, 202))
        self.spawned.append(name)

    def ready(self, name):
        self.check_alive()
        return self.get(f"/user/{name}/api/status")[0] == 200

    def stop_server(self, name):
        self.call("DELETE", f"/hub/api/users/{name}/server", (202, 204))
        wait_until(f"hub: {name}'s server to stop",
                   lambda: json.loads(self.call("GET", f"/hub/api/users/{name}", (200,)))["servers"] == {}, 60, 0.1)
        self.spawned.remove(name)

    def stop(self):
        for name in list(self.spawned):
            try:
                self.stop_server(name)
            except Exception as e:  # noqa: BLE001 - the process sweep below still ends them
                log(f"clean-up: stopping {name}'s server through the hub failed: {e}")


def invitation_token(outbox, before):
    """The token of the one mail in `outbox` that is not in `before`, once it is whole; else None."""
    new = sorted(set(os.listdir(outbox)) - before)
    if not new:
        return None
    with open(os.path.join(outbox, new[-1]), "rb") as f:
        message = email.message_from_bytes(f.read())
    text = "".join(part.get_payload(decode=True).decode(errors="replace") for part in message.walk()
                   if part.get_content_type() == "text/plain")
    match = re.search(r"token=([A-Za-z0-9_-]+)[^A-Za-z0-9_-]", text)  # followed by more: not cut short
    return match.group(1) if match else None


class Ours:
    """The platform: `paddlecloud server` with notebooks, its master and members with API tokens."""

    def __init__(self, build_dir, tmp):
        self.bench = jobs_bench.Bench(build_dir)
        self.bench.tmp = os.path.join(tmp, "ours")  # Bench.cleanup() removes it
        self.bench.data = os.path.join(self.bench.tmp, "data")
        self.members = []  # (email or "master", API token, Api)
        self.cookies = {}  # member -> (port, cookie, Host) of the notebook origin
        self.started_at = self.running_after = None  # of the last start: when it was seen "running"

    def start(self):
        os.makedirs(self.bench.data)
        self.bench.server_args = ["--notebook-listen", "127.0.0.1:0"]
        self.bench.start_server()
        self.bench.sign_up()
        status, payload, _ = self.bench.api.raw("GET", "/api/v1/openapi.json")
        if status != 200 or b'"/api/v1/notebook/start"' not in payload:
            raise NoNotebooks(f"{self.bench.binary} has no notebook API (/api/v1/notebook/start)")
        self.members.append(("master", self.bench.token, self.bench.api))

    @property
    def pid(self):
        return self.bench.proc.pid

    def add_members(self, total):
        """Invites members by mail until the account has `total` users; each accepts and makes an API token."""
        api = self.bench.api
        outbox = os.path.join(self.bench.data, "outbox")
        for i in range(len(self.members), total):
            address = f"member{i}@example.com"
            before = set(os.listdir(outbox))
            api.call("POST", "/api/v1/account/invitations", {"email": address}, expect=(201,))
            token = wait_until(f"the invitation mail to {address}", lambda: invitation_token(outbox, before), 15, 0.02)
            anonymous = jobs_bench.Api(api.host, api.port)
            anonymous.call("POST", "/api/v1/auth/invitation/accept",
                           {"token": token, "password": jobs_bench.PASSWORD}, expect=(200, 201))
            created = anonymous.call("POST", "/api/v1/auth/tokens",
                                     {"email": address, "password": jobs_bench.PASSWORD, "name": "notebook bench"},
                                     expect=(200, 201))
            anonymous.close()
            self.members.append((address, created["token"], jobs_bench.Api(api.host, api.port, created["token"])))

    def start_notebook(self, member, resources=None):
        """Starts with the platform's default resources unless `resources` says otherwise."""
        self.started_at = time.monotonic()
        member[2].call("POST", "/api/v1/notebook/start", resources or {}, expect=(200, 202))

    def notebook(self, member):
        return member[2].call("GET", "/api/v1/notebook")

    def ready(self, member):
        nb = self.notebook(member)
        if nb["state"] == "failed":
            raise BenchError(f"notebook of {member[0]} failed: {nb.get('message')}\n{nb.get('log_tail', '')}")
        if nb["state"] != "running":
            return False
        if self.running_after is None or self.running_after < self.started_at:
            self.running_after = time.monotonic()
        prefix = nb["url"].rsplit("/tree", 1)[0]
        port, cookie, authority = self.gateway_cookie(member, prefix + "/api/status")
        return http_get("127.0.0.1", port, prefix + "/api/status", {"Cookie": cookie, "Host": authority})[0] == 200

    def gateway_cookie(self, member, path):
        """Signs the member in on the notebook origin once (the one-time handoff): (port, cookie, Host)."""
        if member[0] not in self.cookies:
            api = member[2]
            status, _, headers = http_get(api.host, api.port,
                                          "/api/v1/notebook/handoff?next=" + urllib.parse.quote(path),
                                          {"Authorization": "Bearer " + member[1]})
            if status != 302 or "Location" not in headers:
                raise BenchError(f"handoff: HTTP {status}")
            url = urllib.parse.urlsplit(headers["Location"])
            status, _, headers = http_get("127.0.0.1", url.port, f"{url.path}?{url.query}", {"Host": url.netloc})
            cookie = headers.get("Set-Cookie", "").split(";", 1)[0]
            if status != 302 or not cookie:
                raise BenchError(f"handoff on the notebook origin: HTTP {status}")
            self.cookies[member[0]] = (url.port, cookie, url.netloc)
        return self.cookies[member[0]]

    def stop_notebook(self, member):
        member[2].call("POST", "/api/v1/notebook/stop", {}, expect=(200,))
        wait_until(f"{member[0]}'s notebook to stop", lambda: self.notebook(member)["state"] == "stopped", 60, 0.1)

    def stop(self):
        for member in self.members:
            try:
                if self.notebook(member)["state"] != "stopped":
                    self.stop_notebook(member)
            except Exception as e:  # noqa: BLE001 - cleanup() still stops the pod supervisors
                log(f"clean-up: stopping {member[0]}'s notebook failed: {e}")
        self.bench.cleanup()


# ---------------------------------------------------------------------------------- parts
class Run:
    def __init__(self, build_dir, tmp):
        self.build_dir, self.tmp = build_dir, tmp
        self.procs = Procs(tmp)
        self.load = Load()
        self.cache = os.environ.get("BENCH_CACHE") or os.path.expanduser("~/.cache/paddlecloud-bench")
        self.chp = self.chp_version = None
        self.hub = self.ours = None
        self.ours_missing = None  # why the platform's side is skipped
        self.www = None  # nginx's document root
        self.results = {}

    def tools(self):
        ensure_apt("wrk", "wrk")
        ensure_apt("/usr/sbin/nginx", "nginx-light")
        ensure_apt("/usr/bin/jupyterhub", "jupyterhub")
        if not shutil.which("node") or not shutil.which("npm"):
            raise BenchError("node and npm are needed (Debian packages nodejs, npm)")
        self.chp, self.chp_version = ensure_node_modules(self.cache)

    def node_env(self):
        return dict(os.environ, NODE_PATH=os.path.join(self.cache, "node_modules"))

    def start_chp(self, name, target):
        port, api_port = free_port(), free_port()
        self.procs.start(name, [self.chp, "--ip", "127.0.0.1", "--port", str(port), "--api-ip", "127.0.0.1",
                                "--api-port", str(api_port), "--default-target", target, "--log-level", "warn"],
                         env=dict(os.environ, CONFIGPROXY_AUTH_TOKEN=secrets.token_hex(16)))
        wait_until(f"{name} start-up", lambda: http_get("127.0.0.1", port, "/")[0] is not None, 20)
        return port

    def start_our_proxy(self, name, target_port):
        binary = os.path.join(self.build_dir, "src", "reverse_proxy", "proxy_bench_server")
        if not os.access(binary, os.X_OK):
            raise BenchError(f"{binary} is missing: build the target proxy_bench_server")
        # The bench server stops when its stdin closes: a pipe this script holds open.
        read_end, write_end = os.pipe()
        out = open(os.path.join(self.tmp, f"{name}.log"), "ab")
        proc = subprocess.Popen([binary, f"127.0.0.1:{target_port}"], stdin=read_end, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        os.close(read_end)
        out.close()
        proc.bench_name, proc.stdin_pipe = name, write_end
        self.procs.procs.append(proc)
        return self.procs.first_line(proc)

    def start_nginx(self, name="nginx", proxy_to=None):
        """nginx (one worker) serving a 15-byte file, or as a reverse proxy to `proxy_to` (keep-alive)."""
        if self.www is None:  # outside the private temp dir: nginx's workers may run as nobody
            self.www = tempfile.mkdtemp(prefix="notebook_bench_www.")
            os.chmod(self.www, 0o755)
            with open(os.path.join(self.www, "status.json"), "w") as f:
                f.write('{"status":"ok"}')
        root = self.www
        port = free_port()
        t = os.path.join(self.tmp, name)
        os.makedirs(t)
        server = f"server {{ listen 127.0.0.1:{port}; root {root}; default_type application/json; }}"
        if proxy_to:
            server = (f"upstream target {{ server 127.0.0.1:{proxy_to}; keepalive 256; }}\n  server {{ listen "
                      f"127.0.0.1:{port}; location / {{ proxy_pass http://target; proxy_http_version 1.1; "
                      f"proxy_set_header Connection \"\"; }} }}")
        with open(os.path.join(t, "nginx.conf"), "w") as f:
            f.write(f"""worker_processes 1;
pid {t}/nginx.pid;
error_log {t}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path {t}; proxy_temp_path {t}; fastcgi_temp_path {t}; uwsgi_temp_path {t}; scgi_temp_path {t};
  {server}
}}
""")
        self.procs.start(name, ["/usr/sbin/nginx", "-c", os.path.join(t, "nginx.conf"), "-g", "daemon off;"])
        wait_until(f"{name} start-up", lambda: http_get("127.0.0.1", port, "/status.json")[0] == 200, 20)
        return port

    # ------------------------------------------------------------------ proxy
    def part_proxy(self):
        log("proxy: nginx, and in front of it our proxy, CHP and a second nginx as a proxy")
        nginx = self.start_nginx()
        ours = self.start_our_proxy("our-proxy", nginx)
        chp = self.start_chp("chp", f"http://127.0.0.1:{nginx}")
        nginx_proxy = self.start_nginx("nginx-proxy", proxy_to=nginx)
        for where in (ours, f"127.0.0.1:{chp}"):
            host, port = where.rsplit(":", 1)
            status, body, _ = http_get(host, int(port), "/status.json")
            if status != 200 or body != b'{"status":"ok"}':
                raise BenchError(f"the proxy at {where} does not pass the file through (HTTP {status})")
        medians = self.load.rounds_of("proxy", [
            ("nginx directly", lambda: self.load.wrk(f"http://127.0.0.1:{nginx}/status.json")),
            ("through our proxy", lambda: self.load.wrk(f"http://{ours}/status.json")),
            (f"through CHP {self.chp_version}", lambda: self.load.wrk(f"http://127.0.0.1:{chp}/status.json")),
            ("through nginx as a proxy (reference)",
             lambda: self.load.wrk(f"http://127.0.0.1:{nginx_proxy}/status.json")),
        ])
        direct, ours_rate, chp_rate, nginx_proxy_rate = medians.values()
        print_ratio_table(f"proxied GET of a 15-byte static file, {self.load.conns} connections (req/s, median of "
                          f"{self.load.rounds})", "req/s", medians,
                          [("ours / direct", ours_rate / direct, AT_LEAST(0.8)),
                           ("ours / CHP", ours_rate / chp_rate, AT_LEAST(2)),
                           ("nginx as a proxy / direct", nginx_proxy_rate / direct, (lambda r: True, "(reference)"))])
        self.results["proxy"] = dict(medians, ours_over_direct=ours_rate / direct, ours_over_chp=ours_rate / chp_rate)

    # ------------------------------------------------------------------ ws
    def part_ws(self):
        conns = env_int("BENCH_WS_CONNS", 16)
        tool = os.path.join(self.tmp, "ws_tool.js")
        with open(tool, "w") as f:
            f.write(WS_TOOL)
        echo = int(self.procs.first_line(self.procs.start("ws-echo", ["node", tool, "echo"], env=self.node_env())))
        ours = self.start_our_proxy("our-ws-proxy", echo)
        chp = self.start_chp("chp-ws", f"http://127.0.0.1:{echo}")

        def trips(address):
            out = subprocess.run(["node", tool, "load", f"ws://{address}/ws", str(conns), str(self.load.duration)],
                                 env=self.node_env(), capture_output=True, text=True, timeout=self.load.duration + 60)
            if out.returncode != 0:
                raise BenchError(f"WebSocket load through {address} failed: {out.stderr.strip()}")
            result = json.loads(out.stdout)
            if result["failed"]:
                raise BenchError(f"WebSocket load through {address}: {result['failed']} connections failed")
            return result["trips_per_s"]
        log(f"ws: {conns} connections, one 16-byte message in flight on each")
        medians = self.load.rounds_of("ws", [
            ("echo server directly", lambda: trips(f"127.0.0.1:{echo}")),
            ("through our proxy", lambda: trips(ours)),
            (f"through CHP {self.chp_version}", lambda: trips(f"127.0.0.1:{chp}")),
        ])
        direct, ours_rate, chp_rate = medians.values()
        print_ratio_table(f"WebSocket round trips/s, {conns} connections (median of {self.load.rounds})",
                          "trips/s", medians,
                          [("ours / direct", ours_rate / direct, (lambda r: True, "(none)")),
                           ("ours / CHP", ours_rate / chp_rate, (lambda r: True, "(none)"))])
        self.results["ws"] = dict(medians, ours_over_direct=ours_rate / direct, ours_over_chp=ours_rate / chp_rate)

    # ------------------------------------------------------------------ hub and platform
    def need_hub(self):
        if self.hub is None:
            self.hub = Hub(self.procs, self.tmp, self.chp)
            self.hub.start()
        return self.hub

    def need_ours(self):
        """The platform, or None (said once) when this build has no notebook service yet."""
        if self.ours is None and self.ours_missing is None:
            ours = Ours(self.build_dir, self.tmp)
            self.ours = ours
            try:
                ours.start()
            except NoNotebooks as e:
                self.ours_missing = str(e)
                log(f"{e}: the platform's side is skipped")
                ours.stop()
                self.ours = None
        return self.ours

    def part_spawn(self):
        """Spawns alternate between the hub and ours, so background load hits both alike."""
        spawns = env_int("BENCH_SPAWNS", 3)
        hub = self.need_hub()
        ours = self.need_ours()
        times = {"JupyterHub": [], "ours": []}
        for i in range(spawns):
            t0 = time.monotonic()
            hub.start_server(f"spawn{i}")
            wait_until(f"hub: spawn{i}'s server to answer", lambda: hub.ready(f"spawn{i}"), 120, 0.02)
            times["JupyterHub"].append(time.monotonic() - t0)
            log(f"spawn: JupyterHub #{i + 1} ready in {times['JupyterHub'][-1]:.2f} s")
            hub.stop_server(f"spawn{i}")
            if ours is None:
                continue
            member = ours.members[0]
            t0 = time.monotonic()
            ours.start_notebook(member)
            wait_until("our notebook to answer", lambda: ours.ready(member), 120, 0.02)
            times["ours"].append(time.monotonic() - t0)
            log(f"spawn: ours #{i + 1} ready in {times['ours'][-1]:.2f} s (seen 'running' after "
                f"{ours.running_after - t0:.2f} s)")
            ours.stop_notebook(member)
        print(f"\nspawn to ready (first proxied /api/status 200), median of {spawns}")
        print(f"  JupyterHub + CHP   {statistics.median(times['JupyterHub']):8.2f} s   "
              f"(all: {seconds_list(times['JupyterHub'])})")
        self.results["spawn"] = dict(hub_seconds=times["JupyterHub"])
        if ours is None:
            return
        ratio = statistics.median(times["ours"]) / statistics.median(times["JupyterHub"])
        print(f"  ours               {statistics.median(times['ours']):8.2f} s   (all: {seconds_list(times['ours'])})")
        print(f"  ours / JupyterHub  {ratio:8.2f}x  target <= 0.5x  {'ok' if ratio <= 0.5 else 'MISSED'}")
        self.results["spawn"].update(ours_seconds=times["ours"], ours_over_hub=ratio)

    def part_rss(self):
        count = env_int("BENCH_NOTEBOOKS", 10)
        hub = self.need_hub()
        names = [f"user{i}" for i in range(count)]
        log(f"rss: starting {count} JupyterHub servers")
        for name in names:
            hub.start_server(name)
        for name in names:
            wait_until(f"hub: {name}'s server to answer", lambda: hub.ready(name), 180, 0.1)
        hub_kib, chp_kib = vm_rss_kib(hub.hub_proc.pid), vm_rss_kib(hub.chp_proc.pid)
        print(f"\ncontrol plane resident memory with {count} notebooks running (VmRSS)")
        print(f"  JupyterHub + CHP   {(hub_kib + chp_kib) / 1024:8.1f} MiB   (hub {hub_kib / 1024:.1f}, "
              f"CHP {chp_kib / 1024:.1f})")
        self.results["rss"] = dict(hub_kib=hub_kib, chp_kib=chp_kib, notebooks=count)
        ours = self.need_ours()
        if ours is None:
            return
        ours.add_members(count)
        log(f"rss: starting {count} notebooks of ours")
        # Small enough that BENCH_NOTEBOOKS fit on a small machine (the hub's servers have no limits).
        small = {"cpu": os.environ.get("BENCH_NOTEBOOK_CPU", "100m"),
                 "memory": os.environ.get("BENCH_NOTEBOOK_MEMORY", "512Mi")}
        for member in ours.members[:count]:
            ours.start_notebook(member, small)
        for member in ours.members[:count]:
            wait_until(f"{member[0]}'s notebook to answer", lambda: ours.ready(member), 180, 0.1)
        ours_kib = vm_rss_kib(ours.pid)
        print(f"  paddlecloud server {ours_kib / 1024:8.1f} MiB")
        print(f"  ours / JupyterHub  {ours_kib / (hub_kib + chp_kib):8.2f}x")
        self.results["rss"].update(ours_kib=ours_kib)

    def part_api(self):
        hub = self.need_hub()
        ours = self.need_ours()
        log(f"api: listing users/notebooks ({len(hub.spawned)} hub servers running, "
            f"{len(ours.members) if ours else 0} platform users)")
        variants = [("GET /hub/api/users", lambda: self.load.wrk(f"http://127.0.0.1:{hub.port}/hub/api/users",
                                                                [f"Authorization: token {hub.token}"]))]
        if ours is not None:
            api = ours.bench.api
            variants.append(("GET /api/v1/account/notebooks", lambda: self.load.wrk(
                f"http://{api.host}:{api.port}/api/v1/account/notebooks", [f"Authorization: Bearer {ours.bench.token}"])))
        medians = self.load.rounds_of("api", variants)
        rows = []
        if ours is not None:
            hub_rate, ours_rate = medians.values()
            rows.append(("ours / JupyterHub", ours_rate / hub_rate, AT_LEAST(10)))
        print_ratio_table(f"users/notebooks listing, {self.load.conns} connections (req/s, median of "
                          f"{self.load.rounds})", "req/s", medians, rows)
        self.results["api"] = dict(medians, **({"ours_over_hub": rows[0][1]} if rows else {}))

    def cleanup(self):
        if self.hub is not None:
            self.hub.stop()
        if self.ours is not None:
            self.ours.stop()
        for proc in self.procs.procs:
            if hasattr(proc, "stdin_pipe"):
                os.close(proc.stdin_pipe)
        self.procs.stop_all()
        if self.www:
            shutil.rmtree(self.www, ignore_errors=True)
        for pid in processes_under(self.tmp):  # single-user servers the hub left behind
            log(f"clean-up: SIGKILL to pid {pid} (working directory in {self.tmp})")
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def main(argv):
    if len(argv) < 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    build_dir = os.path.abspath(argv[1])
    parts = argv[2:] or list(PARTS)
    unknown = [p for p in parts if p not in PARTS]
    if unknown or not os.path.isdir(build_dir):
        log(f"error: unknown part {unknown[0]} (parts: {' '.join(PARTS)})" if unknown
            else f"error: BUILD_DIR '{argv[1]}' does not exist")
        return 2

    def on_term(signum, frame):
        raise Interrupted()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    tmp = tempfile.mkdtemp(prefix="notebook_bench.")
    run = Run(build_dir, tmp)
    rc = 0
    try:
        load = os.getloadavg()
        print(f"notebook benchmark: {os.cpu_count()} cores, load average {load[0]:.2f}; parts: {' '.join(parts)}")
        run.tools()
        for part in PARTS:
            if part in parts:
                getattr(run, f"part_{part}")()
        if run.ours_missing:
            print(f"\nnot measured on the platform's side: {run.ours_missing}")
        out = os.path.join(build_dir, "bench-notebook.json")
        with open(out, "w") as f:
            json.dump(run.results, f, indent=2)
        print(f"\nresults: {out}")
    except (KeyboardInterrupt, Interrupted):
        log("interrupted; cleaning up")
        rc = 130
    except (BenchError, jobs_bench.BenchError, subprocess.CalledProcessError, OSError) as e:
        log(f"error: {e}")
        rc = 1
    finally:
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        run.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
