"""Tests of the fit_a_line example: real pserver and trainer processes with the job environment.

    /usr/bin/python3 -m unittest discover -s examples/fit_a_line

Each job runs on free loopback ports under a deadline; the trainers' `pass N cost X` lines are the
evidence that training works.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import contextlib
import io
import json
from unittest import mock

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN_PY = os.path.join(HERE, "train.py")
sys.path.insert(0, HERE)
import train  # noqa: E402  (the pure functions; the processes run the file itself)

SDK_DIR = os.path.join(HERE, "..", "..", "sdk", "python")
PYTHON_WORKER = os.path.join(HERE, "..", "..", "sdk", "serving", "paddlecloud_python_worker.py")
# paddlecloud-model-server: $PADDLECLOUD_MODEL_SERVER, else the Makefile's build directory.
MODEL_SERVER = os.environ.get("PADDLECLOUD_MODEL_SERVER") or os.path.join(
    HERE, "..", "..", os.environ.get("BUILD_DIR", "build"), "paddlecloud-model-server")
sys.path.insert(0, SDK_DIR)
from paddlecloud import board  # noqa: E402  (read_scalars reads what trainer 0 drew)

DEADLINE = 40.0          # seconds for one whole job; a healthy one takes a few
PASS_LINE = re.compile(r"^pass (\d+) cost ([0-9.eE+-]+)$", re.M)
FINAL_LINE = re.compile(r"^final cost ([0-9.eE+-]+)$", re.M)


def free_ports(n):
    # Hold every socket until all are bound so the kernel cannot hand out one port twice.
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class LocalJob:
    """A fit_a_line job as local processes, each with the environment a PaddleCloud pod gets."""

    def __init__(self, test, trainers, pservers, python=sys.executable, extra_env=None, args=()):
        self.test = test
        self.trainers, self.pservers = trainers, pservers
        self.python, self.args = python, list(args)
        self.dir = tempfile.mkdtemp(prefix="fit_a_line_test.")
        test.addCleanup(shutil.rmtree, self.dir, True)
        self.job_dir = os.path.join(self.dir, "job")
        os.makedirs(self.job_dir)
        ports = free_ports(trainers + pservers)
        self.ps_ports, self.tr_ports = ports[:pservers], ports[pservers:]
        self.extra_env = extra_env or {}
        self.procs = {}   # name -> (Popen, log path)
        self.deadline = time.monotonic() + DEADLINE
        test.addCleanup(self.kill_all)

    def env(self, role, index, port):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PADDLE_", "FIT_")) and k not in ("TRAINING_ROLE", "POD_IP")}
        env.update({
            "TRAINING_ROLE": role, "PADDLE_TRAINING_ROLE": role,
            "PADDLE_TRAINER_ID": str(index), "PADDLE_TRAINERS_NUM": str(self.trainers),
            "PADDLE_TRAINER_ENDPOINTS": ",".join("127.0.0.1:%d" % p for p in self.tr_ports),
            "PADDLE_PSERVERS_IP_PORT_LIST": ",".join("127.0.0.1:%d" % p for p in self.ps_ports),
            "PADDLE_PORT": str(port), "POD_IP": "127.0.0.1", "PADDLE_JOB_ID": "fit-a-line-test",
            "PADDLE_CLOUD_JOB_DIR": self.job_dir,
            "FIT_CONNECT_TIMEOUT": "20", "FIT_RPC_TIMEOUT": "20",
        })
        env.update(self.extra_env)
        return env

    def start(self, role, index):
        port = (self.ps_ports if role == "PSERVER" else self.tr_ports)[index]
        name = "%s-%d" % (role.lower(), index)
        log_path = os.path.join(self.dir, name + ".log")
        with open(log_path, "wb") as log:   # files, not pipes: nothing can block on a full pipe
            proc = subprocess.Popen([self.python, TRAIN_PY] + self.args, cwd=HERE,
                                    env=self.env(role, index, port), stdout=log,
                                    stderr=subprocess.STDOUT)
        self.procs[name] = (proc, log_path)
        return name

    def start_pservers(self):
        return [self.start("PSERVER", i) for i in range(self.pservers)]

    def start_trainers(self):
        return [self.start("TRAINER", i) for i in range(self.trainers)]

    def wait(self, name):
        """The process's exit code, failing the test if it outlives the job's deadline."""
        proc, _ = self.procs[name]
        try:
            return proc.wait(timeout=max(0.1, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.test.fail("%s still running at the deadline; its log:\n%s" % (name, self.log(name)))

    def log(self, name):
        with open(self.procs[name][1], encoding="utf-8", errors="replace") as f:
            return f.read()

    def kill_all(self):
        for proc, _ in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    def run(self, trainer_first=False):
        """Starts the job, waits for it, checks every process exited 0; returns the trainer logs."""
        if trainer_first:
            trainers = self.start_trainers()
            time.sleep(1.5)   # the trainers are retrying by now
            pservers = self.start_pservers()
        else:
            pservers = self.start_pservers()
            trainers = self.start_trainers()
        for name in trainers:
            self.test.assertEqual(self.wait(name), 0, "%s failed:\n%s" % (name, self.log(name)))
        # Nobody stops the pservers: they must exit 0 on their own once every trainer is done.
        for name in pservers:
            self.test.assertEqual(self.wait(name), 0, "%s failed:\n%s" % (name, self.log(name)))
            self.test.assertIn("all %d trainers done" % self.trainers, self.log(name))
        return [self.log(name) for name in trainers]


def pass_costs(log):
    passes = [(int(n), float(c)) for n, c in PASS_LINE.findall(log)]
    return [c for _, c in passes], [n for n, _ in passes]


def temp_dir(test, prefix):
    path = tempfile.mkdtemp(prefix=prefix)
    test.addCleanup(shutil.rmtree, path, True)
    return path


def write_file(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def export_data(test, path, *args):
    """`python3 train.py --export-data PATH ...` as a user runs it: no job environment."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PADDLE_", "FIT_")) and k != "TRAINING_ROLE"}
    result = subprocess.run([sys.executable, TRAIN_PY, "--export-data", path] + list(args),
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True, timeout=30)
    test.assertEqual(result.returncode, 0, result.stdout + result.stderr)
    return result


