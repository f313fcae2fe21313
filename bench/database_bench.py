#!/usr/bin/env python3
"""Database benchmark: SQLite vs PostgreSQL, 1 vs 3 replicas behind nginx, and leader fail-over time.

Usage: python3 bench/database_bench.py BUILD_DIR     (BUILD_DIR holds the Release binary `paddlecloud`)
  env: BENCH_DB_DURATION    seconds per measured wrk run                          (default 10)
       BENCH_DB_WARMUP      seconds of wrk warm-up before each                    (default 2)
       BENCH_DB_THREADS     wrk threads                                           (default 2)
       BENCH_DB_CONNS       wrk connections                                       (default 32)
       BENCH_DB_SUBMITS     jobs submitted one after another per engine          (default 200)
       BENCH_DB_SEED        jobs inserted into each database for the list runs    (default 100000)
       BENCH_DB_FAILOVERS   leader kills for the fail-over time                   (default 3)
       BENCH_OUT_DATABASE   JSON result file                (default BUILD_DIR/bench-database.json)

What it does (everything under one temp dir, loopback only, cleaned up on exit and on Ctrl-C; the
throwaway PostgreSQL cluster of scripts/test-postgres is stopped and removed on every exit path):
  1. SQLite vs PostgreSQL, side by side: starts one `paddlecloud server --listen 127.0.0.1:0` on
     SQLite (<data>/paddlecloud.db) and one on a fresh PostgreSQL database, both with the access log
     off and log level warn, and signs a user up on each (mail from <data>/outbox/*.eml, API token).
     Each measurement runs on SQLite then PostgreSQL back to back, so background load hits both:
     a. GET /api/v1/me with `Authorization: Bearer <token>`: wrk -tT -cC -dDs --latency after a
        warm-up;
     b. job submit: BENCH_DB_SUBMITS sequential POST /api/v1/jobs (entry `true`, 100m CPU, 64Mi,
        names b1, b2, ...) over one keep-alive connection; submits/s = jobs / wall time of the
        loop, plus p50/p99 of the POSTs. Every job runs a real (tiny) pod; all of them are waited
        for (polled, with a deadline) before the next engine's turn so they do not load it;
     c. listing with BENCH_DB_SEED more jobs: inserts them straight into the database while the
        server runs (SQLite: python's sqlite3 on the WAL database in one transaction; PostgreSQL:
        one INSERT ... SELECT FROM generate_series through psql, then ANALYZE, which autovacuum
        would otherwise run at some point during the measurement), Succeeded, spec copied from a
        submitted job, every 10th named cifar-resnet-<g> and the others mnist-<g>; then wrk on
        GET /api/v1/jobs?limit=50 and GET /api/v1/jobs?limit=50&name=resnet (each answer checked
        once before: 50 jobs, and every name holds "resnet").
     The SQLite and PostgreSQL servers are stopped afterwards.
  2. 1 vs 3 replicas behind nginx, both on PostgreSQL (one more database and data dir): the
     repository's deploy/nginx/paddlecloud.conf.in (@SERVERS@ and @LISTEN@ filled in) included from
     an nginx.conf of the temp dir (worker_processes 2, access_log off); replicas listen on fixed
     loopback ports with --public-url http://127.0.0.1:<nginx port> --trusted-proxies 127.0.0.1
     (and --notebook-listen 127.0.0.1:0 so their notebook origins never collide). wrk GET
     /api/v1/me through nginx with one server in the upstream, then, after two standbys have
     logged "standing by" and nginx has been restarted with three servers in the upstream, again.
     The leader runs at log level warn; standbys at info, the level of their "standing by" line.
  3. fail-over: with 3 replicas behind nginx, kill -9 the leader and poll GET /readyz through nginx
     (a new connection every 10 ms) until it answers 200 naming a new lease epoch; the leader's
     own /readyz on its port is polled in the same loop, for the share that nginx adds (a refused
     upstream is skipped for fail_timeout=1s). A replacement standby is started on the killed
     one's port and waited for, so 3 replicas remain; repeated BENCH_DB_FAILOVERS times.
  4. prints the tables with the targets and writes the results as JSON.
Targets (informational: exit status is 0 unless something failed to run): PostgreSQL >= 0.5 x
SQLite req/s (submits/s) on every row of 1; 3 replicas >= 0.9 x 1 replica through nginx. The
fail-over time has no target here (the lease is 3 s; nginx retries a failed upstream after 2 s).
wrk, nginx, PostgreSQL and the servers share the machine's cores (load is printed).
"""
import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jobs_bench  # noqa: E402  (Api, the sign-up and the job clean-up of one server)

PG_RATIO_TARGET = 0.5
REPLICA_RATIO_TARGET = 0.9
EMAIL = jobs_bench.EMAIL
PASSWORD = jobs_bench.PASSWORD
ACCOUNT = jobs_bench.ACCOUNT
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BenchError = jobs_bench.BenchError
Interrupted = jobs_bench.Interrupted


