#!/usr/bin/env python3
"""Paddle Board SDK benchmark: what draw_board and LogWriter.add_scalar cost a training loop.

Usage: python3 bench/board_sdk_bench.py [BUILD_DIR]   (BUILD_DIR only names where the JSON goes)
  env: BENCH_BOARD_CALLS   calls per measured loop (default 1,000,000)
       BENCH_BOARD_ROUNDS  rounds; each figure is the median over them (default 5)
       BENCH_OUT_BOARD_SDK JSON result file (default BUILD_DIR/bench-board-sdk.json, else none)

In a temporary job folder (PADDLE_CLOUD_JOB_DIR), each round measures, one after the other:
  1. `out.append(cost)` in a tight loop: the baseline, the cheapest thing a loop can do per step;
  2. `draw_board(cost)` in the same loop, with the SDK's writer thread running as it does in
     training (it competes for the GIL: its encoding is part of the figure), target 200,000 calls/s;
  3. `writer.add_scalar("train/loss", cost, i)` of a LogWriter, the same way;
  4. the writer alone: 100,000 buffered points of each kind encoded and written to disk by flush().
The ratio is how many list.append calls one draw_board call costs, measured in the same round. Each
figure is given per second of wall time and per CPU second of the process (both threads): on a
machine that other work keeps busy, the second is the steadier one. The loop times end when the last call returns (the points are then
buffered, not yet written); every file is read back and counted before the figures are printed.
"""
import json
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "sdk", "python"))

DRAW_TARGET = 200_000
WRITER_POINTS = 100_000


def env_int(name, default):
    raw = os.environ.get(name, "")
    return int(raw) if raw else default


def rate(loop, calls):
    """(calls per second of wall time, calls per CPU second of this process)."""
    start, cpu = time.perf_counter(), time.process_time()
    loop(calls)
    return calls / (time.perf_counter() - start), calls / (time.process_time() - cpu)


def baseline(calls):
    out = []
    cost = 0.25
    for _ in range(calls):
        out.append(cost)


def make_loops(board, writer):
    def drawn(calls):
        cost = 0.25
        for _ in range(calls):
            board.draw_board(cost)

    def scalars(calls):
        cost = 0.25
        add_scalar = writer.add_scalar
        for i in range(calls):
            add_scalar("train/loss", cost, i)

    return drawn, scalars


def writer_rate(board, drawn, scalars):
    """Points per second that flush() encodes and writes, with nothing else running."""
    board.flush()
    timed_flush, board._flush_all = board._flush_all, lambda timed=False: None   # the writer thread's flushes wait
    try:
        drawn(WRITER_POINTS)
        scalars(WRITER_POINTS)
        start, cpu = time.perf_counter(), time.process_time()
        timed_flush()
        elapsed, cpu_elapsed = time.perf_counter() - start, time.process_time() - cpu
    finally:
        board._flush_all = timed_flush
    return 2 * WRITER_POINTS / elapsed, 2 * WRITER_POINTS / cpu_elapsed


def count_points(board, folder):
    return sum(len(board.read_scalars(os.path.join(folder, name))) for name in os.listdir(folder))


def main(argv):
    calls = env_int("BENCH_BOARD_CALLS", 1_000_000)
    rounds = env_int("BENCH_BOARD_ROUNDS", 5)
    out_path = os.environ.get("BENCH_OUT_BOARD_SDK") or (
        os.path.join(os.path.abspath(argv[1]), "bench-board-sdk.json") if len(argv) > 1 else "")
    with tempfile.TemporaryDirectory(prefix="board-sdk-bench-") as job_dir:
        os.environ["PADDLE_CLOUD_JOB_DIR"] = job_dir
        os.environ.pop("PADDLE_CLOUD_URL", None)
        from paddlecloud import board
        writer = board.LogWriter()
        drawn, scalars = make_loops(board, writer)
        drawn(1000)                  # the call site's names are resolved on its first call
        scalars(1000)
        board.flush()
        figures = {"append": [], "draw_board": [], "ratio": [], "add_scalar": [], "writer": []}
        for _ in range(rounds):
            append_rate = rate(baseline, calls)
            draw_rate = rate(drawn, calls)
            figures["append"].append(append_rate)
            figures["draw_board"].append(draw_rate)
            figures["ratio"].append((append_rate[0] / draw_rate[0], append_rate[1] / draw_rate[1]))
            figures["add_scalar"].append(rate(scalars, calls))
            figures["writer"].append(writer_rate(board, drawn, scalars))
        board.flush()
        written = count_points(board, os.path.join(job_dir, "board"))
        expected = 2 * (1000 + rounds * (calls + WRITER_POINTS))
        writer.close()
    if written != expected:
        print(f"board_sdk_bench: the files hold {written} points, not {expected}", file=sys.stderr)
        return 1
    median = {name: [statistics.median(v[i] for v in values) for i in (0, 1)] for name, values in figures.items()}
    print()
    print(f"Paddle Board SDK benchmark: Python {sys.version.split()[0]}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}, {calls:,} calls a loop, median of {rounds} rounds; target: draw_board "
          f">= {DRAW_TARGET:,} calls/s")
    print(f"{'':<56} {'per second':>12} {'per CPU second':>15}")
    rows = [("list.append(cost), calls (baseline)", "append", "{:,.0f}"),
            ("draw_board(cost), calls (writer thread running)", "draw_board", "{:,.0f}"),
            ("  cost of one draw_board call in list.append calls", "ratio", "{:.1f}"),
            ("LogWriter.add_scalar(tag, cost, step), calls", "add_scalar", "{:,.0f}"),
            ("writer alone: points encoded and written to disk", "writer", "{:,.0f}")]
    for label, key, fmt in rows:
        print(f"{label:<56} {fmt.format(median[key][0]):>12} {fmt.format(median[key][1]):>15}")
    print(f"points read back from the event files: {written:,}")
    if out_path:
        with open(out_path, "w") as f:
            json.dump({"benchmark": "board_sdk", "python": sys.version.split()[0], "calls": calls,
                       "rounds": rounds, "median": median, "all": figures}, f, indent=2)
        print(f"results: {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