class FitALineJobTest(unittest.TestCase):

    def assert_learns(self, logs, passes=20):
        for log in logs:
            costs, numbers = pass_costs(log)
            self.assertEqual(numbers, list(range(passes)), log)
            self.assertLess(costs[-1], costs[0] / 5, "cost did not fall:\n" + log)
            # Mostly monotone: nearly every pass improves, and none gets much worse.
            falls = sum(b < a for a, b in zip(costs, costs[1:]))
            self.assertGreaterEqual(falls, 0.8 * (len(costs) - 1), log)
            for a, b in zip(costs, costs[1:]):
                self.assertLess(b, a * 1.1, log)

    def assert_model(self, path, logs):
        self.assertTrue(os.path.isfile(path), path)
        model = np.load(path)
        self.assertEqual(model["w"].shape, (train.NUM_FEATURES,))
        final = float(FINAL_LINE.search(logs[0]).group(1))
        self.assertAlmostEqual(float(model["cost"][0]), final, places=4)
        # The saved parameters really fit the data, as well as the log says.
        X, y = train.make_dataset(506, 1)
        params = np.concatenate([model["w"], model["b"]])
        self.assertAlmostEqual(train.cost_and_gradient(params, X, y)[0], final, places=4)
        return final

    def test_one_pserver_two_trainers(self):
        # Started as a pod starts it: `python3 train.py` with the PATH's python3, which may lack
        # numpy (train.py then switches to /usr/bin/python3).
        job = LocalJob(self, trainers=2, pservers=1, python=shutil.which("python3") or sys.executable)
        logs = job.run()
        self.assert_learns(logs)
        final = self.assert_model(os.path.join(job.job_dir, "model", "fit_a_line.npz"), logs)
        self.assertLess(final, pass_costs(logs[0])[0][0] / 50)
        self.assertNotIn("final cost", logs[1])   # only trainer 0 evaluates and saves
        print("\n1 pserver + 2 trainers, trainer 0 costs:", pass_costs(logs[0])[0], "final", final)

    def test_trainer_started_before_pserver(self):
        job = LocalJob(self, trainers=2, pservers=1)
        logs = job.run(trainer_first=True)
        self.assertIn("waiting for pserver", logs[0])
        self.assert_learns(logs)
        self.assert_model(os.path.join(job.job_dir, "model", "fit_a_line.npz"), logs)

    def test_two_pservers_two_trainers(self):
        data = tempfile.mkdtemp(prefix="fit_a_line_data.")
        self.addCleanup(shutil.rmtree, data, True)
        job = LocalJob(self, trainers=2, pservers=2, extra_env={"PADDLE_CLOUD_DATA": data})
        logs = job.run()
        self.assert_learns(logs)
        self.assert_model(os.path.join(job.job_dir, "model", "fit_a_line.npz"), logs)
        self.assert_model(os.path.join(data, "models", "fit_a_line.npz"), logs)
        self.assertIn("holding parameters [0, 2, 4, 6, 8, 10, 12]", job.log("pserver-0"))
        self.assertIn("holding parameters [1, 3, 5, 7, 9, 11, 13]", job.log("pserver-1"))

    def test_synchronous_sgd_is_deterministic(self):
        # The per-step barrier makes the numbers independent of timing and of how the parameters
        # are split: 1 and 3 pservers print the very same costs.
        one = LocalJob(self, trainers=2, pservers=1, args=["--passes", "5"]).run()
        three = LocalJob(self, trainers=2, pservers=3, args=["--passes", "5"]).run()
        self.assertEqual(PASS_LINE.findall(one[0]), PASS_LINE.findall(three[0]))
        self.assertEqual(PASS_LINE.findall(one[1]), PASS_LINE.findall(three[1]))

    def test_trainer_0_draws_the_cost_curves_on_the_board(self):
        # With the SDK importable (PYTHONPATH here, as pods have it; without it nothing is drawn).
        job = LocalJob(self, trainers=2, pservers=1, args=["--passes", "4"],
                       extra_env={"PYTHONPATH": SDK_DIR})
        logs = job.run()
        board_dir = os.path.join(job.job_dir, "board")
        files = os.listdir(board_dir)
        self.assertEqual(len(files), 1, files)     # trainer 0's; trainer 1 and the pserver draw nothing
        scalars = board.read_scalars(os.path.join(board_dir, files[0]))
        curves = {}
        for tag, step, _, value in scalars:
            curves.setdefault(tag, []).append((step, value))
        self.assertEqual(sorted(curves), ["cost/cost", "train_cost, test_cost/test_cost",
                                          "train_cost, test_cost/train_cost"])
        steps = train.steps_per_pass(506, 2, 32)
        self.assertEqual([s for s, _ in curves["cost/cost"]], list(range(4 * steps)))
        train_costs, passes = pass_costs(logs[0])
        self.assertEqual([s for s, _ in curves["train_cost, test_cost/train_cost"]], passes)
        for (_, drawn), printed in zip(curves["train_cost, test_cost/train_cost"], train_costs):
            self.assertAlmostEqual(drawn, printed, delta=printed * 1e-6)   # float32 on the board
        test_costs = [v for _, v in curves["train_cost, test_cost/test_cost"]]
        self.assertEqual(test_costs, sorted(test_costs, reverse=True), test_costs)   # held-out cost falls
        self.assertLess(test_costs[-1], test_costs[0] / 2, test_costs)

    def test_restarted_trainer_rejoins(self):
        # A pod restarted mid-job (restartPolicy OnFailure) picks up at the step its peers wait at.
        job = LocalJob(self, trainers=2, pservers=2, args=["--passes", "60"])
        pservers = job.start_pservers()
        job.start_trainers()
        victim = job.procs["trainer-1"][0]
        while "pass 3 cost" not in job.log("trainer-1"):
            self.assertLess(time.monotonic(), job.deadline, job.log("trainer-1"))
            self.assertIsNone(victim.poll(), job.log("trainer-1"))
            time.sleep(0.01)
        victim.kill()
        victim.wait()
        first_life = job.log("trainer-1")
        job.start("TRAINER", 1)
        for name in ["trainer-0", "trainer-1"] + pservers:
            self.assertEqual(job.wait(name), 0, "%s failed:\n%s" % (name, job.log(name)))
        self.assertNotIn("rejoining", first_life)
        self.assertIn("rejoining at step", job.log("trainer-1"))
        self.assertIn("pass 59 cost", job.log("trainer-1"))
        costs, numbers = pass_costs(job.log("trainer-0"))
        self.assertEqual(numbers, list(range(60)))
        self.assertLess(costs[-1], costs[0] / 5)
        print("\nrestarted trainer 1:", job.log("trainer-1").splitlines()[:3])

    def test_pserver_exits_zero_on_sigterm(self):
        job = LocalJob(self, trainers=2, pservers=1)
        name = job.start("PSERVER", 0)
        while "listening" not in job.log(name):
            self.assertLess(time.monotonic(), job.deadline, job.log(name))
            self.assertIsNone(job.procs[name][0].poll(), job.log(name))
            time.sleep(0.05)
        job.procs[name][0].send_signal(signal.SIGTERM)
        self.assertEqual(job.wait(name), 0, job.log(name))

    def test_missing_environment_is_explained(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("PADDLE_") and k != "TRAINING_ROLE"}
        result = subprocess.run([sys.executable, TRAIN_PY], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, universal_newlines=True, timeout=30)
        self.assertEqual(result.returncode, 2)
        self.assertIn("PADDLE_TRAINING_ROLE is not set", result.stderr)
        self.assertIn("PaddleCloud job", result.stderr)
        self.assertIn("README.md", result.stderr)

    def test_trainer_gives_up_without_pserver(self):
        job = LocalJob(self, trainers=1, pservers=1, extra_env={"FIT_CONNECT_TIMEOUT": "1"})
        name = job.start("TRAINER", 0)
        self.assertEqual(job.wait(name), 1, job.log(name))
        self.assertIn("could not reach pserver", job.log(name))