def log(msg):
    print(f"database_bench: {msg}", file=sys.stderr, flush=True)


jobs_bench.log = log  # the helpers borrowed from jobs_bench log under this script's name


def env_int(name, default, minimum=1):
    return jobs_bench.env_int(name, default, minimum)


def free_port(taken):
    """A loopback port free now (bound to 0 and released) and not in `taken`."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in taken:
            taken.add(port)
            return port
    raise BenchError("could not find a free loopback port")


def wait_for(what, predicate, timeout, poll=0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise BenchError(f"{what}: not within {timeout:g} s")
        time.sleep(poll)


def get_status(host, port, path, timeout=2.0):
    """One GET on a new connection: (status, body) or (None, b'') when it could not be sent."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    except (OSError, http.client.HTTPException):
        return None, b""
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------- wrk
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise BenchError(f"cannot read wrk's latency '{text}'")
    return float(m.group(1)) * _UNITS[m.group(2)]


class Wrk:
    def __init__(self, threads, conns, seconds, warmup):
        self.threads, self.conns, self.seconds, self.warmup = threads, conns, seconds, warmup
        self.binary = shutil.which("wrk") or ("/usr/bin/wrk" if os.access("/usr/bin/wrk", os.X_OK) else None)
        if not self.binary:
            raise BenchError("wrk not found (Debian package 'wrk')")

    def run(self, url, token=None):
        """Warm-up, then the measured run: {"rps", "p50_ms", "p99_ms", "requests", "timeouts", ...}."""
        args = [self.binary, f"-t{min(self.threads, self.conns)}", f"-c{self.conns}"]
        if token:
            args += ["-H", "Authorization: Bearer " + token]
        subprocess.run(args + [f"-d{self.warmup}s", url], capture_output=True, check=True)
        proc = subprocess.run(args + [f"-d{self.seconds}s", "--latency", url], capture_output=True, text=True)
        out = proc.stdout
        rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
        if proc.returncode != 0 or not rps:
            raise BenchError(f"wrk {url} failed:\n{out}{proc.stderr}")
        non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        if non2xx:
            raise BenchError(f"wrk {url}: {non2xx.group(1)} answers were not 2xx")
        errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        connect, read, write, timeouts = (int(x) for x in errs.groups()) if errs else (0, 0, 0, 0)
        if connect:
            raise BenchError(f"wrk {url}: {connect} connect errors")
        if timeouts:
            log(f"warning: wrk {url}: {timeouts} requests timed out (wrk's 2 s)")
        return {"rps": float(rps.group(1)),
                "p50_ms": _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
                "p99_ms": _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
                "requests": int(re.search(r"(\d+) requests in", out).group(1)),
                "read_errors": read, "write_errors": write, "timeouts": timeouts}


# ---------------------------------------------------------------------------------- PostgreSQL
class Postgres:
    """The throwaway cluster of scripts/test-postgres; stopped by stop(), also at interpreter exit."""

    def __init__(self, tmp):
        self.script = os.path.join(REPO, "scripts", "test-postgres")
        self.state = os.path.join(tmp, "postgres.state")
        self.dir = None
        atexit.register(self.stop)

    def start(self):
        proc = subprocess.run([self.script, "start", self.state], capture_output=True, text=True, timeout=120)
        # The directory may exist even when starting failed: remember it before checking.
        if os.path.exists(self.state):
            with open(self.state) as f:
                self.dir = f.read().strip() or None
        if proc.returncode != 0 or not self.dir:
            raise BenchError(f"scripts/test-postgres start failed:\n{proc.stdout}{proc.stderr}")
        log(f"PostgreSQL cluster in {self.dir}")

    def stop(self):
        if not self.dir:
            return
        if not os.path.exists(self.state):  # the temp dir went first: tell the script where it is
            os.makedirs(os.path.dirname(self.state), exist_ok=True)
            with open(self.state, "w") as f:
                f.write(self.dir + "\n")
        subprocess.run([self.script, "stop", self.state], capture_output=True, timeout=60)
        log("PostgreSQL cluster stopped and removed")
        self.dir = None

    def url(self, db):
        return f"postgresql://paddlecloud@/{db}?host={self.dir}"

    def psql(self, db, sql, stdin=None):
        proc = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", self.url(db)]
                              + (["-c", sql] if sql else []),
                              input=stdin, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise BenchError(f"psql on {db} failed: {proc.stderr.strip()}")
        return proc.stdout

    def version(self):
        return self.psql("postgres", "SHOW server_version").strip()


# ------------------------------------------------------------------------- one server, port 0
def start_single(build_dir, tmp, name, extra_args):
    """A jobs_bench.Bench server (listen 127.0.0.1:0, signed-up user) in tmp/<name>."""
    bench = jobs_bench.Bench(build_dir)
    bench.tmp = os.path.join(tmp, name)
    bench.data = os.path.join(bench.tmp, "data")
    os.makedirs(bench.data)
    bench.server_args = list(extra_args)
    bench.start_server()
    bench.sign_up()
    return bench


