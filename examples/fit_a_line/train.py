#!/usr/bin/env python3
"""fit_a_line: distributed linear regression on a parameter server, in Python and numpy.

The same program runs as every pod of a PaddleCloud job; PADDLE_TRAINING_ROLE says which part it
plays. It reads only the job environment contract (see README.md), so it also runs by hand with
run_local.sh.

  * The data: by default a deterministic synthetic "UCI housing" set, 13 standardized features and
    a price, y = X.w + b + noise, generated from a seed, so every pod builds the same rows without
    shipping a file (--export-data writes it as CSV). With --dataset, the rows of a CSV file instead
    (a header line, then numbers; the last column is the target), typically one uploaded to the
    account's datasets/ and read under $PADDLE_CLOUD_DATA. Every trainer reads the same rows; trainer
    i of n trains on rows i, i+n, i+2n, ...
  * The model: w (one weight per feature) and b: 14 parameters for the generated set. Parameter k
    lives on pserver k % num_pservers. Pservers never read the data: each learns the number of
    parameters from the first trainer's hello, and a trainer that disagrees stops.
  * The algorithm: synchronous SGD. At every global step each trainer pulls the parameters, computes
    the mean squared error gradient on one minibatch of its shard, and pushes its slice of the
    gradient to each pserver. A pserver applies `param -= lr * mean(gradients)` once every trainer
    has pushed that step, and only then answers pulls for the next step: a barrier per step, so the
    result does not depend on timing. A pass is one sweep over the trainer's shard; after each one the
    trainer prints `pass N cost X` (the mean minibatch cost of the pass).
  * The end: trainer 0 evaluates the final parameters on the whole data set, prints `final cost X`
    and saves the model (see model_paths). Every trainer then tells every pserver "done"; a pserver
    exits 0 when all trainers have, or on SIGTERM (how the platform stops pservers).

Wire protocol (TCP, one persistent connection per trainer and pserver, request then reply):
    frame   = u32 big-endian header length | header (UTF-8 JSON) | payload (header["nbytes"] bytes)
    payload = little-endian float64 vector (the pserver's parameter shard, or a gradient for it)
    hello {trainer, params}          -> {ok, version, size, trainers, params}; the first hello
                                        sizes the pserver's shard of a model of `params` values
    pull  {step}                     -> {ok, version} + parameters; waits until version >= step
    push  {step, trainer, lr} + grad -> {ok, applied}; the update lands when all trainers pushed
    done  {trainer}                  -> {ok}
    any failure                      -> {ok: false, error}
`version` counts the updates applied. A push for a step already applied is ignored, and a second push
of the current step replaces the first, so a restarted trainer can rejoin at min(version) safely.
"""

import argparse
import csv
import io
import json
import os
import signal
import socket
import socketserver
import struct
import sys
import threading
import time

try:
    import numpy as np
except ImportError:  # main() re-executes under the system interpreter, which has python3-numpy.
    np = None

try:  # the Paddle Board's curves: every job pod imports the SDK; elsewhere it may be missing
    from paddlecloud import draw_board
except ImportError:
    draw_board = None

NUM_FEATURES = 13                 # of the generated set, like UCI housing
NUM_PARAMS = NUM_FEATURES + 1     # w and b; b is the last parameter
# The columns of the generated set, named after UCI housing's (the values are synthetic).
FEATURE_NAMES = ["CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO",
                 "B", "LSTAT"]
TARGET_NAME = "MEDV"
SYSTEM_PYTHON = "/usr/bin/python3"
MAX_HEADER_BYTES = 1 << 20        # anything larger is not our protocol (e.g. an HTTP probe)
DTYPE = "<f8"


class ConfigError(Exception):
    """The job environment is missing or inconsistent: the message says what to fix."""


class RpcError(Exception):
    """A pserver refused a request or the connection broke."""


def log(*parts):
    # Job logs are read live from pipes: flush each line or the platform shows nothing until exit.
    print(*parts, flush=True)


# ---------------------------------------------------------------------------------------------
# Environment contract and configuration
# ---------------------------------------------------------------------------------------------

def env_required(name):
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigError(
            "%s is not set. train.py reads the PaddleCloud job environment: run it as a PaddleCloud "
            "job (paddlecloud submit examples/fit_a_line ... --entry \"python3 train.py\") or by hand "
            "with run_local.sh; see README.md" % name)
    return value


def env_int(name):
    value = env_required(name)
    try:
        return int(value)
    except ValueError:
        raise ConfigError("%s must be an integer, got %r" % (name, value))


