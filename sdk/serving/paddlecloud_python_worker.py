#!/usr/bin/env python3
"""PaddleCloud's Python serving runtime: serves a user's model.py over the Open Inference Protocol
(KServe v2) REST, the same subset as paddlecloud-model-server. Standard library plus numpy only.

Usage: python3 paddlecloud_python_worker.py --model-dir DIR --name NAME [--port N | $PORT]
           [--listen 127.0.0.1] [--threads N] [--max-body BYTES]

The contract with DIR/model.py (docs/serving.md, "Python runtime"):
  INPUTS = [{"name": ..., "datatype": "FP32", "shape": [-1, 13]}, ...]   # -1: any size
  OUTPUTS = [...]                                                        # same form
  THREAD_SAFE = False            # optional; False (the default): one predict at a time
  def load(model_dir): ...       # optional; called once, returns the state (anything)
  def predict(inputs): ...       # or predict(state, inputs); inputs: dict name -> numpy array;
                                 # returns dict name -> array, or one array for the one output

The port listens at once (live); ready only after load() returned. An import, declaration or load()
failure exits non-zero with the reason on stderr. predict raising answers 500 with the exception's
type and message (the traceback goes to stderr) and the worker keeps serving.
"""
import argparse
import http.server
import importlib.util
import inspect
import json
import math
import os
import re
import signal
import socket
import sys
import threading
import time
import traceback
import urllib.parse

try:
    import numpy as np
except ImportError:
    np = None

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER_NAME = "paddlecloud-python-worker"
SERVER_VERSION = "1"
MODEL_VERSION = "1"
DEFAULT_MAX_BODY = 64 << 20
IDLE_TIMEOUT_SECONDS = 300      # a keep-alive connection idle this long is closed
DRAIN_SECONDS = 10              # SIGTERM: how long in-flight requests may finish
LINGER_SECONDS = 5              # after a 413, how long what the client still sends is discarded

DATATYPES = {
    "BOOL": "bool", "INT8": "int8", "INT16": "int16", "INT32": "int32", "INT64": "int64",
    "UINT8": "uint8", "UINT16": "uint16", "UINT32": "uint32", "UINT64": "uint64",
    "FP16": "float16", "FP32": "float32", "FP64": "float64", "BYTES": "object",
}
# The Python types JSON data may hold for each kind of datatype (bool is not an int here).
ELEMENT_TYPES = {"BOOL": {bool}, "BYTES": {str}, "INT": {int}, "FP": {int, float}}
ROUTE = re.compile(r"^/v2/models/([^/]+)(?:/versions/([^/]+))?(/ready|/infer)?$")


class TensorError(Exception):
    """The request is wrong (400); the message names the tensor and what is wrong."""


class ModelError(Exception):
    """model.py broke its contract (at startup: exit; at predict: 500)."""


def kind_of(datatype):
    if datatype in ("BOOL", "BYTES"):
        return datatype
    return "FP" if datatype.startswith("FP") else "INT"


def shape_text(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


def shape_fits(shape, declared):
    return len(shape) == len(declared) and all(d == -1 or d == s for s, d in zip(shape, declared))


# --- model.py ----------------------------------------------------------------------------------

def validate_tensor_specs(specs, what):
    """INPUTS/OUTPUTS as declared by model.py -> list of {"name","datatype","shape"}."""
    if not isinstance(specs, (list, tuple)) or not specs:
        raise ModelError(f"{what} must be a non-empty list of {{'name', 'datatype', 'shape'}}")
    names = set()
    for i, spec in enumerate(specs):
        where = f"{what}[{i}]"
        if not isinstance(spec, dict):
            raise ModelError(f"{where} must be a dict with 'name', 'datatype' and 'shape'")
        unknown = set(spec) - {"name", "datatype", "shape"}
        if unknown:
            raise ModelError(f"{where}: unknown key {sorted(unknown)[0]!r} (keys: name, datatype, shape)")
        name, datatype, shape = spec.get("name"), spec.get("datatype"), spec.get("shape")
        if not isinstance(name, str) or not name:
            raise ModelError(f"{where}: 'name' must be a non-empty string")
        if name in names:
            raise ModelError(f"{where}: name {name!r} is declared twice")
        names.add(name)
        if datatype not in DATATYPES:
            raise ModelError(f"{where} ({name}): datatype {datatype!r} is not one of {', '.join(DATATYPES)}")
        if (not isinstance(shape, (list, tuple))
                or not all(type(d) is int and d >= -1 for d in shape)):
            raise ModelError(f"{where} ({name}): 'shape' must be a list of sizes (>= 0, or -1 for any)")
    return [{"name": s["name"], "datatype": s["datatype"], "shape": list(s["shape"])} for s in specs]


def predict_takes_state(predict):
    try:
        params = inspect.signature(predict).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                  and p.default is p.empty]
    if len(positional) not in (1, 2):
        raise ModelError("predict must take (inputs) or (state, inputs)")
    return len(positional) == 2


