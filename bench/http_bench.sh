#!/usr/bin/env bash
# HTTP-core benchmark: paddlecloud server vs. nginx, side by side in one run.
#
# Usage: bench/http_bench.sh BUILD_DIR        (BUILD_DIR holds the Release binary `paddlecloud`)
#   env: BENCH_DURATION  seconds per measured wrk run        (default 10)
#        BENCH_WARMUP    seconds of wrk warm-up before each   (default 2)
#        BENCH_THREADS   wrk threads                          (default 2)
#        BENCH_CONNS     wrk connections                      (default 64)
#        BENCH_ROUNDS    rounds of (server, nginx) per endpoint; medians are reported (default 1)
#        BENCH_OUT       JSON result file                     (default BUILD_DIR/bench-http.json)
#
# What it does (everything under one mktemp -d dir, loopback only, cleaned up on exit):
#   1. starts `paddlecloud server --listen 127.0.0.1:0` on a fresh data dir with the access log off
#      (--access-log false --log-level warn) and waits (polling, with a deadline) for server.addr;
#   2. records the server's idle RSS (VmRSS) after start-up and a few warm-up requests;
#   3. starts nginx (worker_processes 2 = one per core, like the server's one I/O thread per core;
#      access_log off; huge keepalive_requests) serving the exact bytes the server returned for
#      /healthz and /api/v1/version as static files (default_type application/json);
#   4. for each endpoint runs `wrk -t2 -c64 -dNs --latency` against server then nginx, back to back,
#      each preceded by a short warm-up, so background load on the shared machine hits both
#      (BENCH_ROUNDS > 1 repeats the pair and reports per-side medians: use it on a noisy machine);
#   5. prints a table (req/s, ratio server/nginx, p50/p99 latency) and the targets
#      (idle RSS < 30 MiB; >= 0.80 of nginx req/s on /api/v1/version at 64 connections);
#   6. writes the results as JSON.
# Targets are informational: exit status is 0 unless something failed to run.
#
# Caveats: wrk runs on the same (shared) cores as the servers; the server's responses carry ~10
# headers (security headers, X-Request-Id, Date) while nginx's static responses carry fewer
# (Server, Date, Content-Type, Content-Length, Last-Modified, ETag, Accept-Ranges); the response
# sizes of both are printed. nginx serves a snapshot of /healthz (its uptime does not move).
set -euo pipefail

die() { echo "http_bench: error: $*" >&2; exit 1; }
log() { echo "http_bench: $*" >&2; }

