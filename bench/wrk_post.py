"""wrk sending one JSON POST body (through a Lua script), and the figures of its --latency report.

Shared by bench/model_server_bench.py and bench/serving_bench.py.
"""
import json
import re
import subprocess

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


class WrkError(Exception):
    pass


def write_script(path, body):
    """A wrk Lua script that POSTs `body` (a JSON-serialisable value) as application/json."""
    with open(path, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = %s\n'
                % json.dumps(json.dumps(body)))
    return path


def _seconds(text):
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise WrkError("cannot read wrk's latency '%s'" % text)
    return float(match.group(1)) * _UNITS[match.group(2)]


def run(url, script, conns, seconds, threads=2, headers=(), prefix=()):
    """Runs wrk (after `prefix`, e.g. nsenter) for `seconds`: {"rps", "p50", "p99", "requests"}
    (latencies in seconds). A non-2xx answer, a connect error or a timeout is a WrkError (read and
    write errors are not: wrk's connections are reset when it stops)."""
    args = list(prefix) + ["wrk", "-t%d" % min(threads, conns), "-c%d" % conns, "-d%ds" % seconds, "--latency",
                           "-s", script]
    for header in headers:
        args += ["-H", header]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise WrkError("%s non-2xx answers from %s" % (errors.group(1), url))
    failed = re.search(r"Socket errors: connect (\d+), read \d+, write \d+, timeout (\d+)", out)
    if failed and (int(failed.group(1)) or int(failed.group(2))):
        raise WrkError("wrk %s: %s" % (url, failed.group(0)))
    return {"requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": _seconds(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
            "p99": _seconds(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))}
