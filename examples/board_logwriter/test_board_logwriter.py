"""Tests of the board_logwriter example: the script runs as a job's process would, with the SDK on
PYTHONPATH, and the TensorBoard event file it leaves in the job's board folder holds its curves.

    /usr/bin/python3 -m unittest discover -s examples/board_logwriter
"""
import os
import re
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SDK_DIR = os.path.abspath(os.path.join(HERE, "..", "..", "sdk", "python"))
sys.path.insert(0, SDK_DIR)
from paddlecloud import board  # noqa: E402  (read_scalars reads the event file back)

STEP_LINE = re.compile(r"^step (\d+) train loss ([0-9.]+) eval loss ([0-9.]+) eval accuracy ([0-9.]+)$", re.M)


def run_script(job_dir, *args, numpy=True):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": SDK_DIR, "PADDLE_CLOUD_JOB_DIR": job_dir,
           "POD_NAME": "lw-1-trainer-0"}
    code = "import sys; sys.modules['numpy'] = None; " if not numpy else ""
    code += "import runpy; sys.argv = ['train.py'] + %r; runpy.run_path(%r, run_name='__main__')" % (
        list(args), os.path.join(HERE, "train.py"))
    return subprocess.run([sys.executable, "-c", "import sys\n" + code], env=env, capture_output=True, text=True,
                          timeout=120, check=True).stdout


class BoardLogWriterExampleTest(unittest.TestCase):
    def test_the_event_file_in_the_job_board_folder_holds_every_curve(self):
        with tempfile.TemporaryDirectory() as job_dir:
            output = run_script(job_dir, "--steps", "120")
            folder = os.path.join(job_dir, "board")
            (name,) = os.listdir(folder)
            self.assertRegex(name, r"^events\.out\.tfevents\.\d+\.lw-1-trainer-0\.\d+\.0$")
            self.assertIn("event file " + os.path.join(folder, name), output)
            curves = {}
            for tag, step, _, value in board.read_scalars(os.path.join(folder, name)):
                curves.setdefault(tag, []).append((step, value))
        self.assertEqual(sorted(curves), ["eval/accuracy", "eval/loss", "train/accuracy", "train/loss"])
        self.assertEqual([s for s, _ in curves["train/loss"]], list(range(120)))
        eval_steps = list(range(0, 120, 10)) + [119]
        self.assertEqual([s for s, _ in curves["eval/loss"]], eval_steps)
        losses = [v for _, v in curves["train/loss"]]
        self.assertLess(losses[-1], losses[0] / 2, losses[:3] + losses[-3:])
        self.assertGreater(curves["eval/accuracy"][-1][1], 0.8)
        # The printed figures are the logged ones (as 32-bit floats).
        printed = STEP_LINE.findall(output)
        self.assertEqual([int(p[0]) for p in printed], eval_steps)
        for (_, logged), line in zip(curves["eval/loss"], printed):
            self.assertAlmostEqual(logged, float(line[2]), delta=1e-6)

    def test_numpy_is_optional_and_changes_no_number(self):
        with tempfile.TemporaryDirectory() as with_numpy, tempfile.TemporaryDirectory() as without:
            self.assertEqual(run_script(with_numpy, "--steps", "20").splitlines()[:-1],
                             run_script(without, "--steps", "20", numpy=False).splitlines()[:-1])

    def test_logdir_is_where_the_file_goes(self):
        with tempfile.TemporaryDirectory() as job_dir:
            logdir = os.path.join(job_dir, "vdl")
            run_script(job_dir, "--steps", "3", "--logdir", logdir)
            self.assertFalse(os.path.exists(os.path.join(job_dir, "board")))
            (name,) = os.listdir(logdir)
            self.assertEqual(len(board.read_scalars(os.path.join(logdir, name))), 3 * 2 + 2 * 2)


if __name__ == "__main__":
    unittest.main()
