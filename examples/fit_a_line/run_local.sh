#!/usr/bin/env bash
# Runs fit_a_line by hand, the way a PaddleCloud job would: PSERVERS pservers and TRAINERS trainers as
# local processes on free loopback ports, each with the job environment contract set.
#
#   ./run_local.sh                       # 1 pserver, 2 trainers
#   TRAINERS=3 PSERVERS=2 ./run_local.sh --passes 30 --lr 0.02
#
# Arguments go to every train.py. Logs and the model land in $PADDLE_CLOUD_JOB_DIR (a new temporary
# directory unless set). Exits non-zero if a trainer fails.
set -u

here="$(cd "$(dirname "$0")" && pwd)"
trainers="${TRAINERS:-2}"
pservers="${PSERVERS:-1}"
python="${PYTHON:-python3}"   # train.py switches to /usr/bin/python3 itself if this one lacks numpy
job_dir="${PADDLE_CLOUD_JOB_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/fit_a_line.XXXXXX")}"
mkdir -p "$job_dir/logs"

# Free ports: bind port 0 and let the kernel choose (one socket each, so no duplicates).
ports=($("$python" - "$((trainers + pservers))" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
))
join() { local IFS=,; echo "$*"; }
ps_eps=(); tr_eps=()
for ((i = 0; i < pservers; i++)); do ps_eps+=("127.0.0.1:${ports[$i]}"); done
for ((i = 0; i < trainers; i++)); do tr_eps+=("127.0.0.1:${ports[$((pservers + i))]}"); done

pids=()
cleanup() {   # only the processes this script started
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
}
trap cleanup EXIT INT TERM

start() {  # start ROLE INDEX PORT
  local role="$1" index="$2" port="$3"
  (
    cd "$here" &&
    exec env TRAINING_ROLE="$role" PADDLE_TRAINING_ROLE="$role" \
        PADDLE_TRAINER_ID="$index" PADDLE_TRAINERS_NUM="$trainers" \
        PADDLE_TRAINER_ENDPOINTS="$(join "${tr_eps[@]}")" \
        PADDLE_PSERVERS_IP_PORT_LIST="$(join "${ps_eps[@]}")" \
        PADDLE_PORT="$port" POD_IP=127.0.0.1 PADDLE_JOB_ID=fit-a-line-local \
        PADDLE_CLOUD_JOB_DIR="$job_dir" \
        "$python" train.py "${@:4}"
  ) >"$job_dir/logs/$(echo "$role" | tr A-Z a-z)-$index.log" 2>&1 &
  pids+=($!)
}

for ((i = 0; i < pservers; i++)); do start PSERVER "$i" "${ports[$i]}" "$@"; done
ps_pids=("${pids[@]}")
tr_pids=()
for ((i = 0; i < trainers; i++)); do
  start TRAINER "$i" "${ports[$((pservers + i))]}" "$@"
  tr_pids+=("${pids[-1]}")
done

failed=0
for ((i = 0; i < trainers; i++)); do
  if ! wait "${tr_pids[$i]}"; then echo "trainer $i failed" >&2; failed=1; fi
done
# Pservers exit by themselves once every trainer said done; after a failure, stop them (SIGTERM),
# as the platform does.
if ((failed)); then for pid in "${ps_pids[@]}"; do kill "$pid" 2>/dev/null; done; fi
for ((i = 0; i < pservers; i++)); do
  for _ in $(seq 50); do kill -0 "${ps_pids[$i]}" 2>/dev/null || break; sleep 0.2; done
  kill "${ps_pids[$i]}" 2>/dev/null && echo "pserver $i did not exit by itself; stopped it" >&2
  wait "${ps_pids[$i]}" || { echo "pserver $i exited non-zero" >&2; failed=1; }
done

for log in "$job_dir"/logs/*.log; do
  echo "==> $log <=="
  cat "$log"
done
echo "job directory: $job_dir"
exit "$failed"