def submit_jobs(bench, n):
    samples = []
    t0 = time.perf_counter()
    for i in range(1, n + 1):
        status, payload, elapsed = bench.api.raw("POST", "/api/v1/jobs",
                                                 {"name": f"b{i}", "entry": "true", "cpu_per_trainer": "100m",
                                                  "mem_per_trainer": "64Mi"})
        if status != 201:
            raise BenchError(f"POST /api/v1/jobs (job b{i}): HTTP {status}: {payload[:300].decode(errors='replace')}")
        samples.append(elapsed * 1000)
    wall = time.perf_counter() - t0
    return {"submits": n, "seconds": round(wall, 3), "rps": n / wall,
            "p50_ms": jobs_bench.percentile(samples, 50), "p99_ms": jobs_bench.percentile(samples, 99),
            "max_ms": max(samples)}


def wait_jobs_done(bench, timeout):
    t0 = time.monotonic()

    def done():
        return not bench.api.call("GET", "/api/v1/jobs?status=running&limit=1")["items"]

    wait_for("every submitted job ending", done, timeout, poll=0.2)
    states = {}
    cursor = 0
    while True:  # how they ended, for the record (a failed pod would not make a fair submit)
        page = bench.api.call("GET", "/api/v1/jobs?limit=500" + (f"&cursor={cursor}" if cursor else ""))
        for job in page["items"]:
            states[job["state"]] = states.get(job["state"], 0) + 1
        cursor = page.get("next_cursor") or 0
        if not cursor or not page["items"]:
            break
    return time.monotonic() - t0, states


SEED_REASON = "every trainer finished"


def seed_sqlite(bench, count):
    db = sqlite3.connect(os.path.join(bench.data, "paddlecloud.db"), isolation_level=None, timeout=30)
    try:
        row = db.execute("SELECT id, account_id FROM users WHERE email = ?", (EMAIL,)).fetchone()
        if row is None:
            raise BenchError("the benchmark user is not in the SQLite database")
        user_id, account = row
        template = db.execute("SELECT spec FROM jobs WHERE account_id = ? ORDER BY id LIMIT 1", (account,)).fetchone()
        if template is None:
            raise BenchError("no submitted job to copy the spec of")
        spec = json.loads(template[0])
        base = int(time.time()) - count * 30 - 3600

        def rows():
            for g in range(1, count + 1):
                name = f"cifar-resnet-{g}" if g % 10 == 0 else f"mnist-{g}"
                spec["name"] = name
                submitted = base + g * 30
                yield (account, user_id, name, json.dumps(spec, separators=(",", ":")), SEED_REASON,
                       submitted, submitted + 1, submitted + 21, submitted)

        t0 = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.executemany(
            "INSERT INTO jobs (account_id, user_id, name, spec, state, reason, stop_requested, stop_sent, token_id, "
            "submitted_at, started_at, finished_at, succeeded, failed, admitted_at) "
            "VALUES (?, ?, ?, ?, 'Succeeded', ?, 0, 0, NULL, ?, ?, ?, 1, 0, ?)", rows())
        db.execute("COMMIT")
        seconds = time.perf_counter() - t0
        total = db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
    finally:
        db.close()
    return seconds, total


def seed_postgres(pg, db, count):
    row = pg.psql(db, f"SELECT id, account_id FROM users WHERE email = '{EMAIL}'").strip()
    if not row:
        raise BenchError("the benchmark user is not in the PostgreSQL database")
    user_id, account = row.split("|", 1)
    template = pg.psql(db, f"SELECT spec FROM jobs WHERE account_id = '{account}' ORDER BY id LIMIT 1").strip()
    if not template:
        raise BenchError("no submitted job to copy the spec of")
    spec = json.loads(template)
    spec["name"] = "@NAME@"
    spec_sql = "'" + json.dumps(spec, separators=(",", ":")).replace("'", "''") + "'"
    base = int(time.time()) - count * 30 - 3600
    name = "CASE WHEN g % 10 = 0 THEN 'cifar-resnet-' || g ELSE 'mnist-' || g END"
    sql = (f"INSERT INTO jobs (account_id, user_id, name, spec, state, reason, stop_requested, stop_sent, token_id, "
           f"submitted_at, started_at, finished_at, succeeded, failed, admitted_at) "
           f"SELECT '{account}', {int(user_id)}, {name}, replace({spec_sql}, '@NAME@', {name}), 'Succeeded', "
           f"'{SEED_REASON}', 0, 0, NULL, {base} + g * 30, {base} + g * 30 + 1, {base} + g * 30 + 21, 1, 0, "
           f"{base} + g * 30 FROM generate_series(1, {count}) g")
    t0 = time.perf_counter()
    pg.psql(db, sql)
    seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    pg.psql(db, "ANALYZE jobs")
    analyze = time.perf_counter() - t1
    total = int(pg.psql(db, "SELECT COUNT(*) FROM jobs").strip())
    return seconds, analyze, total


