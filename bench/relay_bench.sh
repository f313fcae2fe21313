#!/usr/bin/env bash
# The local backend's inward relay (the platform's way into a service replica's job network):
# `relay_bench` measures it in-process (direct, relay, and sockets made inside but used outside),
# then wrk (2 threads, 64 keep-alive connections, as the gateway's pool would) against nginx (one
# worker) running inside a job network, straight from inside it and through the relay, side by side.
#
# Usage: bench/relay_bench.sh BUILD_DIR     (BUILD_DIR holds src/cluster/relay_bench)
#   env: BENCH_DURATION seconds per wrk run (default 5), BENCH_CONNS (default 64)
# Root only (job networks, and nsenter to run nginx and wrk inside one): skipped otherwise.
set -euo pipefail
BUILD_DIR=${1:?usage: $0 BUILD_DIR}
DURATION=${BENCH_DURATION:-5}
CONNS=${BENCH_CONNS:-64}
if [ "$(id -u)" != 0 ]; then
  echo "relay_bench: skipped (needs root)"
  exit 0
fi
"$BUILD_DIR/src/cluster/relay_bench" "$CONNS" "$DURATION"

WORK=$(mktemp -d)
RELAY_PID=""
NGINX_PID=""
cleanup() {
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  exec 3>&- 2>/dev/null || true  # the relay's standard input ends: it stops
  [ -n "$RELAY_PID" ] && wait "$RELAY_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT=18080  # inside the job network, where nothing else listens
mkdir -p "$WORK/www"
printf '{"ready": true}' > "$WORK/www/ready"
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
mkfifo "$WORK/relay-stdin"
"$BUILD_DIR/src/cluster/relay_bench" serve "$PORT" < "$WORK/relay-stdin" > "$WORK/relay.out" &
RELAY_PID=$!
exec 3> "$WORK/relay-stdin"
for _ in $(seq 100); do
  [ -s "$WORK/relay.out" ] && break
  sleep 0.1  # polling for start-up, with a deadline
done
read -r KEEPER RELAY_PORT < "$WORK/relay.out"
INSIDE=(nsenter --net="/proc/$KEEPER/ns/net")
"${INSIDE[@]}" nginx -c "$WORK/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$RELAY_PORT/ready" > /dev/null && break
  sleep 0.1
done
[ "$(curl -sf "http://127.0.0.1:$RELAY_PORT/ready")" = '{"ready": true}' ] || { echo "the relay does not answer" >&2; exit 1; }

measure() {  # CONNECTIONS THREADS [inside] -> "requests/s p50"
  local run=(wrk -t"$2" -c"$1" -d"${DURATION}s" --latency)
  local url="http://127.0.0.1:$RELAY_PORT/ready"
  if [ "${3:-}" = inside ]; then run=("${INSIDE[@]}" "${run[@]}"); url="http://127.0.0.1:$PORT/ready"; fi
  "${run[@]}" "$url" | awk '/Requests\/sec/ {rps = $2} $1 == "50%" {p50 = $2} END {print rps, p50}'
}
"${INSIDE[@]}" wrk -t2 -c"$CONNS" -d2s "http://127.0.0.1:$PORT/ready" > /dev/null  # warm-up
read -r DIRECT DIRECT_P50 < <(measure "$CONNS" 2 inside)
read -r RELAYED RELAYED_P50 < <(measure "$CONNS" 2)
read -r _ DIRECT_ONE < <(measure 1 1 inside)
read -r _ RELAYED_ONE < <(measure 1 1)
python3 - "$CONNS" "$DIRECT" "$RELAYED" "$DIRECT_P50" "$RELAYED_P50" "$DIRECT_ONE" "$RELAYED_ONE" <<'PY'
import sys
conns, direct, relayed = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
def us(text):  # wrk's "35.00us", "1.20ms", "1.01s"
    for unit, scale in (("us", 1), ("ms", 1e3), ("s", 1e6)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    return float("nan")
direct_p50, relayed_p50, direct_one, relayed_one = (us(t) for t in sys.argv[4:8])
print(f"inward relay, wrk on nginx (one worker) inside a job network, {conns} connections")
print(f"  straight, from inside  {direct:10.0f} req/s   p50 {direct_p50:8.0f} us")
print(f"  through the relay      {relayed:10.0f} req/s   p50 {relayed_p50:8.0f} us   ratio {relayed / direct:.2f}")
print(f"  one connection, p50    {direct_one:8.0f} us straight, {relayed_one:8.0f} us relayed (+{relayed_one - direct_one:.0f} us)")
PY