def parse_endpoints(name):
    endpoints = [e.strip() for e in env_required(name).split(",") if e.strip()]
    for endpoint in endpoints:
        host, _, port = endpoint.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError("%s: %r is not host:port" % (name, endpoint))
    return endpoints


def split_endpoint(endpoint):
    host, _, port = endpoint.rpartition(":")
    return host, int(port)


def role_from_env():
    role = os.environ.get("PADDLE_TRAINING_ROLE") or os.environ.get("TRAINING_ROLE") or ""
    role = role.strip().upper()
    if not role:
        env_required("PADDLE_TRAINING_ROLE")  # raises with the "run me as a job" message
    if role not in ("TRAINER", "PSERVER"):
        raise ConfigError("PADDLE_TRAINING_ROLE must be TRAINER or PSERVER, got %r" % role)
    return role


def parse_args(argv):
    def env_default(name, default, kind):
        value = os.environ.get(name)
        return kind(value) if value else default

    p = argparse.ArgumentParser(
        description="Distributed fit-a-line (linear regression) on a parameter server. "
                    "Flags default to the FIT_* environment variables named in brackets.")
    p.add_argument("--passes", type=int, default=env_default("FIT_PASSES", 20, int),
                   help="passes over each trainer's shard [FIT_PASSES, 20]")
    p.add_argument("--batch-size", type=int, default=env_default("FIT_BATCH_SIZE", 32, int),
                   help="minibatch size per trainer [FIT_BATCH_SIZE, 32]")
    p.add_argument("--lr", type=float, default=env_default("FIT_LR", 0.01, float),
                   help="SGD learning rate [FIT_LR, 0.01]")
    p.add_argument("--samples", type=int, default=env_default("FIT_SAMPLES", 506, int),
                   help="rows of the generated data set [FIT_SAMPLES, 506 like UCI housing]")
    p.add_argument("--seed", type=int, default=env_default("FIT_SEED", 1, int),
                   help="seed of the data set and the shuffles [FIT_SEED, 1]")
    p.add_argument("--connect-timeout", type=float,
                   default=env_default("FIT_CONNECT_TIMEOUT", 300.0, float),
                   help="seconds a trainer keeps retrying to reach each pserver; pods start in any "
                        "order [FIT_CONNECT_TIMEOUT, 300]")
    p.add_argument("--rpc-timeout", type=float, default=env_default("FIT_RPC_TIMEOUT", 600.0, float),
                   help="seconds a trainer waits for one reply, e.g. for a slow peer at the step "
                        "barrier [FIT_RPC_TIMEOUT, 600]")
    p.add_argument("--model-dir", default=os.environ.get("FIT_MODEL_DIR"),
                   help="where trainer 0 saves fit_a_line.npz, instead of the job directory "
                        "[FIT_MODEL_DIR]")
    p.add_argument("--dataset", metavar="PATH", default=os.environ.get("FIT_DATASET") or None,
                   help="train on this CSV file instead of the generated rows: a header line, then "
                        "one row of numbers per line, the last column the target. A relative PATH "
                        "is taken in $PADDLE_CLOUD_DATA, the account's files "
                        "(datasets/uci_housing/housing.csv) [FIT_DATASET]")
    p.add_argument("--export-data", metavar="FILE",
                   help="write the generated data set (--samples, --seed) to FILE as CSV with a "
                        "header ('-': standard output) and exit; needs no job environment")
    args = p.parse_args(argv)
    if args.passes < 1 or args.batch_size < 1 or args.lr <= 0 or args.samples < 1:
        p.error("--passes, --batch-size, --samples and --lr must be positive")
    if args.export_data and args.dataset:
        p.error("--export-data writes the generated data set: drop --dataset (or FIT_DATASET)")
    return args


# ---------------------------------------------------------------------------------------------
# Data and model (pure functions; the tests call them directly)
# ---------------------------------------------------------------------------------------------

def make_dataset(samples, seed):
    """The synthetic housing set: (X [samples x 13], y [samples]). Same seed, same rows, any pod."""
    rng = np.random.RandomState(seed)
    true_w = rng.uniform(-3.0, 3.0, NUM_FEATURES)
    return rows_on_line(rng, true_w, samples)


def make_test_set(samples, seed):
    """Held-out rows of make_dataset(..., seed)'s line: the same w and b, other features and noise."""
    true_w = np.random.RandomState(seed).uniform(-3.0, 3.0, NUM_FEATURES)
    return rows_on_line(np.random.RandomState([seed, 1]), true_w, samples)