def check_list(bench, path, needle):
    page = bench.api.call("GET", path)
    items = page["items"]
    if len(items) != 50 or (needle and not all(needle in j["name"] for j in items)):
        raise BenchError(f"GET {path}: expected 50 jobs{' named *' + needle + '*' if needle else ''}, "
                         f"got {len(items)}: {[j['name'] for j in items][:5]}")
    return len(json.dumps(page))


# ------------------------------------------------------------------- replicas behind nginx
class Replica:
    """`paddlecloud server` on a fixed loopback port, sharing the data dir and the database."""
    counter = 0

    def __init__(self, binary, data, port, args, log_dir, log_level):
        Replica.counter += 1
        self.port = port
        self.log_path = os.path.join(log_dir, f"replica-{Replica.counter}-{port}.log")
        self.log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [binary, "server", "--listen", f"127.0.0.1:{port}", "--data-dir", data, "--access-log", "false",
             "--log-level", log_level, "--notebook-listen", "127.0.0.1:0"] + args,
            stdout=self.log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def tail(self, n=20):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""

    def check_alive(self):
        if not self.alive():
            raise BenchError(f"the server on port {self.port} exited:\n{self.tail()}")

    def wait_leading(self, timeout=30):
        def ready():
            self.check_alive()
            status, body = get_status("127.0.0.1", self.port, "/readyz")
            return status == 200 and json.loads(body)["checks"]
        return wait_for(f"the server on port {self.port} leading", ready, timeout)

    def wait_standing_by(self, timeout=30):
        def standing_by():
            self.check_alive()
            with open(self.log_path, "rb") as f:
                return b"standing by" in f.read()
        wait_for(f"the server on port {self.port} standing by", standing_by, timeout)

    def kill(self):
        if self.alive():
            self.proc.kill()
        self.proc.wait()
        self.proc = None
        self.log_file.close()

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                log(f"server pid {self.proc.pid} on port {self.port} did not stop on SIGTERM within 40 s; "
                    f"killing it. Its log ends:\n{self.tail()}")
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.log_file.close()