class DatasetJobTest(unittest.TestCase):
    """Upload a data set, train a job on it, find the model in models/: --export-data, --dataset."""

    def three_feature_csv(self, path, rows=400):
        rng = np.random.RandomState(7)
        X = rng.normal(0.0, 1.0, (rows, 3))
        y = X.dot([2.0, -1.0, 0.5]) + 5.0 + rng.normal(0.0, 0.1, rows)
        lines = ["rooms,age,distance,price"] + [
            ",".join(repr(v) for v in list(x) + [t]) for x, t in zip(X.tolist(), y.tolist())]
        return write_file(path, "\n".join(lines) + "\n")

    def test_exported_file_trains_exactly_like_the_generated_rows(self):
        # The user story: export (or bring) a CSV, upload it to datasets/, train on it by its path
        # in the account's files; the model lands in models/.
        data = temp_dir(self, "fit_a_line_data.")
        csv_path = os.path.join(data, "datasets", "uci_housing", "housing.csv")
        export_data(self, csv_path, "--samples", "300", "--seed", "5")
        with open(csv_path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[0], "CRIM,ZN,INDUS,CHAS,NOX,RM,AGE,DIS,RAD,TAX,PTRATIO,B,LSTAT,MEDV")
        self.assertEqual(len(lines), 301)

        args = ["--passes", "5", "--seed", "5"]
        generated_job = LocalJob(self, trainers=2, pservers=1, args=args + ["--samples", "300"])
        generated = generated_job.run()
        file_job = LocalJob(self, trainers=2, pservers=2, extra_env={"PADDLE_CLOUD_DATA": data},
                            args=args + ["--dataset", "datasets/uci_housing/housing.csv"])
        from_file = file_job.run()
        self.assertIn("dataset %s: 300 rows, 13 features" % csv_path, from_file[0])
        self.assertEqual(len(PASS_LINE.findall(from_file[0])), 5)
        for a, b in zip(generated, from_file):
            self.assertEqual(PASS_LINE.findall(a), PASS_LINE.findall(b))
            self.assertEqual(FINAL_LINE.findall(a), FINAL_LINE.findall(b))
        self.assertIn("model of 14 parameters", file_job.log("pserver-1"))

        model = np.load(os.path.join(data, "models", "fit_a_line.npz"))
        reference = np.load(os.path.join(generated_job.job_dir, "model", "fit_a_line.npz"))
        self.assertTrue(np.array_equal(model["w"], reference["w"]))
        self.assertTrue(np.array_equal(model["b"], reference["b"]))
        self.assertEqual(model["features"].tolist(), train.FEATURE_NAMES)
        self.assertEqual(model["target"].tolist(), ["MEDV"])

    def test_three_features_from_an_absolute_path(self):
        # The number of features follows the file: 4 parameters, split over 3 pservers that never
        # read it. FIT_DATASET works like --dataset; an absolute path is taken as given (as
        # $PADDLE_CLOUD_PUBLIC/... or $PADDLE_CLOUD_SHARED/... would be).
        public = temp_dir(self, "fit_a_line_public.")
        csv_path = self.three_feature_csv(os.path.join(public, "acme", "houses", "1.0", "h.csv"))
        models = temp_dir(self, "fit_a_line_models.")
        job = LocalJob(self, trainers=2, pservers=3,
                       extra_env={"FIT_DATASET": "$PADDLE_CLOUD_PUBLIC/acme/houses/1.0/h.csv",
                                  "PADDLE_CLOUD_PUBLIC": public, "FIT_MODEL_DIR": models})
        logs = job.run()
        self.assertIn("dataset %s: 400 rows, 3 features (rooms,age,distance), target price"
                      % csv_path, logs[0])
        self.assert_learns(logs)
        self.assertIn("holding parameters [0, 3]", job.log("pserver-0"))
        self.assertIn("holding parameters [1]", job.log("pserver-1"))
        self.assertIn("holding parameters [2]", job.log("pserver-2"))

        model = np.load(os.path.join(models, "fit_a_line.npz"))
        self.assertEqual(model["w"].shape, (3,))
        self.assertEqual(model["features"].tolist(), ["rooms", "age", "distance"])
        self.assertEqual(model["target"].tolist(), ["price"])
        final = float(FINAL_LINE.search(logs[0]).group(1))
        X, y, _ = train.load_dataset(csv_path)
        params = np.concatenate([model["w"], model["b"]])
        self.assertAlmostEqual(train.cost_and_gradient(params, X, y)[0], final, places=4)
        self.assertLess(final, pass_costs(logs[0])[0][0] / 5)
        print("\n3 features, trainer 0 costs:", pass_costs(logs[0])[0], "final", final)

    assert_learns = FitALineJobTest.assert_learns

    def test_trainers_with_different_data_sets_are_stopped(self):
        # The first hello sizes the pservers' model; a trainer whose file disagrees is told so.
        data = temp_dir(self, "fit_a_line_data.")
        housing = os.path.join(data, "housing.csv")
        export_data(self, housing)
        small = self.three_feature_csv(os.path.join(data, "small.csv"))
        job = LocalJob(self, trainers=2, pservers=1)
        job.start("PSERVER", 0)
        job.args = ["--dataset", housing]
        job.start("TRAINER", 0)
        while "holding parameters" not in job.log("pserver-0"):
            self.assertLess(time.monotonic(), job.deadline, job.log("pserver-0"))
            time.sleep(0.05)
        job.args = ["--dataset", small]
        job.start("TRAINER", 1)
        self.assertEqual(job.wait("trainer-1"), 2, job.log("trainer-1"))
        self.assertIn("holds a model of 14 parameters", job.log("trainer-1"))
        self.assertIn("3 features, 4 parameters: the trainers do not read the same data set",
                      job.log("trainer-1"))

    def bad_dataset(self, text=None, name="bad.csv"):
        """Runs a trainer on a data set (`text`, or no file if None); returns its log, checking it
        exited 2 without reaching for a pserver."""
        path = os.path.join(temp_dir(self, "fit_a_line_bad."), name)
        if text is not None:
            write_file(path, text)
        job = LocalJob(self, trainers=1, pservers=1, args=["--dataset", path],
                       extra_env={"FIT_CONNECT_TIMEOUT": "1"})
        job.start("TRAINER", 0)
        self.assertEqual(job.wait("trainer-0"), 2, job.log("trainer-0"))
        log = job.log("trainer-0")
        self.assertNotIn("waiting for pserver", log)
        self.assertIn("train.py: dataset %s" % path, log)
        return log

    def test_bad_files_are_explained(self):
        self.assertIn("does not exist", self.bad_dataset(None))
        self.assertIn("line 1: the file is empty", self.bad_dataset(""))
        self.assertIn("line 4: 2 columns, but the header has 3",
                      self.bad_dataset("a,b,y\n1,2,3\n4,5,6\n7,8\n"))
        self.assertIn("line 3, column 2 (b): 'five' is not a number",
                      self.bad_dataset("a,b,y\n1,2,3\n4,five,6\n"))

    def test_relative_path_is_in_the_account_files(self):
        data = temp_dir(self, "fit_a_line_data.")
        path = os.path.join(data, "datasets", "nope.csv")
        job = LocalJob(self, trainers=1, pservers=1, args=["--dataset", "datasets/nope.csv"],
                       extra_env={"PADDLE_CLOUD_DATA": data})
        job.start("TRAINER", 0)
        self.assertEqual(job.wait("trainer-0"), 2, job.log("trainer-0"))
        self.assertIn("dataset %s does not exist" % path, job.log("trainer-0"))


