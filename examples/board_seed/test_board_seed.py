"""Tests of the board_seed example: the brief's three calls, run as a job's process would run them,
leave three graphs named as written, each with its curves and every step.

    /usr/bin/python3 -m unittest discover -s examples/board_seed
"""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SDK_DIR = os.path.abspath(os.path.join(HERE, "..", "..", "sdk", "python"))
sys.path.insert(0, SDK_DIR)
from paddlecloud import board  # noqa: E402  (read_scalars and decode_tag read the file back)


class BoardSeedExampleTest(unittest.TestCase):
    def test_the_three_calls_draw_three_graphs_named_as_written(self):
        with tempfile.TemporaryDirectory() as job_dir:
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": SDK_DIR,
                   "PADDLE_CLOUD_JOB_DIR": job_dir}
            output = subprocess.run([sys.executable, os.path.join(HERE, "train.py"), "--steps", "30"], env=env,
                                    capture_output=True, text=True, timeout=60, check=True).stdout
            self.assertIn("drew 30 steps", output)
            folder = os.path.join(job_dir, "board")
            (name,) = os.listdir(folder)
            graphs = {}
            for tag, step, _, value in board.read_scalars(os.path.join(folder, name)):
                graph, curve = board.decode_tag(tag)
                graphs.setdefault(graph, {}).setdefault(curve, []).append((step, value))
        self.assertEqual({g: sorted(c) for g, c in graphs.items()},
                         {"cost, evaluator": ["cost", "evaluator"], "my_metric": ["my_metric"],
                          "my_metric_value": ["my_metric_value"]})
        expected = {("cost, evaluator", "cost"): lambda i: 1.0 / (1 + i),
                    ("cost, evaluator", "evaluator"): lambda i: 1.0 - 0.5 / (1 + i),
                    ("my_metric", "my_metric"): lambda i: float(i % 7),
                    ("my_metric_value", "my_metric_value"): lambda i: 0.5 * i}
        for (graph, curve), value_at in expected.items():
            points = graphs[graph][curve]
            self.assertEqual([step for step, _ in points], list(range(30)), (graph, curve))
            for step, value in points:
                self.assertAlmostEqual(value, value_at(step), places=6, msg=(graph, curve, step))


if __name__ == "__main__":
    unittest.main()