class Nginx:
    def __init__(self, tmp):
        self.binary = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
        if not self.binary:
            raise BenchError("nginx not found (Debian package 'nginx-light', /usr/sbin/nginx)")
        self.dir = os.path.join(tmp, "nginx")
        os.makedirs(os.path.join(self.dir, "logs"), exist_ok=True)
        self.proc = None
        self.port = None
        self.error_log = os.path.join(self.dir, "logs", "error.log")

    def version(self):
        out = subprocess.run([self.binary, "-v"], capture_output=True, text=True).stderr.strip()
        return out.replace("nginx version: ", "")

    def write_conf(self, port, upstream_ports):
        with open(os.path.join(REPO, "deploy", "nginx", "paddlecloud.conf.in")) as f:
            site = f.read()
        servers = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=1s;\n" for p in upstream_ports)
        if "@SERVERS@\n" not in site or "@LISTEN@" not in site:
            raise BenchError("deploy/nginx/paddlecloud.conf.in has no @SERVERS@ or @LISTEN@")
        site = site.replace("@SERVERS@\n", servers).replace("@LISTEN@", f"127.0.0.1:{port}")
        with open(os.path.join(self.dir, "paddlecloud.conf"), "w") as f:
            f.write(site)
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write(f"worker_processes 2;\n"
                    f"pid {self.dir}/nginx.pid;\n"
                    f"error_log {self.error_log} warn;\n"
                    f"events {{ worker_connections 4096; }}\n"
                    f"http {{\n"
                    f"  access_log off;\n"
                    f"  client_body_temp_path {self.dir}/body;\n"
                    f"  proxy_temp_path {self.dir}/proxy;\n"
                    f"  include {self.dir}/paddlecloud.conf;\n"
                    f"}}\n")

    def start(self, port, upstream_ports):
        """Starts nginx in the foreground on 127.0.0.1:port; ready when /readyz answers 200 through it."""
        self.stop()
        self.write_conf(port, upstream_ports)
        # As root, workers would switch to nobody, who cannot enter the temp dir (0700).
        globals_ = "daemon off; user root;" if os.geteuid() == 0 else "daemon off;"
        cmd = [self.binary, "-p", self.dir + "/", "-c", os.path.join(self.dir, "nginx.conf"), "-e", self.error_log,
               "-g", globals_]
        test = subprocess.run(cmd + ["-t"], capture_output=True, text=True)
        if test.returncode != 0:
            raise BenchError(f"nginx rejected the generated config:\n{test.stderr}")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, "logs", "stderr.log"), "ab"),
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        self.port = port

        def up():
            if self.proc.poll() is not None:
                raise BenchError(f"nginx exited:\n{self.errors()}")
            return get_status("127.0.0.1", port, "/readyz")[0] == 200
        wait_for("nginx answering /readyz 200", up, 15)
        log(f"nginx on 127.0.0.1:{port} (master pid {self.proc.pid}) -> "
            + ", ".join(f"127.0.0.1:{p}" for p in upstream_ports))

    def errors(self, n=10):
        try:
            with open(self.error_log, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                log(f"nginx pid {self.proc.pid} did not stop on SIGQUIT; killing it")
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def replica_diagnostics(pg, db, replicas):
    """What the lease, the database sessions and the replicas say, for an error message."""
    out = []
    for title, sql in (("leader_lease (now_ms last)",
                        "SELECT *, (extract(epoch FROM clock_timestamp()) * 1000)::bigint FROM leader_lease"),
                       ("sessions", "SELECT pid, state, wait_event_type, wait_event, backend_start, xact_start, "
                                    f"left(query, 100) FROM pg_stat_activity WHERE datname = '{db}'")):
        try:
            out.append(f"{title}:\n{pg.psql(db, sql).rstrip()}")
        except BenchError as e:
            out.append(f"{title}: {e}")
    for r in replicas:
        out.append(f"server on :{r.port} (pid {r.proc.pid if r.proc else '-'}, alive {r.alive()}), log ends:\n{r.tail()}")
    return "\n".join(out)


def sign_up_via(host, port, data):
    """The jobs_bench sign-up against `host:port` (nginx), reading mail from `data`/outbox."""
    bench = jobs_bench.Bench("")
    bench.data = data
    bench.api = jobs_bench.Api(host, port)
    bench.sign_up()
    bench.api.close()
    return bench.token


# --------------------------------------------------------------------------------------- run
class State:
    def __init__(self):
        self.tmp = None
        self.pg = None
        self.singles = []
        self.replicas = []
        self.leader = None  # the replica that leads, stopped last (the others would take over in turn)
        self.nginx = None

    def cleanup(self):
        if self.nginx is not None:
            self.nginx.stop()
        for r in sorted(self.replicas, key=lambda r: r is self.leader):
            try:
                r.stop()
            except Exception as e:  # noqa: BLE001
                log(f"clean-up: stopping the server on port {r.port} failed: {e}")
        for b in self.singles:
            try:
                b.cleanup()  # stops jobs left running, the server, then the pod supervisors; removes b.tmp
            except Exception as e:  # noqa: BLE001
                log(f"clean-up: {e}")
        if self.pg is not None:
            self.pg.stop()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)


def fmt_ms(r):
    return f"{r['p50_ms']:.2f}/{r['p99_ms']:.2f}"