class ServingExportsTest(unittest.TestCase):
    """Trainer 0's model.onnx and model.py, served by the two runtimes, answer X·w + b."""

    def serve(self, command, port):
        """Starts a model server on `port`; returns its base URL once /v2/health/ready answers 200."""
        log_path = os.path.join(temp_dir(self, "fit_a_line_serve."), "server.log")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(self.stop, proc)
        url = "http://127.0.0.1:%d" % port
        deadline = time.monotonic() + 20
        while True:
            with open(log_path, encoding="utf-8", errors="replace") as f:
                output = f.read()
            self.assertIsNone(proc.poll(), "%s exited:\n%s" % (command[0], output))
            self.assertLess(time.monotonic(), deadline, "%s not ready:\n%s" % (command[0], output))
            try:
                with urllib.request.urlopen(url + "/v2/health/ready", timeout=2) as answer:
                    if answer.status == 200:
                        return url
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.05)

    @staticmethod
    def stop(proc):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def infer(self, url, X):
        body = {"inputs": [{"name": "x", "shape": list(X.shape), "datatype": "FP32",
                            "data": X.ravel().tolist()}]}
        request = urllib.request.Request(url + "/v2/models/fit-a-line/infer", json.dumps(body).encode(),
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            output = json.load(answer)["outputs"][0]
        self.assertEqual((output["name"], output["datatype"], output["shape"]), ("y", "FP32", [len(X), 1]))
        return np.array(output["data"], dtype=np.float64).reshape(len(X), 1)

    def test_both_runtimes_serve_the_trained_model(self):
        job = LocalJob(self, trainers=1, pservers=1, args=["--passes", "3"])
        job.run()
        model_dir = os.path.join(job.job_dir, "model")
        self.assertEqual(sorted(os.listdir(model_dir)),
                         ["fit_a_line.npz", "model.onnx", "model.py", "weights.npy"])
        model = np.load(os.path.join(model_dir, "fit_a_line.npz"))
        self.assertTrue(np.array_equal(np.load(os.path.join(model_dir, "weights.npy")),
                                       np.concatenate([model["w"], model["b"]])))
        X = train.make_test_set(101, 1)[0][:5].astype(np.float32)
        expected = X.astype(np.float64) @ model["w"].reshape(-1, 1) + model["b"][0]

        python_port, onnx_port = free_ports(2)
        python_url = self.serve([sys.executable, PYTHON_WORKER, "--model-dir", model_dir,
                                 "--name", "fit-a-line", "--port", str(python_port)], python_port)
        np.testing.assert_allclose(self.infer(python_url, X), expected, rtol=0, atol=1e-5)

        if not os.access(MODEL_SERVER, os.X_OK):
            self.skipTest("%s is not built (cmake --build build --target paddlecloud-model-server, "
                          "or set PADDLECLOUD_MODEL_SERVER): model.onnx not served" % MODEL_SERVER)
        onnx_url = self.serve([MODEL_SERVER, "--model", os.path.join(model_dir, "model.onnx"),
                               "--name", "fit-a-line", "--port", str(onnx_port)], onnx_port)
        np.testing.assert_allclose(self.infer(onnx_url, X), expected, rtol=0, atol=1e-5)
        print("\nserved fit-a-line: %s" % self.infer(onnx_url, X).ravel().round(4).tolist())

    def test_without_onnx_the_python_export_is_written_alone(self):
        model_dir = temp_dir(self, "fit_a_line_model.")
        printed = io.StringIO()
        with mock.patch.dict(sys.modules, {"onnx": None}), contextlib.redirect_stdout(printed):
            train.save_serving_exports(model_dir, np.arange(4.0))
        self.assertEqual(sorted(os.listdir(model_dir)), ["model.py", "weights.npy"])
        self.assertIn("python3-onnx is not installed: model.onnx not written", printed.getvalue())
        with open(os.path.join(model_dir, "model.py"), encoding="utf-8") as f:
            self.assertIn("NUM_FEATURES = 3", f.read())


class DatasetFunctionsTest(unittest.TestCase):

    def write(self, text):
        return write_file(os.path.join(temp_dir(self, "fit_a_line_csv."), "d.csv"), text)

    def assert_refused(self, text, message):
        path = self.write(text)
        with self.assertRaises(train.ConfigError) as caught:
            train.load_dataset(path)
        self.assertIn("dataset %s" % path, str(caught.exception))
        self.assertIn(message, str(caught.exception))

    def test_export_round_trips_exactly(self):
        path = os.path.join(temp_dir(self, "fit_a_line_csv."), "h.csv")
        train.export_dataset(path, 506, 1)
        X, y, columns = train.load_dataset(path)
        X0, y0 = train.make_dataset(506, 1)
        self.assertTrue(np.array_equal(X, X0))
        self.assertTrue(np.array_equal(y, y0))
        self.assertTrue(X.flags["C_CONTIGUOUS"])
        self.assertEqual(columns, train.FEATURE_NAMES + ["MEDV"])

    def test_reads_spreadsheet_csv(self):
        # A byte order mark, CRLF, spaces, quotes, blank lines: as spreadsheets write them.
        X, y, columns = train.load_dataset(self.write(
            "\ufeffx1, \"x 2\" ,y\r\n1,2,3\r\n\r\n 4 ,\"5\",6e0\r\n"))
        self.assertEqual(columns, ["x1", "x 2", "y"])
        self.assertEqual(X.tolist(), [[1.0, 2.0], [4.0, 5.0]])
        self.assertEqual(y.tolist(), [3.0, 6.0])

    def test_refuses_bad_files_naming_the_line(self):
        self.assert_refused("", "line 1: the file is empty")
        self.assert_refused("\n\n", "line 1: the file is empty")
        self.assert_refused("a,b,y\n", "line 1: a header but no data rows")
        self.assert_refused("1,2,3\n4,5,6\n", "line 1: the first line holds numbers")
        self.assert_refused("y\n1\n", "line 1: 1 column")
        self.assert_refused("a,,y\n1,2,3\n", "line 1: column 2 has no name")
        self.assert_refused("a,b,y\n1,2,3\n\n4,5,6,7\n", "line 4: 4 columns, but the header has 3")
        self.assert_refused("a,b,y\n1,2,3\n4,,6\n", "line 3, column 2 (b): '' is not a number")
        self.assert_refused("a,b,y\n1,2,nan\n", "line 2, column 3 (y): nan is not a finite number")
        self.assert_refused("a,b,y\n1,2,3\n\"4,5,6\n", "line 3: 1 column, but")  # open quote

    def test_missing_file_and_folder(self):
        folder = temp_dir(self, "fit_a_line_csv.")
        with self.assertRaisesRegex(train.ConfigError, "does not exist"):
            train.load_dataset(os.path.join(folder, "none.csv"))
        with self.assertRaisesRegex(train.ConfigError, "is a folder"):
            train.load_dataset(folder)

    def test_dataset_paths(self):
        with mock.patch.dict(os.environ, {"PADDLE_CLOUD_DATA": "/data", "PADDLE_CLOUD_PUBLIC": "/pub"}):
            self.assertEqual(train.resolve_dataset("datasets/uci_housing/housing.csv"),
                             "/data/datasets/uci_housing/housing.csv")
            self.assertEqual(train.resolve_dataset("/pub/acme/h/1/h.csv"), "/pub/acme/h/1/h.csv")
            self.assertEqual(train.resolve_dataset("$PADDLE_CLOUD_PUBLIC/acme/h.csv"),
                             "/pub/acme/h.csv")
        with mock.patch.dict(os.environ):
            os.environ.pop("PADDLE_CLOUD_DATA", None)
            self.assertEqual(train.resolve_dataset("h.csv"), os.path.abspath("h.csv"))


class PureFunctionsTest(unittest.TestCase):

    def test_shards_partition_rows_and_parameters(self):
        rows = np.concatenate([train.shard_rows(506, i, 3) for i in range(3)])
        self.assertEqual(sorted(rows.tolist()), list(range(506)))
        params = np.concatenate([train.shard_indices(i, 4) for i in range(4)])
        self.assertEqual(sorted(params.tolist()), list(range(train.NUM_PARAMS)))
        params = np.concatenate([train.shard_indices(i, 3, 4) for i in range(3)])
        self.assertEqual(sorted(params.tolist()), [0, 1, 2, 3])

    def test_every_pass_sees_the_whole_shard_in_equal_steps(self):
        for samples, trainers in ((506, 2), (506, 3), (100, 7)):
            steps = train.steps_per_pass(samples, trainers, 32)
            for t in range(trainers):
                rows = train.shard_rows(samples, t, trainers)
                batches = train.pass_batches(rows, steps, 32, 1, 0, t)
                self.assertEqual(len(batches), steps)
                self.assertEqual(sorted(np.concatenate(batches).tolist()), rows.tolist())

    def test_gradient_matches_finite_differences(self):
        X, y = train.make_dataset(50, 3)
        params = np.random.RandomState(0).normal(size=train.NUM_PARAMS)
        _, grad = train.cost_and_gradient(params, X, y)
        eps = 1e-6
        for k in range(train.NUM_PARAMS):
            d = np.zeros_like(params)
            d[k] = eps
            numeric = (train.cost_and_gradient(params + d, X, y)[0]
                       - train.cost_and_gradient(params - d, X, y)[0]) / (2 * eps)
            self.assertAlmostEqual(grad[k], numeric, places=4)

    def test_frames_round_trip(self):
        a, b = socket.socketpair()
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        train.send_frame(a, {"op": "push", "step": 3}, np.arange(5.0))
        header, payload = train.recv_frame(b)
        self.assertEqual((header["op"], header["step"], header["nbytes"]), ("push", 3, 40))
        self.assertEqual(payload.tolist(), [0.0, 1.0, 2.0, 3.0, 4.0])
        a.close()
        self.assertIsNone(train.recv_frame(b))

    def test_shard_barrier_applies_the_mean_once_all_pushed(self):
        shard = train.ParameterShard(2, trainers=2)
        self.assertFalse(shard.push(0, 0, 0.5, np.array([2.0, 0.0])))
        self.assertFalse(shard.push(0, 0, 0.5, np.array([4.0, 0.0])))  # a re-push replaces
        self.assertEqual(shard.version, 0)
        self.assertTrue(shard.push(0, 1, 0.5, np.array([0.0, 2.0])))
        self.assertEqual(shard.pull(1)[0], 1)
        self.assertEqual(shard.params.tolist(), [-1.0, -0.5])
        self.assertFalse(shard.push(0, 1, 0.5, np.array([9.0, 9.0])))  # stale: ignored
        with self.assertRaises(train.RpcError):
            shard.push(5, 0, 0.5, np.zeros(2))
        with self.assertRaises(train.RpcError):
            shard.push(1, 2, 0.5, np.zeros(2))


if __name__ == "__main__":
    unittest.main()