class Model:
    """model.py, imported and checked; predict() turns request tensors into response tensors."""

    def __init__(self, model_dir, threads):
        path = os.path.join(model_dir, "model.py")
        if not os.path.isfile(path):
            raise ModelError(f"{path} does not exist")
        spec = importlib.util.spec_from_file_location("model", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["model"] = module
        sys.path.insert(0, model_dir)   # model.py may import its own helper modules
        sys.dont_write_bytecode = True  # no __pycache__ in the account's model folder
        spec.loader.exec_module(module)
        self.module = module
        self.model_dir = model_dir
        self.inputs = validate_tensor_specs(getattr(module, "INPUTS", None), "INPUTS")
        self.outputs = validate_tensor_specs(getattr(module, "OUTPUTS", None), "OUTPUTS")
        self.input_specs = {s["name"]: s for s in self.inputs}
        self.output_specs = {s["name"]: s for s in self.outputs}
        self.predict_fn = getattr(module, "predict", None)
        if not callable(self.predict_fn):
            raise ModelError("model.py defines no predict(inputs) function")
        self.pass_state = predict_takes_state(self.predict_fn)
        load = getattr(module, "load", None)
        if load is not None and not callable(load):
            raise ModelError("model.py's load must be a function load(model_dir)")
        self.load_fn = load
        self.state = None
        thread_safe = getattr(module, "THREAD_SAFE", False) is True
        self.gate = threading.BoundedSemaphore(max(1, threads) if thread_safe else 1)

    def load(self):
        if self.load_fn is not None:
            self.state = self.load_fn(self.model_dir)

    def metadata(self, name):
        return {"name": name, "versions": [MODEL_VERSION], "platform": "python",
                "inputs": self.inputs, "outputs": self.outputs}

    def infer(self, request):
        """A parsed infer request -> the list of output tensors (dicts). TensorError: 400;
        ModelError or anything predict raises: 500."""
        if not isinstance(request, dict):
            raise TensorError("the request must be a JSON object with \"inputs\"")
        arrays = self.decode_inputs(request.get("inputs"))
        wanted = self.requested_outputs(request.get("outputs"))
        with self.gate:
            result = self.predict_fn(self.state, arrays) if self.pass_state else self.predict_fn(arrays)
        produced = self.collect_outputs(result)
        return [encode_output(self.output_specs[name], produced[name]) for name in wanted]

    def decode_inputs(self, tensors):
        if not isinstance(tensors, list) or not tensors:
            raise TensorError("\"inputs\" must be a non-empty list of tensors")
        arrays = {}
        for i, tensor in enumerate(tensors):
            name = tensor.get("name") if isinstance(tensor, dict) else None
            if not isinstance(name, str):
                raise TensorError(f"inputs[{i}]: a tensor is an object with a string \"name\"")
            if name not in self.input_specs:
                raise TensorError(f"input {name!r}: the model has no such input "
                                  f"(inputs: {', '.join(self.input_specs)})")
            if name in arrays:
                raise TensorError(f"input {name!r} is given twice")
            arrays[name] = decode_tensor(self.input_specs[name], tensor)
        missing = [n for n in self.input_specs if n not in arrays]
        if missing:
            raise TensorError(f"input {missing[0]!r} is missing")
        return arrays

    def requested_outputs(self, outputs):
        if outputs is None:
            return list(self.output_specs)
        if not isinstance(outputs, list):
            raise TensorError("\"outputs\" must be a list of {\"name\": ...}")
        names = [o.get("name") if isinstance(o, dict) else None for o in outputs]
        for name in names:
            if name not in self.output_specs:
                raise TensorError(f"output {name!r}: the model has no such output "
                                  f"(outputs: {', '.join(self.output_specs)})")
        return names

    def collect_outputs(self, result):
        if not isinstance(result, dict):
            if len(self.outputs) != 1:
                raise ModelError("predict returned one array but the model declares "
                                 f"{len(self.outputs)} outputs: return a dict name -> array")
            return {self.outputs[0]["name"]: result}
        for name in result:
            if name not in self.output_specs:
                raise ModelError(f"predict returned {name!r}, which OUTPUTS does not declare")
        for name in self.output_specs:
            if name not in result:
                raise ModelError(f"predict returned no {name!r}, which OUTPUTS declares")
        return result


# --- tensors -----------------------------------------------------------------------------------

def flatten(data):
    if not isinstance(data, list):
        return [data]
    if not any(isinstance(x, list) for x in data):
        return data
    flat = []
    for x in data:
        flat.extend(flatten(x))
    return flat


def decode_tensor(spec, tensor):
    """A request tensor checked against its declaration -> numpy array of the declared shape."""
    name, datatype, shape = spec["name"], tensor.get("datatype"), tensor.get("shape")
    if datatype != spec["datatype"]:
        raise TensorError(f"input {name!r}: datatype {datatype!r} does not match the model's "
                          f"{spec['datatype']}")
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
        raise TensorError(f"input {name!r}: \"shape\" must be a list of sizes >= 0")
    if not shape_fits(shape, spec["shape"]):
        raise TensorError(f"input {name!r}: shape {shape_text(shape)} does not match the model's "
                          f"{shape_text(spec['shape'])}")
    if "data" not in tensor:
        raise TensorError(f"input {name!r}: \"data\" is missing (binary tensor data is not supported)")
    try:
        flat = flatten(tensor["data"])
    except RecursionError:
        raise TensorError(f"input {name!r}: \"data\" is nested too deeply") from None
    count = math.prod(shape)
    if len(flat) != count:
        raise TensorError(f"input {name!r}: shape {shape_text(shape)} holds {count} values, "
                          f"data has {len(flat)}")
    kind = kind_of(datatype)
    found = set(map(type, flat)) - ELEMENT_TYPES[kind]
    if found:
        expected = {"BOOL": "true or false", "BYTES": "strings", "INT": "integers", "FP": "numbers"}[kind]
        raise TensorError(f"input {name!r}: {datatype} data must be {expected}, "
                          f"found {type_name(next(iter(found)))}")
    dtype = np.dtype(DATATYPES[datatype])
    if kind == "INT" and flat:
        info = np.iinfo(dtype)
        if min(flat) < info.min or max(flat) > info.max:
            raise TensorError(f"input {name!r}: a value is outside {datatype}'s range "
                              f"[{info.min}, {info.max}]")
    if dtype == object:
        array = np.empty(count, dtype=object)
        array[:] = flat
    else:
        try:
            array = np.array(flat, dtype=dtype)
        except OverflowError:
            raise TensorError(f"input {name!r}: a value is outside {datatype}'s range") from None
    return array.reshape(shape)


def type_name(t):
    return {str: "a string", bool: "a boolean", int: "an integer", float: "a number",
            dict: "an object", type(None): "null"}.get(t, t.__name__)


def encode_output(spec, value):
    """What predict returned for one output -> a response tensor (flat data)."""
    name, datatype = spec["name"], spec["datatype"]
    array = np.asarray(value, dtype=object) if datatype == "BYTES" else np.asarray(value)
    if not shape_fits(array.shape, spec["shape"]):
        raise ModelError(f"predict returned shape {shape_text(array.shape)} for {name!r}, "
                         f"OUTPUTS declares {shape_text(spec['shape'])}")
    if datatype == "BYTES":
        data = [bytes_text(name, x) for x in array.ravel().tolist()]
    else:
        target = np.dtype(DATATYPES[datatype])
        if array.dtype.kind in "OUSV" or not np.can_cast(array.dtype, target, "same_kind"):
            raise ModelError(f"predict returned {array.dtype} for {name!r}, which is {datatype}")
        data = array.astype(target, copy=False).ravel().tolist()
    return {"name": name, "shape": list(array.shape), "datatype": datatype, "data": data}


def bytes_text(name, x):
    if isinstance(x, str):
        return x
    if isinstance(x, (bytes, bytearray, np.bytes_)):
        try:
            return bytes(x).decode("utf-8")
        except UnicodeDecodeError:
            raise ModelError(f"predict returned bytes for {name!r} that are not UTF-8 text") from None
    raise ModelError(f"predict returned {type(x).__name__} in BYTES output {name!r}: expected str")


# --- HTTP --------------------------------------------------------------------------------------

class Worker:
    """What the handlers share: the model once imported, readiness, in-flight requests."""

    def __init__(self, name, max_body):
        self.name = name
        self.max_body = max_body
        self.model = None
        self.ready = False
        self.in_flight = 0
        self.idle = threading.Condition()

    def enter(self):
        with self.idle:
            self.in_flight += 1

    def leave(self):
        with self.idle:
            self.in_flight -= 1
            self.idle.notify_all()

    def drain(self, seconds):
        with self.idle:
            return self.idle.wait_for(lambda: self.in_flight == 0, timeout=seconds)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = SERVER_NAME
    sys_version = ""
    timeout = IDLE_TIMEOUT_SECONDS
    disable_nagle_algorithm = True
    wbufsize = 1 << 16      # status, headers and body leave in one write (flushed per request)

    def log_message(self, format, *args):   # noqa: A002 - the base class's signature
        pass

    def version_string(self):
        return SERVER_NAME

    def reply(self, status, body, close=False):
        payload = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    def error(self, status, message, close=False):
        self.reply(status, {"error": message}, close)

    def send_error(self, code, message=None, explain=None):
        """http.server's own errors (a malformed request, an unsupported method) in JSON too."""
        self.error(code, message or self.responses.get(code, ("error",))[0], close=True)

    def do_GET(self):
        worker = self.server.worker
        path = self.path.split("?", 1)[0]
        if path == "/v2/health/live":
            return self.reply(200, {"live": True})
        if path == "/v2/health/ready":
            return self.reply(200 if worker.ready else 503, {"ready": worker.ready})
        if path == "/v2":
            return self.reply(200, {"name": SERVER_NAME, "version": SERVER_VERSION, "extensions": []})
        route = self.model_route(path)
        if route is None:
            return
        if route == "/infer":
            return self.error(405, "infer takes POST")
        if route == "/ready":
            return self.reply(200 if worker.ready else 503, {"name": worker.name, "ready": worker.ready})
        if worker.model is None:
            return self.error(503, f"model {worker.name!r} is loading")
        self.reply(200, worker.model.metadata(worker.name))

    def do_POST(self):
        worker = self.server.worker
        body = self.read_body()
        if body is None:
            return
        route = self.model_route(self.path.split("?", 1)[0])
        if route is None:
            return
        if route != "/infer":
            return self.error(405, "only /infer takes POST")
        if not worker.ready:
            return self.error(503, f"model {worker.name!r} is loading")
        worker.enter()
        try:
            self.infer(body)
        finally:
            worker.leave()

    def model_route(self, path):
        """/v2/models/NAME[/versions/V][/ready|/infer] -> "" | "/ready" | "/infer"; None once answered."""
        match = ROUTE.match(path)
        if not match:
            self.error(404, f"no route for {path}")
            return None
        name, version = urllib.parse.unquote(match.group(1)), match.group(2)
        if name != self.server.worker.name or version not in (None, MODEL_VERSION):
            what = f"model {name!r}" + (f" version {version!r}" if version else "")
            self.error(404, f"{what} is not served here")
            return None
        return match.group(3) or ""

    def handle_expect_100(self):
        """Expect: 100-continue: a body that is too large is refused before the client sends it."""
        if self.command == "POST" and self.body_too_large():
            self.refuse_large_body()
            return False
        return super().handle_expect_100()

    def body_too_large(self):
        try:
            return int(self.headers.get("Content-Length", "0")) > self.server.worker.max_body
        except ValueError:
            return False

    def refuse_large_body(self):
        """413 from Content-Length alone; the body is never read into memory. Like nginx's lingering
        close, what the client still sends is discarded for a bounded time, so a client that sends
        the whole body before reading (Python's http.client) gets the answer, not a reset."""
        self.error(413, f"the request body is over {self.server.worker.max_body} bytes", close=True)
        self.wfile.flush()
        deadline = time.monotonic() + LINGER_SECONDS
        try:
            self.connection.shutdown(socket.SHUT_WR)
            while (left := deadline - time.monotonic()) > 0:
                self.connection.settimeout(left)
                if not self.connection.recv(1 << 16):
                    break
        except OSError:
            pass

    def read_body(self):
        """The request body, or None once an error was answered."""
        if "Transfer-Encoding" in self.headers:
            self.error(411, "send the body with a Content-Length (chunked bodies are not supported)",
                       close=True)
            return None
        length = self.headers.get("Content-Length")
        if length is None or not length.strip().isdigit():
            self.error(411 if length is None else 400, "a POST needs a valid Content-Length", close=True)
            return None
        if int(length) > self.server.worker.max_body:
            self.refuse_large_body()
            return None
        body = self.rfile.read(int(length))
        if len(body) != int(length):
            self.close_connection = True
            return None
        return body

    def infer(self, body):
        worker = self.server.worker
        try:
            request = json.loads(body)
        except (ValueError, RecursionError) as e:
            return self.error(400, f"the body is not JSON: {e}")
        try:
            outputs = worker.model.infer(request)
        except TensorError as e:
            return self.error(400, str(e))
        except Exception as e:  # noqa: BLE001 - whatever predict raises answers 500
            traceback.print_exc(file=sys.stderr)
            return self.error(500, f"{type(e).__name__}: {e}")
        answer = {"model_name": worker.name, "model_version": MODEL_VERSION}
        if isinstance(request.get("id"), str):
            answer["id"] = request["id"]
        answer["outputs"] = outputs
        self.reply(200, answer)


class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True

    def __init__(self, address, worker):
        self.worker = worker
        super().__init__(address, Handler)


# --- main --------------------------------------------------------------------------------------

def ensure_numpy():
    """A replica may start us with a python3 first on PATH that lacks numpy (a pyenv one, say);
    Debian's /usr/bin/python3 has python3-numpy: switch to it rather than fail."""
    if np is not None:
        return
    if (os.path.exists(SYSTEM_PYTHON) and not os.environ.get("PADDLECLOUD_WORKER_REEXEC")
            and os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON)):
        os.environ["PADDLECLOUD_WORKER_REEXEC"] = "1"
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON] + sys.argv)
    fail("numpy is required (on Debian: apt-get install python3-numpy)")


