#!/usr/bin/env python3
"""File service benchmark: paddlecloud vs. nginx (download) and dd (upload), side by side in one run.

Usage: bench/files_bench.py BUILD_DIR
  env: BENCH_FILE_MIB   size of the file            (default 1024)
       BENCH_ROUNDS     rounds of each pair; medians (default 3)
       BENCH_OUT        JSON result file            (default BUILD_DIR/bench-files.json)

What it measures, all on loopback and one disk, in one temporary directory:
  upload    one PUT of the file to a resumable upload session (the server streams it to disk,
            fsyncs and renames it into place) vs. `dd bs=1M conv=fsync` writing the same bytes to
            the same disk. Both read the source from the page cache, and each starts after `sync`
            with the previous round's output removed. The client sends with sendfile(2): curl's
            64 KiB upload buffer tops out near 700 MiB/s here even into a null sink, which would
            measure curl rather than the server.
  download  `curl -o /dev/null` of the uploaded file from /api/v1/download vs. nginx (sendfile on,
            2 workers, access log off) serving the very same file.
  memory    the server's RSS when idle before the transfers and its peak (VmHWM) after them.
Targets (informational; the exit status is 0 unless something failed to run): upload >= 0.8 of dd,
download >= 0.9 of nginx, RSS growth < 32 MiB.
"""
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request


def die(message):
    print(f"files_bench: error: {message}", file=sys.stderr)
    sys.exit(1)


def log(message):
    print(f"files_bench: {message}", file=sys.stderr, flush=True)


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    die(f"timed out waiting for {what}")


def proc_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class Api:
    def __init__(self, base):
        self.base = base
        self.token = None

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", "Bearer " + self.token)
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read()
            return json.loads(text) if text else None


def put_seconds(base, path, token, source):
    """One PUT of `source` as the body, sent with sendfile(2); seconds until the answer."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    size = os.path.getsize(source)
    with socket.create_connection((host, int(port))) as s, open(source, "rb") as f:
        start = time.monotonic()
        s.sendall((f"PUT {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                   f"Content-Length: {size}\r\nContent-Range: bytes 0-{size - 1}/{size}\r\n"
                   "Connection: close\r\n\r\n").encode())
        try:
            s.sendfile(f)
        except BrokenPipeError:
            pass  # the server answered early: its answer says why
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
        elapsed = time.monotonic() - start
    if not answer.startswith(b"HTTP/1.1 200"):
        die("upload failed: " + answer.decode(errors="replace")[-300:])
    return elapsed


def curl_seconds(args):
    out = subprocess.run(["curl", "-sS", "-f", "-o", "/dev/null", "-w", "%{time_total}"] + args,
                         check=True, capture_output=True, text=True).stdout
    return float(out)


def main():
    if len(sys.argv) < 2:
        die("usage: files_bench.py BUILD_DIR")
    build_dir = os.path.abspath(sys.argv[1])
    binary = os.path.join(build_dir, "paddlecloud")
    if not os.access(binary, os.X_OK):
        die(f"server binary not found: {binary}")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(nginx, os.X_OK):
        die("nginx not found (Debian package nginx-light)")
    size_mib = int(os.environ.get("BENCH_FILE_MIB", "1024"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    out_path = os.environ.get("BENCH_OUT", os.path.join(build_dir, "bench-files.json"))
    size = size_mib << 20

    tmp = tempfile.mkdtemp(prefix="files_bench.", dir=os.environ.get("TMPDIR", "/var/tmp"))
    server = nginx_proc = None
    try:
        data = os.path.join(tmp, "data")
        os.makedirs(data)
        server_log = open(os.path.join(tmp, "server.log"), "w")
        server = subprocess.Popen([binary, "server", "--listen", "127.0.0.1:0", "--data-dir", data,
                                   "--access-log", "false", "--storage-quota", "1000GiB"],
                                  stdout=server_log, stderr=subprocess.STDOUT)
        addr_file = os.path.join(data, "server.addr")
        wait_for(lambda: os.path.exists(addr_file) and open(addr_file).read().strip(), 30, "server.addr")
        base = "http://" + open(addr_file).read().strip()
        api = Api(base)
        api.call("POST", "/api/v1/auth/register",
                 {"email": "bench@example.com", "password": "benchmark password 1", "account_id": "bench"})
        link = wait_for(lambda: re.search(r"verify\?token=([A-Za-z0-9_-]+)",
                                          open(os.path.join(tmp, "server.log")).read()), 10, "the verification link")
        api.call("POST", "/api/v1/auth/verify", {"token": link.group(1)})
        api.token = api.call("POST", "/api/v1/auth/tokens",
                             {"email": "bench@example.com", "password": "benchmark password 1", "name": "bench"})["token"]
        for _ in range(5):
            api.call("GET", "/api/v1/storage")
        idle_rss = proc_kib(server.pid, "VmRSS")
        # Forget the peak so far (argon2id hashing at sign-up takes 64 MiB for a moment): VmHWM
        # then reports the peak of the transfers alone.
        try:
            with open(f"/proc/{server.pid}/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            log("cannot reset the peak RSS (/proc/PID/clear_refs): the peak includes sign-up")

        source = os.path.join(tmp, "source.bin")
        log(f"writing a {size_mib} MiB source file")
        block = os.urandom(8 << 20)
        with open(source, "wb") as f:
            for _ in range(size // len(block)):
                f.write(block)
            f.write(block[: size % len(block)])
        subprocess.run(["cat", source], stdout=subprocess.DEVNULL, check=True)  # into the page cache

        upload_s, dd_s = [], []
        target = os.path.join(tmp, "dd.bin")
        for r in range(rounds):
            if r > 0:
                api.call("DELETE", "/api/v1/files/datasets/bench.bin")
            session = api.call("POST", "/api/v1/uploads", {"path": "datasets/bench.bin", "size": size})
            subprocess.run(["sync"], check=True)
            upload_s.append(put_seconds(base, "/api/v1/uploads/" + session["id"], api.token, source))
            subprocess.run(["sync"], check=True)
            start = time.monotonic()
            subprocess.run(["dd", f"if={source}", f"of={target}", "bs=1M", "conv=fsync"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            dd_s.append(time.monotonic() - start)
            os.unlink(target)
            log(f"round {r + 1}: upload {size_mib / upload_s[-1]:.0f} MiB/s, dd {size_mib / dd_s[-1]:.0f} MiB/s")
        stored = os.path.join(data, "files", "bench", "datasets")
        if os.path.getsize(os.path.join(stored, "bench.bin")) != size:
            die("the uploaded file has the wrong size")

        with socket.socket() as s:  # nginx cannot listen on port 0: take a free port
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            # Workers read the file as the server does (nginx's default worker user cannot read 0600 files).
            f.write("user root;\n" if os.geteuid() == 0 else "")
            f.write(f"""worker_processes 2;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 256; }}