def rows_on_line(rng, true_w, samples):
    true_b = 22.5                       # the mean price of UCI housing, in $1000s
    X = rng.normal(0.0, 1.0, (samples, NUM_FEATURES))
    y = X.dot(true_w) + true_b + rng.normal(0.0, 0.5, samples)
    return X, y


def export_dataset(path, samples, seed):
    """Writes make_dataset(samples, seed) as CSV: a header line (FEATURE_NAMES, TARGET_NAME), then
    one row per line. repr() of a float reads back as the very same float, so training on the file
    gives the same numbers as training on the generated rows."""
    X, y = make_dataset(samples, seed)
    lines = [",".join(FEATURE_NAMES + [TARGET_NAME])]
    for features, target in zip(X.tolist(), y.tolist()):
        lines.append(",".join(repr(v) for v in features + [target]))
    text = "\n".join(lines) + "\n"
    if path == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        raise ConfigError("cannot write %s: %s" % (path, e.strerror or e))


def resolve_dataset(path):
    """Where --dataset points: a relative path is in $PADDLE_CLOUD_DATA (the account's files, as a
    job's pods see them), or in the current directory when that is not set; an absolute path
    ($PADDLE_CLOUD_PUBLIC/..., $PADDLE_CLOUD_SHARED/<owner>/...) as given. $VARIABLES are expanded,
    so FIT_DATASET=$PADDLE_CLOUD_PUBLIC/... works from --env too."""
    path = os.path.expandvars(path)
    if os.path.isabs(path):
        return path
    data_dir = os.environ.get("PADDLE_CLOUD_DATA", "").strip()
    return os.path.join(data_dir, path) if data_dir else os.path.abspath(path)


def is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def check_header(path, line, names):
    if len(names) < 2:
        raise ConfigError("dataset %s line %d: %d column; a data set needs comma-separated columns, "
                          "at least one feature and the target (the last column)"
                          % (path, line, len(names)))
    if all(is_number(name) for name in names):
        raise ConfigError("dataset %s line %d: the first line holds numbers, but it must name the "
                          "columns (for example %s): add a header line"
                          % (path, line, ",".join(["x1", "x2", "...", "y"])))
    for j, name in enumerate(names):
        if not name:
            raise ConfigError("dataset %s line %d: column %d has no name" % (path, line, j + 1))
    return names


def load_dataset(path):
    """Reads a CSV data set: (X [rows x features], y [rows], column names). The first line names the
    columns; every other non-blank line holds one number per column; the last column is the target,
    the others are the features (at least one). Raises ConfigError naming the file and line of the
    first problem."""
    if not os.path.exists(path):
        raise ConfigError("dataset %s does not exist" % path)
    if os.path.isdir(path):
        raise ConfigError("dataset %s is a folder, not a CSV file" % path)
    header, header_line, rows, lines = None, 0, [], []
    try:
        # utf-8-sig drops the byte order mark spreadsheets write; a bad byte becomes U+FFFD, so it
        # is reported as a bad cell on its line.
        with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
            reader = csv.reader(f, skipinitialspace=True)
            try:
                for cells in reader:
                    cells = [c.strip() for c in cells]
                    if not any(cells):
                        continue                    # blank lines, the trailing newline
                    line = reader.line_num
                    if header is None:
                        header, header_line = check_header(path, line, cells), line
                        continue
                    if len(cells) != len(header):
                        raise ConfigError("dataset %s line %d: %d column%s, but the header has %d"
                                          % (path, line, len(cells), "s"[len(cells) == 1:],
                                             len(header)))
                    try:
                        rows.append([float(c) for c in cells])
                    except ValueError:
                        column = next(j for j, c in enumerate(cells) if not is_number(c))
                        raise ConfigError("dataset %s line %d, column %d (%s): %r is not a number"
                                          % (path, line, column + 1, header[column],
                                             cells[column]))
                    lines.append(line)
            except csv.Error as e:
                raise ConfigError("dataset %s line %d: %s" % (path, reader.line_num, e))
    except OSError as e:
        raise ConfigError("cannot read dataset %s: %s" % (path, e.strerror or e))
    if header is None:
        raise ConfigError("dataset %s line 1: the file is empty; expected a header line naming the "
                          "columns, then at least one row of numbers" % path)
    if not rows:
        raise ConfigError("dataset %s line %d: a header but no data rows after it; expected at "
                          "least one row of numbers" % (path, header_line))
    data = np.array(rows, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(data).all(axis=1))
    if bad.size:
        row = data[bad[0]]
        column = int(np.flatnonzero(~np.isfinite(row))[0])
        raise ConfigError("dataset %s line %d, column %d (%s): %r is not a finite number"
                          % (path, lines[bad[0]], column + 1, header[column], float(row[column])))
    # Contiguous copies: the same memory layout as generated rows, so the same arithmetic.
    return np.ascontiguousarray(data[:, :-1]), data[:, -1].copy(), header


