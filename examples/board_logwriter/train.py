#!/usr/bin/env python3
"""Logistic regression that logs its curves the VisualDL way: LogWriter(...).add_scalar(tag, value, step).

    python3 train.py [--steps 300] [--lr 0.5] [--logdir DIR]

The data are two Gaussian clouds in 2-D, generated from a seed (numpy when it is installed, else the
standard library: the numbers are the same either way). Every step is one full-batch gradient step;
every step logs train/loss and train/accuracy, every 10th step eval/loss and eval/accuracy on
held-out points. paddlecloud.board.LogWriter writes them as a TensorBoard event file: in a job under
$PADDLE_CLOUD_JOB_DIR/board/ (the job's Paddle Board shows the graphs "train" and "eval"), elsewhere
under ./board/ or --logdir, where TensorBoard opens it as it is.
"""
import argparse
import math
import random
import sys

try:
    from paddlecloud.board import LogWriter
except ImportError:
    sys.exit("train.py needs the PaddleCloud SDK: every job pod has it; elsewhere run it with "
             "PYTHONPATH=<repository>/sdk/python")

try:
    import numpy as np
except ImportError:
    np = None


def make_points(n, seed):
    """n points of two classes: class 1 around (1, 1), class 0 around (-1, -1), unit variance."""
    rng = random.Random(seed)
    points = []
    for i in range(n):
        label = i % 2
        centre = 1.0 if label else -1.0
        points.append((rng.gauss(centre, 1.0), rng.gauss(centre, 1.0), label))
    return points


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def evaluate(weights, points):
    """(mean cross-entropy, accuracy) of the model w·x + b on `points`."""
    w0, w1, b = weights
    loss = correct = 0
    for x0, x1, label in points:
        p = min(max(sigmoid(w0 * x0 + w1 * x1 + b), 1e-12), 1 - 1e-12)
        loss -= math.log(p) if label else math.log(1 - p)
        correct += (p >= 0.5) == bool(label)
    return loss / len(points), correct / len(points)


def gradient(weights, points):
    if np is not None:
        data = np.array(points)
        x, y = data[:, :2], data[:, 2]
        z = x @ np.array(weights[:2]) + weights[2]
        error = 1.0 / (1.0 + np.exp(-z)) - y
        return [float(v) for v in (x.T @ error / len(points))] + [float(error.mean())]
    g0 = g1 = gb = 0.0
    for x0, x1, label in points:
        error = sigmoid(weights[0] * x0 + weights[1] * x1 + weights[2]) - label
        g0, g1, gb = g0 + error * x0, g1 + error * x1, gb + error
    return [g0 / len(points), g1 / len(points), gb / len(points)]


def train(steps, lr, logdir=None, seed=7):
    """Trains and logs; returns the final (train loss, eval loss, eval accuracy)."""
    train_points, eval_points = make_points(400, seed), make_points(100, seed + 1)
    weights = [0.0, 0.0, 0.0]
    with LogWriter(logdir=logdir) as writer:
        for step in range(steps):
            weights = [w - lr * g for w, g in zip(weights, gradient(weights, train_points))]
            loss, accuracy = evaluate(weights, train_points)
            writer.add_scalar("train/loss", loss, step)
            writer.add_scalar("train/accuracy", accuracy, step)
            if step % 10 == 0 or step == steps - 1:
                eval_loss, eval_accuracy = evaluate(weights, eval_points)
                writer.add_scalar("eval/loss", eval_loss, step)
                writer.add_scalar("eval/accuracy", eval_accuracy, step)
                print("step %d train loss %.6f eval loss %.6f eval accuracy %.3f"
                      % (step, loss, eval_loss, eval_accuracy), flush=True)
    print("event file", writer.file_name, flush=True)     # written when the writer closed
    return loss, eval_loss, eval_accuracy


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--logdir", default=None, help="default: the job's board folder, else ./board")
    args = parser.parse_args()
    train(args.steps, args.lr, args.logdir)


if __name__ == "__main__":
    main()
