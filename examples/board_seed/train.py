#!/usr/bin/env python3
"""The Paddle Board's three seed calls, written exactly as in the product brief:

    draw_board(cost, evaluator)
    draw_board(my_metric)
    draw_board(my_metric_value)

They draw three graphs named as written: "cost, evaluator" (curves "cost" and "evaluator"),
"my_metric" and "my_metric_value". The numbers are a made-up training of --steps steps (default 50):
at step i, cost = 1 / (1 + i), evaluator = 1 - cost / 2, my_metric = i % 7 and my_metric_value =
0.5 * i. Standard library only.
"""
import argparse

from paddlecloud import draw_board


def main():
    parser = argparse.ArgumentParser(description="the Paddle Board's seed calls")
    parser.add_argument("--steps", type=int, default=50)
    steps = parser.parse_args().steps
    for i in range(steps):
        cost = 1.0 / (1 + i)
        evaluator = 1.0 - cost / 2
        my_metric = i % 7
        my_metric_value = 0.5 * i
        draw_board(cost, evaluator)
        draw_board(my_metric)
        draw_board(my_metric_value)
    print("drew %d steps" % steps, flush=True)


if __name__ == "__main__":
    main()