def shard_rows(samples, trainer_id, trainers):
    return np.arange(trainer_id, samples, trainers)


def steps_per_pass(samples, trainers, batch_size):
    # Every trainer must run the same number of steps or the per-step barrier would wait forever.
    # Shards differ by at most one row; size the pass by the smallest so each step is a full sweep.
    smallest = samples // trainers
    if smallest == 0:
        raise ConfigError("%d rows cannot feed %d trainers" % (samples, trainers))
    return -(-smallest // batch_size)


def pass_batches(rows, steps, batch_size, seed, pass_id, trainer_id):
    """The minibatches (row index arrays) of one pass: a fresh, reproducible shuffle every pass."""
    order = np.random.RandomState([seed, pass_id, trainer_id]).permutation(rows)
    batches = [order[k * batch_size:(k + 1) * batch_size] for k in range(steps)]
    # The last step also takes the rows the even split left over, so the whole shard is seen.
    batches[-1] = order[(steps - 1) * batch_size:]
    return batches


def cost_and_gradient(params, X, y):
    """Mean squared error of y ~ X.w + b and its gradient with respect to params = [w..., b]."""
    err = X.dot(params[:-1]) + params[-1] - y
    cost = float(np.mean(err * err))
    grad = np.empty_like(params)
    grad[:-1] = 2.0 * X.T.dot(err) / len(y)
    grad[-1] = 2.0 * np.mean(err)
    return cost, grad


def shard_indices(pserver_index, pservers, num_params=NUM_PARAMS):
    """The parameters pserver `pserver_index` holds: k % pservers == pserver_index."""
    return np.arange(pserver_index, num_params, pservers)


def model_paths(trainer_args):
    """Where trainer 0 saves the model: --model-dir if given; otherwise
    $PADDLE_CLOUD_JOB_DIR/model/fit_a_line.npz (the job's record) and, when PADDLE_CLOUD_DATA is set,
    also $PADDLE_CLOUD_DATA/models/fit_a_line.npz (the account's files, where serving and notebooks
    find it; each run replaces it). ./model/ when neither variable is set."""
    if trainer_args.model_dir:
        return [os.path.join(trainer_args.model_dir, "fit_a_line.npz")]
    paths = []
    job_dir = os.environ.get("PADDLE_CLOUD_JOB_DIR")
    data_dir = os.environ.get("PADDLE_CLOUD_DATA")
    if job_dir:
        paths.append(os.path.join(job_dir, "model", "fit_a_line.npz"))
    if data_dir:
        paths.append(os.path.join(data_dir, "models", "fit_a_line.npz"))
    return paths or [os.path.join("model", "fit_a_line.npz")]


def save_model(path, params, cost, passes, columns):
    """columns: the data set's column names, features then target (kept so a reader of the model
    knows the order of the weights)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    data = io.BytesIO()  # a file object, so numpy does not append a second ".npz"
    np.savez(data, w=params[:-1], b=params[-1:], cost=np.array([cost]), passes=np.array([passes]),
             features=np.array(columns[:-1]), target=np.array(columns[-1:]))
    write_atomically(path, data.getvalue())


SERVING_MODEL_PY = '''"""fit_a_line for the PaddleCloud Python runtime (docs/serving.md, "Python runtime"):
y = x @ w + b with the weights in weights.npy beside this file (%(n)d for the features, then b).
Written by train.py."""
import os

import numpy as np

NUM_FEATURES = %(n)d
INPUTS = [{"name": "x", "datatype": "FP32", "shape": [-1, NUM_FEATURES]}]
OUTPUTS = [{"name": "y", "datatype": "FP32", "shape": [-1, 1]}]
THREAD_SAFE = True  # predict only reads the weights


def load(model_dir):
    weights = np.load(os.path.join(model_dir, "weights.npy"))
    return weights[:NUM_FEATURES].reshape(NUM_FEATURES, 1), weights[NUM_FEATURES]


def predict(state, inputs):
    w, b = state
    return inputs["x"] @ w + b
'''


def write_atomically(path, data):
    """Readers never see a half-written file."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def onnx_model_bytes(params):
    """The model as an ONNX graph, y = MatMul(x, W) + b in FP32, x [-1, features], y [-1, 1];
    None when Debian's python3-onnx is not installed."""
    try:
        from onnx import TensorProto, checker, helper, numpy_helper
    except ImportError:
        return None
    features = len(params) - 1
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["y"])],
        "fit_a_line",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", features])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 1])],
        [numpy_helper.from_array(params[:-1].astype(np.float32).reshape(features, 1), "W"),
         numpy_helper.from_array(params[-1:].astype(np.float32), "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    checker.check_model(model)
    return model.SerializeToString()


def save_serving_exports(model_dir, params):
    """Beside fit_a_line.npz, the model as the serving runtimes load it: model.onnx for
    paddlecloud-model-server, model.py + weights.npy for the Python runtime."""
    weights = io.BytesIO()
    np.save(weights, params)
    write_atomically(os.path.join(model_dir, "weights.npy"), weights.getvalue())
    write_atomically(os.path.join(model_dir, "model.py"),
                     (SERVING_MODEL_PY % {"n": len(params) - 1}).encode("utf-8"))
    onnx_bytes = onnx_model_bytes(params)
    if onnx_bytes is None:
        log("python3-onnx is not installed: model.onnx not written to %s" % model_dir)
    else:
        write_atomically(os.path.join(model_dir, "model.onnx"), onnx_bytes)


# ---------------------------------------------------------------------------------------------
# Framing
# ---------------------------------------------------------------------------------------------

def send_frame(sock, header, payload=None):
    data = b"" if payload is None else np.ascontiguousarray(payload, dtype=DTYPE).tobytes()
    header = dict(header, nbytes=len(data))
    head = json.dumps(header).encode("utf-8")
    # One sendall per frame: separate small writes would meet Nagle + delayed ACK (40 ms a step).
    sock.sendall(struct.pack(">I", len(head)) + head + data)


def recv_exact(sock, n):
    chunks = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv_frame(sock):
    """(header, float64 vector) or None when the peer closed the connection between frames."""
    raw = recv_exact(sock, 4)
    if raw is None:
        return None
    (size,) = struct.unpack(">I", raw)
    if size > MAX_HEADER_BYTES:
        raise RpcError("frame header of %d bytes: peer does not speak this protocol" % size)
    head = recv_exact(sock, size)
    if head is None:
        raise RpcError("connection closed inside a frame")
    header = json.loads(head.decode("utf-8"))
    nbytes = int(header.get("nbytes", 0))
    data = recv_exact(sock, nbytes) if nbytes else b""
    if data is None:
        raise RpcError("connection closed inside a frame")
    return header, np.frombuffer(data, dtype=DTYPE).copy()


# ---------------------------------------------------------------------------------------------
# Parameter server
# ---------------------------------------------------------------------------------------------

class ParameterShard:
    """One pserver's parameters and the synchronous-SGD barrier. Thread-safe: one thread per trainer."""

    def __init__(self, size, trainers):
        self.params = np.zeros(size)
        self.trainers = trainers
        self.version = 0            # updates applied; the next step to complete
        self.pending = {}           # trainer id -> gradient pushed for step `version`
        self.done = set()
        self.cond = threading.Condition()

    def _check_trainer(self, trainer):
        if not 0 <= trainer < self.trainers:
            raise RpcError("trainer id %d outside 0..%d: PADDLE_TRAINERS_NUM differs between pods"
                           % (trainer, self.trainers - 1))

    def pull(self, step):
        with self.cond:
            self.cond.wait_for(lambda: self.version >= step)
            return self.version, self.params.copy()

    def push(self, step, trainer, lr, grad):
        """Records `trainer`'s gradient for `step`; applies the mean once all trainers pushed it."""
        self._check_trainer(trainer)
        with self.cond:
            if step < self.version:
                return False        # already applied: a restarted trainer repeating a step
            if step > self.version:
                raise RpcError("push for step %d but step %d is not complete" % (step, self.version))
            if grad.shape != self.params.shape:
                raise RpcError("gradient of %d values for a shard of %d" % (grad.size, self.params.size))
            self.pending[trainer] = grad
            if len(self.pending) < self.trainers:
                return False
            # Sum in trainer order: float addition is not associative, and a fixed order makes a
            # run's numbers independent of which trainer pushed first.
            total = sum(self.pending[t] for t in sorted(self.pending))
            self.params -= lr * (total / self.trainers)
            self.pending.clear()
            self.version += 1
            self.cond.notify_all()
            return True

    def finish(self, trainer):
        """Returns True once every trainer has said done."""
        self._check_trainer(trainer)
        with self.cond:
            self.done.add(trainer)
            return len(self.done) >= self.trainers


def find_pserver_index(endpoints):
    """This pod's position in PADDLE_PSERVERS_IP_PORT_LIST. The list may name pods by IP or by a
    DNS name (Kubernetes services), so try: POD_IP:PADDLE_PORT verbatim, then the names resolved to
    POD_IP, then the pod's hostname; PADDLE_PSERVER_ID overrides all of it."""
    if os.environ.get("PADDLE_PSERVER_ID"):
        index = env_int("PADDLE_PSERVER_ID")
        if not 0 <= index < len(endpoints):
            raise ConfigError("PADDLE_PSERVER_ID=%d but there are %d pservers" % (index, len(endpoints)))
        return index
    port = env_int("PADDLE_PORT")
    pod_ip = os.environ.get("POD_IP", "").strip()
    same_port = [i for i, e in enumerate(endpoints) if split_endpoint(e)[1] == port]
    if pod_ip and "%s:%d" % (pod_ip, port) in endpoints:
        return endpoints.index("%s:%d" % (pod_ip, port))
    hostname = socket.gethostname()
    for i in same_port:
        host = split_endpoint(endpoints[i])[0]
        if host == hostname or host.split(".")[0] == hostname:
            return i
        try:
            if pod_ip and socket.gethostbyname(host) == pod_ip:
                return i
        except OSError:
            pass
    if len(endpoints) == 1 and same_port:
        return 0
    raise ConfigError("cannot find this pserver (POD_IP=%s, PADDLE_PORT=%d) in "
                      "PADDLE_PSERVERS_IP_PORT_LIST=%s; set PADDLE_PSERVER_ID"
                      % (pod_ip, port, ",".join(endpoints)))


def run_pserver(args):
    endpoints = parse_endpoints("PADDLE_PSERVERS_IP_PORT_LIST")
    trainers = env_int("PADDLE_TRAINERS_NUM")
    index = find_pserver_index(endpoints)
    port = env_int("PADDLE_PORT")
    # The model's size depends on the trainers' data set, which a pserver never reads: the first
    # hello brings the number of parameters and sizes this shard (at zero, as ever); the trainers
    # check that it matches theirs. A pull or push always follows its connection's hello.
    model = {}                  # "params", "indices", "shard", once the first hello came
    model_lock = threading.Lock()
    stop = threading.Event()
    all_done = threading.Event()

    def model_for(num_params, trainer):
        with model_lock:
            if not model:
                if num_params < 2:
                    raise RpcError("a model of %d parameters: at least one weight and the bias"
                                   % num_params)
                indices = shard_indices(index, len(endpoints), num_params)
                model.update(params=num_params, indices=indices,
                             shard=ParameterShard(len(indices), trainers))
                log("pserver %d: model of %d parameters (from trainer %d), holding parameters %s"
                    % (index, num_params, trainer, indices.tolist()))
            return model

    def current_shard():
        with model_lock:
            if not model:
                raise RpcError("no trainer has said hello yet")
            return model["shard"]

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            sock = self.request
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while not stop.is_set():
                try:
                    frame = recv_frame(sock)
                except (OSError, ValueError, RpcError) as e:
                    log("pserver %d: dropping connection from %s: %s" % (index, self.client_address, e))
                    return
                if frame is None:
                    return
                header, payload = frame
                try:
                    reply, data = self.dispatch(header, payload)
                except (RpcError, KeyError, TypeError, ValueError) as e:
                    reply, data = {"ok": False, "error": str(e)}, None
                try:
                    send_frame(sock, reply, data)
                except OSError:
                    return

        def dispatch(self, header, payload):
            op = header.get("op")
            if op == "hello":
                m = model_for(int(header["params"]), int(header["trainer"]))
                return {"ok": True, "version": m["shard"].version, "size": len(m["indices"]),
                        "trainers": trainers, "params": m["params"]}, None
            if op == "pull":
                version, params = current_shard().pull(int(header["step"]))
                return {"ok": True, "version": version}, params
            if op == "push":
                applied = current_shard().push(int(header["step"]), int(header["trainer"]),
                                               float(header["lr"]), payload)
                return {"ok": True, "applied": applied}, None
            if op == "done":
                if current_shard().finish(int(header["trainer"])):
                    all_done.set()
                return {"ok": True}, None
            raise RpcError("unknown op %r" % op)

    class Server(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True   # a thread blocked at the barrier must not keep the process alive

    # The pod's own loopback address when it has one (run_local.sh, tests, pods sharing a host's
    # loopback each with an address of their own); every interface in a real pod.
    pod_ip = os.environ.get("POD_IP", "")
    bind_host = pod_ip if pod_ip.startswith("127.") else "0.0.0.0"
    server = Server((bind_host, port), Handler)

    def on_signal(signum, _frame):
        log("pserver %d: got signal %d, stopping" % (index, signum))
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    threading.Thread(target=server.serve_forever, name="serve", daemon=True).start()
    log("pserver %d/%d listening on %s:%d, for %d trainers; the first hello sizes the model"
        % (index, len(endpoints), bind_host, port, trainers))

    # The main thread only waits, so signal handlers run promptly.
    while not stop.is_set():
        if all_done.wait(0.2):
            # Let the last "done" reply leave before the process goes.
            time.sleep(0.1)
            log("pserver %d: all %d trainers done after %d updates, exiting"
                % (index, trainers, current_shard().version))
            break
    stop.set()
    server.shutdown()
    server.server_close()
    return 0


# ---------------------------------------------------------------------------------------------
# Trainer
# ---------------------------------------------------------------------------------------------

class PserverClient:
    """A connection to one pserver, with the request/reply helpers."""

    def __init__(self, endpoint, connect_timeout, rpc_timeout):
        self.endpoint = endpoint
        self.sock = self._connect(connect_timeout)
        self.sock.settimeout(rpc_timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _connect(self, timeout):
        # The pserver may start after us, or its DNS name may not exist yet: retry until the deadline.
        host, port = split_endpoint(self.endpoint)
        deadline = time.monotonic() + timeout
        delay, announced = 0.1, False
        while True:
            try:
                return socket.create_connection((host, port), timeout=5)
            except OSError as e:
                if time.monotonic() + delay > deadline:
                    raise RpcError("could not reach pserver %s within %gs: %s"
                                   % (self.endpoint, timeout, e))
                if not announced:
                    log("waiting for pserver %s (%s)" % (self.endpoint, e))
                    announced = True
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

    def call(self, header, payload=None):
        try:
            send_frame(self.sock, header, payload)
            frame = recv_frame(self.sock)
        except socket.timeout:
            raise RpcError("pserver %s did not answer %s in time (a peer trainer may have failed)"
                           % (self.endpoint, header.get("op")))
        except OSError as e:
            raise RpcError("pserver %s: %s" % (self.endpoint, e))
        if frame is None:
            raise RpcError("pserver %s closed the connection" % self.endpoint)
        reply, data = frame
        if not reply.get("ok"):
            raise RpcError("pserver %s refused %s: %s"
                           % (self.endpoint, header.get("op"), reply.get("error")))
        return reply, data

    def close(self):
        self.sock.close()


def pull_all(clients, shards, step, num_params):
    params = np.empty(num_params)
    for client, indices in zip(clients, shards):
        _, values = client.call({"op": "pull", "step": step})
        params[indices] = values
    return params


def run_trainer(args):
    trainer_id = env_int("PADDLE_TRAINER_ID")
    trainers = env_int("PADDLE_TRAINERS_NUM")
    endpoints = parse_endpoints("PADDLE_PSERVERS_IP_PORT_LIST")
    if not 0 <= trainer_id < trainers:
        raise ConfigError("PADDLE_TRAINER_ID=%d is outside 0..%d" % (trainer_id, trainers - 1))

    # Every trainer reads the whole data set, checked before any pserver is contacted, and
    # takes its own rows of it.
    if args.dataset:
        path = resolve_dataset(args.dataset)
        X, y, columns = load_dataset(path)
        names = columns[:-1] if len(columns) <= 16 else columns[:15] + ["..."]
        log("trainer %d: dataset %s: %d rows, %d features (%s), target %s"
            % (trainer_id, path, len(y), X.shape[1], ",".join(names), columns[-1]))
    else:
        X, y = make_dataset(args.samples, args.seed)
        columns = FEATURE_NAMES + [TARGET_NAME]
    # test_cost: on held-out rows of the generated line; a CSV data set has none, so on all its rows.
    X_test, y_test = (X, y) if args.dataset else make_test_set(max(1, args.samples // 5), args.seed)
    drawing = trainer_id == 0 and draw_board is not None
    samples, num_params = len(y), X.shape[1] + 1
    rows = shard_rows(samples, trainer_id, trainers)
    steps = steps_per_pass(samples, trainers, args.batch_size)
    shards = [shard_indices(i, len(endpoints), num_params) for i in range(len(endpoints))]
    log("trainer %d/%d: %d of %d rows, %d steps a pass, %d passes, lr %g, pservers %s"
        % (trainer_id, trainers, len(rows), samples, steps, args.passes, args.lr,
           ",".join(endpoints)))

    clients = [PserverClient(e, args.connect_timeout, args.rpc_timeout) for e in endpoints]
    versions = []
    for client, indices in zip(clients, shards):
        hello, _ = client.call({"op": "hello", "trainer": trainer_id, "params": num_params})
        if hello["params"] != num_params:
            raise ConfigError("pserver %s holds a model of %d parameters, set by the first trainer; "
                              "this trainer's data set has %d features, %d parameters: the "
                              "trainers do not read the same data set"
                              % (client.endpoint, hello["params"], num_params - 1, num_params))
        if hello["trainers"] != trainers or hello["size"] != len(indices):
            raise ConfigError("pserver %s expects %d trainers and %d parameters; this trainer has "
                              "%d and %d: the pods do not share one job environment"
                              % (client.endpoint, hello["trainers"], hello["size"], trainers,
                                 len(indices)))
        versions.append(hello["version"])
    # A fresh job starts at 0; a restarted trainer rejoins the step its peers are waiting at.
    start = min(versions)
    if start:
        log("trainer %d: rejoining at step %d" % (trainer_id, start))

    total = args.passes * steps
    step = start
    while step < total:
        pass_id = step // steps
        batches = pass_batches(rows, steps, args.batch_size, args.seed, pass_id, trainer_id)
        costs = []
        for batch in batches[step % steps:]:
            params = pull_all(clients, shards, step, num_params)
            cost, grad = cost_and_gradient(params, X[batch], y[batch])
            for client, indices in zip(clients, shards):
                client.call({"op": "push", "step": step, "trainer": trainer_id, "lr": args.lr},
                            grad[indices])
            costs.append(cost)
            if drawing:
                draw_board(cost, step=step)
            step += 1
        log("pass %d cost %.6f" % (pass_id, float(np.mean(costs))))
        if drawing:
            train_cost = float(np.mean(costs))
            test_cost, _ = cost_and_gradient(pull_all(clients, shards, step, num_params), X_test, y_test)
            draw_board(train_cost, test_cost, step=pass_id)

    if trainer_id == 0:
        params = pull_all(clients, shards, total, num_params)
        final_cost, _ = cost_and_gradient(params, X, y)
        log("final cost %.6f" % final_cost)
        for path in model_paths(args):
            save_model(path, params, final_cost, args.passes, columns)
            save_serving_exports(os.path.dirname(os.path.abspath(path)), params)
            log("model saved to %s" % path)
    for client in clients:
        client.call({"op": "done", "trainer": trainer_id})
        client.close()
    log("trainer %d: done" % trainer_id)
    return 0


# ---------------------------------------------------------------------------------------------

def ensure_numpy():
    """A job pod runs `python3 train.py` with whatever python3 is first on PATH (say a pyenv one
    without numpy); Debian's /usr/bin/python3 has python3-numpy. Switch to it rather than fail."""
    if np is not None:
        return
    if (os.path.exists(SYSTEM_PYTHON) and not os.environ.get("FIT_A_LINE_REEXEC")
            and os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON)):
        os.environ["FIT_A_LINE_REEXEC"] = "1"  # never loop if that interpreter lacks numpy too
        sys.stdout.flush()
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON] + sys.argv)
    sys.stderr.write("train.py: numpy is required (on Debian: apt-get install python3-numpy)\n")
    sys.exit(2)


def main(argv=None):
    ensure_numpy()
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.export_data:
            export_dataset(args.export_data, args.samples, args.seed)
            if args.export_data != "-":
                log("wrote %d rows of %d features and a target (seed %d) to %s"
                    % (args.samples, NUM_FEATURES, args.seed, args.export_data))
            return 0
        role = role_from_env()
        return run_pserver(args) if role == "PSERVER" else run_trainer(args)
    except ConfigError as e:
        sys.stderr.write("train.py: %s\n" % e)
        return 2
    except RpcError as e:
        sys.stderr.write("train.py: %s\n" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