http {{
  access_log off; sendfile on; tcp_nopush on;
  client_body_temp_path {tmp}/nginx-body; proxy_temp_path {tmp}/nginx-proxy;
  fastcgi_temp_path {tmp}/nginx-fastcgi; uwsgi_temp_path {tmp}/nginx-uwsgi; scgi_temp_path {tmp}/nginx-scgi;
  server {{ listen 127.0.0.1:{port}; root {stored}; }}
}}
""")
        nginx_proc = subprocess.Popen([nginx, "-c", conf, "-g", "daemon off;"], stderr=subprocess.DEVNULL)
        nginx_url = f"http://127.0.0.1:{port}/bench.bin"
        wait_for(lambda: subprocess.run(["curl", "-sf", "-o", "/dev/null", "-r", "0-0", nginx_url]).returncode == 0,
                 10, "nginx")

        server_url = base + "/api/v1/download/datasets/bench.bin"
        auth = ["-H", "Authorization: Bearer " + api.token]
        server_s, nginx_s = [], []
        for r in range(2 * rounds + 1):
            server_s.append(curl_seconds(auth + [server_url]))
            nginx_s.append(curl_seconds([nginx_url]))
            log(f"round {r + 1}: download server {size_mib / server_s[-1]:.0f} MiB/s, "
                f"nginx {size_mib / nginx_s[-1]:.0f} MiB/s")
        peak_rss = proc_kib(server.pid, "VmHWM")

        def mib_s(seconds):
            return size_mib / statistics.median(seconds)

        result = {
            "file_mib": size_mib,
            "rounds": rounds,
            "upload_mib_s": round(mib_s(upload_s), 1),
            "dd_mib_s": round(mib_s(dd_s), 1),
            "upload_ratio": round(statistics.median(dd_s) / statistics.median(upload_s), 3),
            "download_mib_s": round(mib_s(server_s), 1),
            "nginx_mib_s": round(mib_s(nginx_s), 1),
            "download_ratio": round(statistics.median(nginx_s) / statistics.median(server_s), 3),
            "idle_rss_mib": round(idle_rss / 1024, 1),
            "peak_rss_mib": round(peak_rss / 1024, 1),
            "rss_growth_mib": round((peak_rss - idle_rss) / 1024, 1),
        }
        print()
        print(f"file service, {size_mib} MiB file, median of {rounds} (uploads) / {2 * rounds + 1} (downloads) rounds")
        print(f"  upload    {result['upload_mib_s']:8.0f} MiB/s   dd     {result['dd_mib_s']:8.0f} MiB/s"
              f"   ratio {result['upload_ratio']:.2f} (target >= 0.80)")
        print(f"  download  {result['download_mib_s']:8.0f} MiB/s   nginx  {result['nginx_mib_s']:8.0f} MiB/s"
              f"   ratio {result['download_ratio']:.2f} (target >= 0.90)")
        print(f"  RSS       idle {result['idle_rss_mib']} MiB, peak {result['peak_rss_mib']} MiB,"
              f" growth {result['rss_growth_mib']} MiB (target < 32)")
        with open(out_path, "w") as f:
            json.dump(result, f, indent=2)
        print(f"  results in {out_path}")
    finally:
        for p in (nginx_proc, server):
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