[[ $# -ge 1 ]] || die "usage: $0 BUILD_DIR"
BUILD_DIR=$(cd "$1" 2>/dev/null && pwd) || die "BUILD_DIR '$1' does not exist"
BIN="$BUILD_DIR/paddlecloud"
[[ -x "$BIN" ]] || die "server binary not found or not executable: $BIN"

DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNS:-64}
ROUNDS=${BENCH_ROUNDS:-1}
for v in DURATION WARMUP THREADS CONNS ROUNDS; do
  [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "BENCH_$v must be a positive integer (got '${!v}')"
done
OUT=${BENCH_OUT:-$BUILD_DIR/bench-http.json}
RSS_TARGET_MIB=30
RATIO_TARGET=0.80
ENDPOINTS=(/healthz /api/v1/version)

WRK=$(command -v wrk || true)
[[ -n "$WRK" ]] || { [[ -x /usr/bin/wrk ]] && WRK=/usr/bin/wrk; } || true
[[ -n "$WRK" ]] || die "wrk not found (Debian package 'wrk')"
NGINX=$(command -v nginx || true)
[[ -n "$NGINX" ]] || { [[ -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx; } || true
[[ -n "$NGINX" ]] || die "nginx not found (Debian package 'nginx-light', /usr/sbin/nginx)"
command -v curl >/dev/null || die "curl not found"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/http_bench.XXXXXX")
SERVER_PID=""
NGINX_PID=""

stop_pid() {  # stop_pid PID SIGNAL: signal, wait up to 10 s, then SIGKILL
  local pid=$1 sig=$2 i
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid did not stop on SIG$sig; killing"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid "$NGINX_PID" QUIT
  stop_pid "$SERVER_PID" TERM
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- 1. start paddlecloud
mkdir -p "$TMP/data"
"$BIN" server --listen 127.0.0.1:0 --data-dir "$TMP/data" --access-log false --log-level warn \
  >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
deadline=$((SECONDS + 30))
while [[ ! -s "$TMP/data/server.addr" ]]; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    SERVER_PID=""
    tail -n 20 "$TMP/server.log" >&2 || true
    die "paddlecloud server exited during start-up"
  fi
  ((SECONDS < deadline)) || { tail -n 20 "$TMP/server.log" >&2; die "server did not write server.addr within 30 s"; }
  sleep 0.05
done
sleep 0.05  # let the writer finish the (tiny) file
SERVER_ADDR=$(tr -d ' \r\n' <"$TMP/data/server.addr")
[[ "$SERVER_ADDR" == 127.0.0.1:* ]] || die "unexpected server address '$SERVER_ADDR'"
SERVER_URL="http://$SERVER_ADDR"
log "paddlecloud listening on $SERVER_ADDR (pid $SERVER_PID)"

# ---------------------------------------------------------------- 2. idle RSS
for _ in 1 2 3 4 5; do
  for ep in "${ENDPOINTS[@]}"; do
    curl -fsS -o /dev/null "$SERVER_URL$ep" || die "GET $ep on the server failed"
  done
done
sleep 0.2
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
IDLE_RSS_KIB=$(rss_kib "$SERVER_PID")
IDLE_RSS_MIB=$(awk -v k="$IDLE_RSS_KIB" 'BEGIN {printf "%.1f", k / 1024}')

# ---------------------------------------------------------------- 3. start nginx
mkdir -p "$TMP/nginx/tmp" "$TMP/www/api/v1"
curl -fsS -o "$TMP/www/healthz" "$SERVER_URL/healthz" || die "fetching /healthz failed"
curl -fsS -o "$TMP/www/api/v1/version" "$SERVER_URL/api/v1/version" || die "fetching /api/v1/version failed"
# nginx workers run as the master's user when it is not root; as root, keep them root too so they
# can read the 0700 temp dir (loopback-only, short-lived).
USER_LINE=""
if [[ $EUID -eq 0 ]]; then USER_LINE="user root $(id -gn);"; fi
NGINX_V=$("$NGINX" -V 2>&1)
TEMP_LINES="client_body_temp_path $TMP/nginx/tmp/body;"
for m in proxy fastcgi uwsgi scgi; do
  [[ "$NGINX_V" == *"--without-http_${m}_module"* ]] || TEMP_LINES+=$'\n'"  ${m}_temp_path $TMP/nginx/tmp/$m;"
done

free_port() {
  if command -v python3 >/dev/null 2>&1 &&
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null; then
    return 0
  fi
  local p i
  for ((i = 0; i < 50; i++)); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

write_nginx_conf() {
  cat >"$TMP/nginx/nginx.conf" <<EOF
$USER_LINE
worker_processes 2;
daemon off;
master_process on;
pid $TMP/nginx/nginx.pid;
lock_file $TMP/nginx/nginx.lock;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  $TEMP_LINES
  types { }
  default_type application/json;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  server_tokens off;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:$1;
    root $TMP/www;
    location / { try_files \$uri =404; }
  }
}
EOF
}

NGINX_URL=""
for attempt in 1 2 3 4 5; do
  port=$(free_port) || die "could not find a free loopback port for nginx"
  write_nginx_conf "$port"
  "$NGINX" -p "$TMP/nginx/" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf" -t >"$TMP/nginx/test.log" 2>&1 ||
    { cat "$TMP/nginx/test.log" >&2; die "nginx rejected the generated config"; }
  "$NGINX" -p "$TMP/nginx/" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf" >"$TMP/nginx/stdout.log" 2>&1 &
  NGINX_PID=$!
  deadline=$((SECONDS + 10))
  while kill -0 "$NGINX_PID" 2>/dev/null && ((SECONDS < deadline)); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null; then
      NGINX_URL="http://127.0.0.1:$port"
      break
    fi
    sleep 0.05
  done
  [[ -n "$NGINX_URL" ]] && break
  log "nginx did not come up on port $port (attempt $attempt):"
  tail -n 5 "$TMP/nginx/error.log" >&2 2>/dev/null || true
  stop_pid "$NGINX_PID" QUIT
  NGINX_PID=""
done
[[ -n "$NGINX_URL" ]] || die "nginx failed to start"
log "nginx listening on ${NGINX_URL#http://} (master pid $NGINX_PID)"

for ep in "${ENDPOINTS[@]}"; do
  cmp -s <(curl -fsS "$NGINX_URL$ep") "$TMP/www${ep}" || die "nginx does not serve the expected body for $ep"
done

# response sizes (headers + body) and header counts, for the record
resp_info() {  # resp_info URL -> "<header_lines> <header_bytes> <body_bytes>"
  local h
  h=$(curl -fsS -D - -o /dev/null -w '' "$1" | tr -d '\r')
  local lines bytes body
  lines=$(printf '%s\n' "$h" | awk 'NR > 1 && NF > 0' | wc -l)
  bytes=$(curl -fsS -o /dev/null -w '%{size_header}' "$1")
  body=$(curl -fsS -o /dev/null -w '%{size_download}' "$1")
  echo "$lines $bytes $body"
}

# ---------------------------------------------------------------- 4. wrk runs
to_ms() {  # "1.23ms" / "456.78us" / "1.02s" / "2.00m" -> milliseconds
  awk -v v="$1" 'BEGIN {
    n = v; sub(/[a-z]+$/, "", n); u = v; sub(/^[0-9.]+/, "", u);
    if (u == "us") f = 0.001; else if (u == "ms") f = 1; else if (u == "s") f = 1000;
    else if (u == "m") f = 60000; else if (u == "h") f = 3600000; else f = -1;
    if (f < 0 || n == "") { print "nan"; exit }
    printf "%.3f", n * f }'
}

median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{v[NR] = $1} END {
  if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# per key: space-separated values of every round (ALL_*) and their medians (RPS, P50, P99)
declare -A ALL_RPS ALL_P50 ALL_P99 RPS P50 P99 ERRS NON2XX HDRS
run_wrk() {  # run_wrk KEY URL
  local key=$1 url=$2 out v e n
  "$WRK" -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" "$url" >/dev/null 2>&1 || die "wrk warm-up failed for $url"
  out=$("$WRK" -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$url" 2>&1) || { echo "$out" >&2; die "wrk failed for $url"; }
  v=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  [[ -n "$v" ]] || { echo "$out" >&2; die "could not parse wrk output for $url"; }
  ALL_RPS[$key]+="${ALL_RPS[$key]:+ }$v"
  ALL_P50[$key]+="${ALL_P50[$key]:+ }$(to_ms "$(awk '$1 == "50%" {print $2; exit}' <<<"$out")")"
  ALL_P99[$key]+="${ALL_P99[$key]:+ }$(to_ms "$(awk '$1 == "99%" {print $2; exit}' <<<"$out")")"
  e=$(awk '/Socket errors:/ {gsub(/,/, ""); print $4 + $6 + $8 + $10; f = 1} END {if (!f) print 0}' <<<"$out")
  n=$(awk '/Non-2xx or 3xx responses:/ {print $NF; f = 1} END {if (!f) print 0}' <<<"$out")
  ERRS[$key]=$((${ERRS[$key]:-0} + e))
  NON2XX[$key]=$((${NON2XX[$key]:-0} + n))
  if [[ "$e" != 0 || "$n" != 0 ]]; then
    log "warning: $url: socket errors $e, non-2xx/3xx $n"
  fi
}

for ep in "${ENDPOINTS[@]}"; do
  HDRS["server$ep"]=$(resp_info "$SERVER_URL$ep")
  HDRS["nginx$ep"]=$(resp_info "$NGINX_URL$ep")
done
for ((round = 1; round <= ROUNDS; round++)); do
  for ep in "${ENDPOINTS[@]}"; do
    log "round $round/$ROUNDS: wrk -t$THREADS -c$CONNS -d${DURATION}s $ep: server ..."
    run_wrk "server$ep" "$SERVER_URL$ep"
    log "round $round/$ROUNDS: wrk -t$THREADS -c$CONNS -d${DURATION}s $ep: nginx ..."
    run_wrk "nginx$ep" "$NGINX_URL$ep"
  done
done
for k in "${!ALL_RPS[@]}"; do
  RPS[$k]=$(median <<<"${ALL_RPS[$k]}")
  P50[$k]=$(median <<<"${ALL_P50[$k]}")
  P99[$k]=$(median <<<"${ALL_P99[$k]}")
done
LOADED_RSS_KIB=$(rss_kib "$SERVER_PID")
PEAK_RSS_KIB=$(hwm_kib "$SERVER_PID")

# ---------------------------------------------------------------- 5. table
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
echo
echo "HTTP core benchmark: wrk -t$THREADS -c$CONNS -d${DURATION}s --latency, keep-alive, loopback," \
  "$(nproc) cores shared with wrk$( ((ROUNDS > 1)) && echo ", median of $ROUNDS rounds")"
echo "server: $BIN   (access log off, log level warn)"
echo "nginx:  $("$NGINX" -v 2>&1 | sed 's/^nginx version: //')  (worker_processes 2, access_log off, static files)"
echo
printf '%-18s %14s %13s %7s %19s %18s\n' endpoint "server req/s" "nginx req/s" ratio "server p50/p99 ms" "nginx p50/p99 ms"
for ep in "${ENDPOINTS[@]}"; do
  printf '%-18s %14.0f %13.0f %7s %19s %18s\n' "$ep" "${RPS[server$ep]}" "${RPS[nginx$ep]}" \
    "$(ratio "${RPS[server$ep]}" "${RPS[nginx$ep]}")" \
    "$(printf '%.2f/%.2f' "${P50[server$ep]}" "${P99[server$ep]}")" \
    "$(printf '%.2f/%.2f' "${P50[nginx$ep]}" "${P99[nginx$ep]}")"
done
echo
for ep in "${ENDPOINTS[@]}"; do
  read -r sl sb sd <<<"${HDRS[server$ep]}"
  read -r nl nb nd <<<"${HDRS[nginx$ep]}"
  printf 'response %-16s server: %2d headers, %4d B head + %3d B body   nginx: %2d headers, %4d B head + %3d B body\n' \
    "$ep" "$sl" "$sb" "$sd" "$nl" "$nb" "$nd"
done
echo
RSS_PASS=$(awk -v r="$IDLE_RSS_MIB" -v t="$RSS_TARGET_MIB" 'BEGIN { print (r < t) ? "PASS" : "BELOW" }')
VER_RATIO=$(ratio "${RPS[server/api/v1/version]}" "${RPS[nginx/api/v1/version]}")
RATIO_PASS=$(awk -v r="$VER_RATIO" -v t="$RATIO_TARGET" 'BEGIN { print (r + 0 >= t) ? "PASS" : "BELOW" }')
LOADED_RSS_MIB=$(awk -v k="$LOADED_RSS_KIB" 'BEGIN {printf "%.1f", k / 1024}')
PEAK_RSS_MIB=$(awk -v k="$PEAK_RSS_KIB" 'BEGIN {printf "%.1f", k / 1024}')
echo "server idle RSS: $IDLE_RSS_MIB MiB (target < $RSS_TARGET_MIB MiB)  $RSS_PASS   [after load: $LOADED_RSS_MIB MiB, peak $PEAK_RSS_MIB MiB]"
echo "target: >= $RATIO_TARGET of nginx on /api/v1/version at $CONNS connections: $VER_RATIO  $RATIO_PASS"

# ---------------------------------------------------------------- 6. JSON
json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
json_list() { local x out=""; for x in $1; do out+="${out:+, }$(num "$x")"; done; printf '%s' "$out"; }
num() { [[ "$1" =~ ^-?[0-9]+(\.[0-9]+)?$ ]] && printf '%s' "$1" || printf 'null'; }
{
  printf '{\n'
  printf '  "benchmark": "http_core",\n'
  printf '  "timestamp": %s,\n' "$(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
  printf '  "binary": %s,\n' "$(json_str "$BIN")"
  printf '  "nginx_version": %s,\n' "$(json_str "$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')")"
  printf '  "cores": %s,\n' "$(nproc)"
  printf '  "wrk": {"threads": %s, "connections": %s, "duration_s": %s, "warmup_s": %s, "rounds": %s},\n' \
    "$THREADS" "$CONNS" "$DURATION" "$WARMUP" "$ROUNDS"
  printf '  "access_log": false,\n'
  printf '  "endpoints": [\n'
  n=${#ENDPOINTS[@]}
  for ((i = 0; i < n; i++)); do
    ep=${ENDPOINTS[$i]}
    printf '    {"path": %s, "ratio": %s,\n' "$(json_str "$ep")" "$(num "$(ratio "${RPS[server$ep]}" "${RPS[nginx$ep]}")")"
    for who in server nginx; do
      k="$who$ep"
      read -r hl hb bb <<<"${HDRS[$k]}"
      printf '     "%s": {"requests_per_sec": %s, "p50_ms": %s, "p99_ms": %s, "socket_errors": %s, "non_2xx_3xx": %s, "header_lines": %s, "header_bytes": %s, "body_bytes": %s,\n' \
        "$who" "$(num "${RPS[$k]}")" "$(num "${P50[$k]}")" "$(num "${P99[$k]}")" "$(num "${ERRS[$k]}")" \
        "$(num "${NON2XX[$k]}")" "$(num "$hl")" "$(num "$hb")" "$(num "$bb")"
      printf '       "rounds": {"requests_per_sec": [%s], "p50_ms": [%s], "p99_ms": [%s]}}' \
        "$(json_list "${ALL_RPS[$k]}")" "$(json_list "${ALL_P50[$k]}")" "$(json_list "${ALL_P99[$k]}")"
      [[ $who == server ]] && printf ',\n' || printf '}'
    done
    ((i < n - 1)) && printf ',\n' || printf '\n'
  done
  printf '  ],\n'
  printf '  "server_rss_mib": {"idle": %s, "after_load": %s, "peak": %s},\n' \
    "$(num "$IDLE_RSS_MIB")" "$(num "$LOADED_RSS_MIB")" "$(num "$PEAK_RSS_MIB")"
  printf '  "targets": {\n'
  printf '    "idle_rss_mib": {"limit": %s, "value": %s, "result": "%s"},\n' "$RSS_TARGET_MIB" "$(num "$IDLE_RSS_MIB")" "$RSS_PASS"
  printf '    "version_ratio_vs_nginx": {"min": %s, "value": %s, "result": "%s"}\n' "$RATIO_TARGET" "$(num "$VER_RATIO")" "$RATIO_PASS"
  printf '  }\n'
  printf '}\n'
} >"$TMP/result.json"
mkdir -p "$(dirname "$OUT")"
mv "$TMP/result.json" "$OUT"
echo "results: $OUT"