def fail(message, code=1):
    sys.stderr.write(f"{os.path.basename(sys.argv[0])}: {message}\n")
    sys.stderr.flush()
    os._exit(code)   # nothing half-running: no thread outlives this


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Serve DIR/model.py over the KServe v2 REST protocol.")
    parser.add_argument("--model-dir", required=True, help="the folder holding model.py")
    parser.add_argument("--name", required=True, help="the model name in /v2/models/NAME")
    parser.add_argument("--port", type=int, default=None, help="listen port (default: $PORT)")
    parser.add_argument("--listen", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                        help="most predict calls at once for THREAD_SAFE models (default: CPUs)")
    parser.add_argument("--max-body", type=int, default=DEFAULT_MAX_BODY,
                        help=f"largest request body in bytes, else 413 (default {DEFAULT_MAX_BODY})")
    args = parser.parse_args(argv)
    if args.port is None:
        port = os.environ.get("PORT", "")
        if not port.isdigit():
            parser.error("give --port or set PORT")
        args.port = int(port)
    if args.threads < 1 or args.max_body < 1:
        parser.error("--threads and --max-body must be positive")
    return args


def main(argv):
    args = parse_args(argv)
    ensure_numpy()
    worker = Worker(args.name, args.max_body)
    try:
        server = Server((args.listen, args.port), worker)
    except OSError as e:
        fail(f"cannot listen on {args.listen}:{args.port}: {e}")
    stop = threading.Event()

    def on_signal(*_):
        if worker.model is None or not worker.ready:
            fail("stopped while loading the model", 0)   # load() may never return
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    print(f"listening on http://{args.listen}:{server.server_address[1]}", flush=True)
    model_dir = os.path.abspath(args.model_dir)
    try:
        worker.model = Model(model_dir, args.threads)
        worker.model.load()
    except ModelError as e:
        fail(f"model.py: {e}")
    except BaseException as e:  # noqa: BLE001 - whatever model.py raises stops the worker
        traceback.print_exc(file=sys.stderr)
        fail(f"model.py failed to load: {type(e).__name__}: {e}")
    worker.ready = True
    print(f"model {args.name!r} is ready", flush=True)
    while not stop.wait(3600):
        pass
    worker.ready = False            # health checks fail while in-flight requests finish
    server.shutdown()
    worker.drain(DRAIN_SECONDS)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
