#!/usr/bin/env bash
# Reverse-proxy benchmark: requests/s through our proxy (src/reverse_proxy) vs straight to a fast
# target (nginx serving a small static file), side by side in one run, at 64 connections.
#
# Usage: bench/proxy_bench.sh BUILD_DIR     (BUILD_DIR holds src/reverse_proxy/proxy_bench_server)
#   env: BENCH_DURATION seconds per wrk run (default 10), BENCH_CONNS (default 64), BENCH_THREADS (default 2)
# nginx runs one worker and the proxy one I/O thread; wrk shares the machine's cores with both.
# Target (informational): through the proxy >= 0.8x of going to nginx directly. For reference, a
# second nginx (one worker, keep-alive upstream connections) proxies to the first: what a proxy
# costs on this machine.
set -euo pipefail
BUILD_DIR=${1:?usage: $0 BUILD_DIR}
DURATION=${BENCH_DURATION:-10}
CONNS=${BENCH_CONNS:-64}
THREADS=${BENCH_THREADS:-2}
WORK=$(mktemp -d)
PROXY_PID=""
NGINX_PID=""
NGINX_PROXY_PID=""
cleanup() {
  [ -n "$NGINX_PROXY_PID" ] && kill "$NGINX_PROXY_PID" 2>/dev/null || true
  [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null || true
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/www"
printf '{"status":"ok"}' > "$WORK/www/status.json"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$WORK/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $WORK; proxy_temp_path $WORK; fastcgi_temp_path $WORK; uwsgi_temp_path $WORK; scgi_temp_path $WORK;
  server { listen 127.0.0.1:$PORT; root $WORK/www; default_type application/json; }
}
CONF
nginx -c "$WORK/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
PROXY_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/nginx-proxy"
sed -e "s|pid $WORK/nginx.pid|pid $WORK/nginx-proxy/nginx.pid|" -e "s|error_log $WORK/|error_log $WORK/nginx-proxy/|" \
    -e "s|  server { .*|  upstream target { server 127.0.0.1:$PORT; keepalive 256; }\n  server { listen 127.0.0.1:$PROXY_PORT; location / { proxy_pass http://target; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }|" \
    "$WORK/nginx.conf" > "$WORK/nginx-proxy/nginx.conf"
nginx -c "$WORK/nginx-proxy/nginx.conf" -g 'daemon off;' &
NGINX_PROXY_PID=$!
mkfifo "$WORK/proxy-stdin"
"$BUILD_DIR/src/reverse_proxy/proxy_bench_server" "127.0.0.1:$PORT" < "$WORK/proxy-stdin" > "$WORK/proxy.addr" &
PROXY_PID=$!
exec 3> "$WORK/proxy-stdin"
for _ in $(seq 100); do
  [ -s "$WORK/proxy.addr" ] && curl -sf "http://127.0.0.1:$PORT/status.json" > /dev/null && break
  sleep 0.1  # polling for start-up, with a deadline
done
PROXY=$(head -1 "$WORK/proxy.addr")
[ "$(curl -sf "http://$PROXY/status.json")" = '{"status":"ok"}' ] || { echo "proxy does not answer" >&2; exit 1; }

rate() {  # URL -> requests/s
  wrk -t"$THREADS" -c"$CONNS" -d2s "$1" > /dev/null
  wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" "$1" | awk '/Requests\/sec/ {print $2}'
}
DIRECT=$(rate "http://127.0.0.1:$PORT/status.json")
PROXIED=$(rate "http://$PROXY/status.json")
NGINX_PROXIED=$(rate "http://127.0.0.1:$PROXY_PORT/status.json")
RSS=$(awk '/VmRSS/ {print $2}' "/proc/$PROXY_PID/status")
python3 - "$DIRECT" "$PROXIED" "$RSS" "$CONNS" "$NGINX_PROXIED" <<'PY'
import sys
direct, proxied, rss, conns = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
nginx_proxied = float(sys.argv[5])
print(f"reverse proxy, GET 15-byte static file, {conns} connections")
print(f"  nginx directly      {direct:10.0f} req/s")
print(f"  through the proxy   {proxied:10.0f} req/s   ratio {proxied / direct:.2f} (target >= 0.80)")
print(f"  through nginx       {nginx_proxied:10.0f} req/s   ratio {nginx_proxied / direct:.2f} (reference: nginx as the proxy)")
print(f"  proxy RSS after run {rss / 1024:10.1f} MiB")
PY