def run(st, build_dir, out_path):
    binary = os.path.join(build_dir, "paddlecloud")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load_start = os.getloadavg()
    btype = jobs_bench.build_type(build_dir)
    print(f"machine: {cores} cores (nproc), load average {load_start[0]:.2f} {load_start[1]:.2f} "
          f"{load_start[2]:.2f} at start", flush=True)
    if btype != "Release":
        log(f"warning: {binary} is a {btype} build; report figures from a Release build")

    wrk = Wrk(env_int("BENCH_DB_THREADS", 2), env_int("BENCH_DB_CONNS", 32), env_int("BENCH_DB_DURATION", 10),
              env_int("BENCH_DB_WARMUP", 2))
    submits = env_int("BENCH_DB_SUBMITS", 200)
    seed_count = env_int("BENCH_DB_SEED", 100000, minimum=500)  # 50 named *resnet*
    failovers = env_int("BENCH_DB_FAILOVERS", 3)
    if not shutil.which("psql"):
        raise BenchError("psql not found (scripts/install-deps)")
    if not (shutil.which("nginx") or os.access("/usr/sbin/nginx", os.X_OK)):
        raise BenchError("nginx not found (Debian package 'nginx-light', /usr/sbin/nginx)")

    st.tmp = tempfile.mkdtemp(prefix="database_bench.", dir=os.environ.get("TMPDIR") or None)
    st.pg = Postgres(st.tmp)
    st.pg.start()
    pg_version = st.pg.version()
    for db in ("single", "replicas"):
        st.pg.psql("postgres", f"CREATE DATABASE {db}")

    # ------------------------------------------------------------ 1. SQLite vs PostgreSQL
    engines = ("sqlite", "postgres")
    label = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
    servers = {}
    servers["sqlite"] = start_single(build_dir, st.tmp, "sqlite", [])
    st.singles.append(servers["sqlite"])
    servers["postgres"] = start_single(build_dir, st.tmp, "postgres", ["--database-url", st.pg.url("single")])
    st.singles.append(servers["postgres"])
    for e in engines:
        ready = servers[e].api.call("GET", "/readyz")["checks"]
        if ready.get("database_engine", e) != e:
            raise BenchError(f"the {label[e]} server reports database_engine {ready.get('database_engine')}")
        me = servers[e].api.call("GET", "/api/v1/me")
        if me.get("user", {}).get("email") != EMAIL:
            raise BenchError(f"GET /api/v1/me on {label[e]} does not name the user: {me}")

    rows = []  # the SQLite vs PostgreSQL table

    def url(e, path):
        return f"http://{servers[e].api.host}:{servers[e].api.port}{path}"

    def wrk_both(key, title, path):
        res = {}
        for e in engines:
            log(f"wrk -t{wrk.threads} -c{wrk.conns} -d{wrk.seconds}s {path} on {label[e]} ...")
            res[e] = wrk.run(url(e, path), servers[e].token)
            log(f"  {label[e]}: {res[e]['rps']:.0f} req/s, p50/p99 {fmt_ms(res[e])} ms")
        rows.append({"key": key, "benchmark": title, "path": path, "unit": "req/s", **res})

    # a. authenticated small GET
    wrk_both("me", "GET /api/v1/me (Bearer token)", "/api/v1/me")

    # b. sequential submits
    res = {}
    for e in engines:
        log(f"submitting {submits} jobs one after another on {label[e]} ...")
        res[e] = submit_jobs(servers[e], submits)
        log(f"  {label[e]}: {res[e]['rps']:.1f} submits/s, p50/p99 {fmt_ms(res[e])} ms; waiting for the jobs to end")
        took, states = wait_jobs_done(servers[e], timeout=max(120, submits))
        res[e]["jobs_ended_after_s"] = round(took, 2)
        res[e]["job_states"] = states
        log(f"  {label[e]}: every job ended {took:.1f} s after the last submit: {states}")
        if states.get("Succeeded", 0) != submits:
            log(f"warning: not every job on {label[e]} succeeded: {states}")
    rows.append({"key": "submit", "benchmark": f"POST /api/v1/jobs, {submits} one after another", "path": "/api/v1/jobs",
                 "unit": "submits/s", **res})

    # c. listing with the seeded jobs
    seeding = {}
    log(f"inserting {seed_count:,} jobs into SQLite ...")
    s, total = seed_sqlite(servers["sqlite"], seed_count)
    seeding["sqlite"] = {"seconds": round(s, 2), "jobs_total": total}
    log(f"  SQLite: {s:.1f} s, {total:,} jobs in the table")
    log(f"inserting {seed_count:,} jobs into PostgreSQL ...")
    s, analyze, total = seed_postgres(st.pg, "single", seed_count)
    seeding["postgres"] = {"seconds": round(s, 2), "analyze_seconds": round(analyze, 2), "jobs_total": total}
    log(f"  PostgreSQL: {s:.1f} s (+ ANALYZE {analyze:.1f} s), {total:,} jobs in the table")
    sizes = {}
    for path, needle in (("/api/v1/jobs?limit=50", None), ("/api/v1/jobs?limit=50&name=resnet", "resnet")):
        for e in engines:
            sizes[(path, e)] = check_list(servers[e], path, needle)
    n_total = seeding["sqlite"]["jobs_total"]
    wrk_both("list", f"GET /api/v1/jobs?limit=50, {n_total:,} jobs", "/api/v1/jobs?limit=50")
    wrk_both("list_name", "  the same &name=resnet (substring)", "/api/v1/jobs?limit=50&name=resnet")
    for r in rows:
        if r["key"].startswith("list"):
            for e in engines:
                r[e]["response_bytes"] = sizes[(r["path"], e)]

    for b in list(st.singles):  # they would only take CPU from the replicas
        b.cleanup()
        st.singles.remove(b)
    log("SQLite and PostgreSQL single servers stopped")

    # ------------------------------------------------------------ 2. 1 vs 3 replicas behind nginx
    taken = set()
    front = free_port(taken)
    ports = [free_port(taken) for _ in range(3)]
    rdata = os.path.join(st.tmp, "replicas", "data")
    os.makedirs(rdata)
    rargs = ["--database-url", st.pg.url("replicas"), "--public-url", f"http://127.0.0.1:{front}",
             "--trusted-proxies", "127.0.0.1"]
    logs_dir = os.path.join(st.tmp, "replicas")

    def replica(port, level):
        r = Replica(binary, rdata, port, rargs, logs_dir, level)
        st.replicas.append(r)
        return r

    leader = st.leader = replica(ports[0], "warn")
    checks = leader.wait_leading()
    log(f"replica on port {ports[0]} leads ({checks.get('leader')})")
    st.nginx = Nginx(st.tmp)
    st.nginx.start(front, ports[:1])
    token = sign_up_via("127.0.0.1", front, rdata)
    front_url = f"http://127.0.0.1:{front}/api/v1/me"
    me = jobs_bench.Api("127.0.0.1", front, token)
    if me.call("GET", "/api/v1/me").get("user", {}).get("email") != EMAIL:
        raise BenchError("GET /api/v1/me through nginx does not name the user")
    me.close()
    rep = {}
    log(f"wrk -t{wrk.threads} -c{wrk.conns} -d{wrk.seconds}s /api/v1/me through nginx, 1 replica ...")
    rep["one"] = wrk.run(front_url, token)
    log(f"  1 replica: {rep['one']['rps']:.0f} req/s, p50/p99 {fmt_ms(rep['one'])} ms")
    standbys = [replica(p, "info") for p in ports[1:]]
    for s in standbys:
        s.wait_standing_by()
    log(f"replicas on ports {ports[1]} and {ports[2]} stand by")
    st.nginx.start(front, ports)
    log(f"wrk -t{wrk.threads} -c{wrk.conns} -d{wrk.seconds}s /api/v1/me through nginx, 3 replicas ...")
    rep["three"] = wrk.run(front_url, token)
    log(f"  3 replicas: {rep['three']['rps']:.0f} req/s, p50/p99 {fmt_ms(rep['three'])} ms")
    if not leader.alive() or not all(s.alive() for s in standbys):
        raise BenchError("a replica exited during the measurement")

    # ------------------------------------------------------------ 3. fail-over
    def epoch_of(body):
        m = re.search(r"epoch (\d+)", json.loads(body)["checks"].get("leader", ""))
        return int(m.group(1)) if m else 0

    status, body = get_status("127.0.0.1", front, "/readyz")
    if status != 200:
        raise BenchError(f"/readyz through nginx answered {status}")
    epoch = epoch_of(body)
    runs = []
    for k in range(1, failovers + 1):
        live = [r for r in st.replicas if r.alive()]
        others = [r for r in live if r is not leader]
        t0 = time.monotonic()
        leader.kill()
        killed_port = leader.port
        direct_ms = None
        new_leader = None
        deadline = t0 + 30
        while True:
            now = time.monotonic()
            if direct_ms is None:
                for r in others:
                    st_, b_ = get_status("127.0.0.1", r.port, "/readyz", timeout=1)
                    if st_ == 200 and epoch_of(b_) > epoch:
                        direct_ms = (time.monotonic() - t0) * 1000
                        new_leader = r
                        break
            st_, b_ = get_status("127.0.0.1", front, "/readyz")
            if st_ == 200 and epoch_of(b_) > epoch:
                nginx_ms = (time.monotonic() - t0) * 1000
                new_epoch = epoch_of(b_)
                break
            if now > deadline:
                raise BenchError(f"fail-over {k}: /readyz through nginx not 200 with a new epoch within 30 s"
                                 f" (last: {st_})\n" + replica_diagnostics(st.pg, "replicas", others))
            for r in others:
                r.check_alive()
            time.sleep(0.01)
        if new_leader is None:  # nginx saw it before the direct probe did
            for r in others:
                st_, b_ = get_status("127.0.0.1", r.port, "/readyz")
                if st_ == 200:
                    new_leader = r
            direct_ms = nginx_ms
        if new_leader is None:
            raise BenchError(f"fail-over {k}: no replica answers /readyz on its own port")
        log(f"fail-over {k}/{failovers}: kill -9 of :{killed_port} -> /readyz 200 through nginx in {nginx_ms:.0f} ms "
            f"(:{new_leader.port} answered itself after {direct_ms:.0f} ms; epoch {epoch} -> {new_epoch})")
        runs.append({"nginx_ms": round(nginx_ms, 1), "leader_ready_ms": round(direct_ms, 1),
                     "killed_port": killed_port, "new_leader_port": new_leader.port, "epoch": new_epoch})
        epoch = new_epoch
        leader = st.leader = new_leader
        st.replicas = [r for r in st.replicas if r.proc is not None]
        replacement = replica(killed_port, "info")
        replacement.wait_standing_by()
        log(f"  replacement standby on :{killed_port} stands by")
    load_end = os.getloadavg()

    # ------------------------------------------------------------ 4. tables + JSON
    def verdict(ratio, target):
        return "PASS" if ratio >= target else "BELOW"

    print()
    print(f"Database benchmark: {binary} ({btype}), PostgreSQL {pg_version} (scripts/test-postgres: Unix socket, "
          f"fsync off), loopback, {cores} cores shared by wrk, nginx, PostgreSQL and the servers")
    print(f"wrk -t{wrk.threads} -c{wrk.conns} -d{wrk.seconds}s --latency after {wrk.warmup} s warm-up; load average "
          f"at start {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}, at end {load_end[0]:.2f} "
          f"{load_end[1]:.2f} {load_end[2]:.2f}")
    print()
    fmt = "{:<42} {:>9} {:>10} {:>13} {:>11} {:>13} {:>6} {:>7} {:>6}"
    print(fmt.format("1. SQLite vs PostgreSQL", "unit", "SQLite", "p50/p99 ms", "PostgreSQL", "p50/p99 ms", "ratio",
                     "target", "result"))
    for r in rows:
        r["ratio"] = r["postgres"]["rps"] / r["sqlite"]["rps"]
        r["target"] = PG_RATIO_TARGET
        r["result"] = verdict(r["ratio"], PG_RATIO_TARGET)
        digits = 1 if r["unit"] == "submits/s" else 0
        print(fmt.format(r["benchmark"], r["unit"], f"{r['sqlite']['rps']:.{digits}f}", fmt_ms(r["sqlite"]),
                         f"{r['postgres']['rps']:.{digits}f}", fmt_ms(r["postgres"]), f"{r['ratio']:.2f}",
                         f">= {PG_RATIO_TARGET}", r["result"]))
    print()
    rep_ratio = rep["three"]["rps"] / rep["one"]["rps"]
    rep_result = verdict(rep_ratio, REPLICA_RATIO_TARGET)
    print(fmt.format("2. behind nginx, on PostgreSQL", "unit", "1 replica", "p50/p99 ms", "3 replicas", "p50/p99 ms",
                     "ratio", "target", "result"))
    print(fmt.format("GET /api/v1/me through nginx", "req/s", f"{rep['one']['rps']:.0f}", fmt_ms(rep["one"]),
                     f"{rep['three']['rps']:.0f}", fmt_ms(rep["three"]), f"{rep_ratio:.2f}",
                     f">= {REPLICA_RATIO_TARGET}", rep_result))
    print()
    nginx_ms = [r["nginx_ms"] for r in runs]
    direct = [r["leader_ready_ms"] for r in runs]
    print(f"3. fail-over, kill -9 of the leader of 3 -> GET /readyz 200 through nginx ({failovers} runs)")
    print(f"   through nginx:       median {statistics.median(nginx_ms):.0f} ms, max {max(nginx_ms):.0f} ms   "
          f"[{', '.join(f'{x:.0f}' for x in nginx_ms)}]")
    print(f"   new leader directly: median {statistics.median(direct):.0f} ms, max {max(direct):.0f} ms   "
          f"[{', '.join(f'{x:.0f}' for x in direct)}]   (lease 3 s; nginx fail_timeout 1 s)")
    print()
    print(f"submit: jobs ended {rows[1]['sqlite']['jobs_ended_after_s']:.1f} s (SQLite) / "
          f"{rows[1]['postgres']['jobs_ended_after_s']:.1f} s (PostgreSQL) after the last submit; "
          f"seeding {seed_count:,} jobs took {seeding['sqlite']['seconds']:.1f} s (SQLite) / "
          f"{seeding['postgres']['seconds']:.1f} s + ANALYZE {seeding['postgres']['analyze_seconds']:.1f} s (PostgreSQL)")

    result = {
        "benchmark": "database",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "binary": binary,
        "build_type": btype,
        "postgres_version": pg_version,
        "nginx_version": st.nginx.version(),
        "cores": cores,
        "loadavg_start": [round(x, 2) for x in load_start],
        "loadavg_end": [round(x, 2) for x in load_end],
        "wrk": {"threads": wrk.threads, "connections": wrk.conns, "duration_s": wrk.seconds, "warmup_s": wrk.warmup},
        "sqlite_vs_postgres": [
            {"name": r["key"], "benchmark": r["benchmark"].strip(), "path": r["path"], "unit": r["unit"],
             "sqlite": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in r["sqlite"].items()},
             "postgres": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in r["postgres"].items()},
             "ratio": round(r["ratio"], 3), "target_min": PG_RATIO_TARGET, "result": r["result"]} for r in rows],
        "seeding": dict(seeding, jobs=seed_count),
        "replicas_behind_nginx": {
            "path": "/api/v1/me",
            "one": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in rep["one"].items()},
            "three": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in rep["three"].items()},
            "ratio": round(rep_ratio, 3), "target_min": REPLICA_RATIO_TARGET, "result": rep_result},
        "failover": {"runs": runs, "median_ms": round(statistics.median(nginx_ms), 1), "max_ms": round(max(nginx_ms), 1),
                     "leader_ready_median_ms": round(statistics.median(direct), 1),
                     "leader_ready_max_ms": round(max(direct), 1), "poll_interval_ms": 10, "lease_ttl_s": 3,
                     "nginx_fail_timeout_s": 1},
    }
    jobs_bench.write_results(out_path, result)


def main(argv):
    build_dir = jobs_bench.build_dir_of(argv)
    if isinstance(build_dir, int):
        return build_dir
    out_path = os.environ.get("BENCH_OUT_DATABASE") or os.path.join(build_dir, "bench-database.json")

    def on_term(signum, frame):
        raise Interrupted()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    st = State()
    return jobs_bench.run_guarded(lambda: run(st, build_dir, out_path), st.cleanup)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
