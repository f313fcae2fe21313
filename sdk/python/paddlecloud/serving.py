"""Serving instances from Python: a model as an HTTP inference service (docs/serving.md).

    import numpy as np
    from paddlecloud import serve, predict, serving_instances
    fit = serve("models/fit_a_line", "fit", replicas=2)      # waits until every replica is ready
    print(fit.url, fit.state)
    y = fit.predict({"x": np.random.rand(4, 13)})["y"]     # numpy in; numpy out: shape (4, 1), float32
    predict("fit", {"x": [[0.1] * 13]})                    # by name; lists work without numpy too
    fit.scale(3); fit.deactivate(); fit.activate(); fit.delete()

`model` is a cloud path (models/..., datasets/..., workspace/..., public/...) or a local folder, .onnx
file or .tar.gz archive, which serve() uploads first to models/<name>/ (resumably, see upload()).

predict() speaks the Open Inference Protocol (KServe v2) through the platform's inference gateway
with the client's token. Inputs are converted to the datatypes the model declares (its metadata,
GET .../v2/models/<name>, read once per Serving): a float64 array goes to an FP32 input as FP32. A
value whose kind cannot be cast without loss (floats to an INT64 input) raises ValueError naming
the input; NaN and infinities, which JSON cannot carry, too. Outputs come back as numpy arrays of
the answer's shape and the dtype of its datatype (BYTES: an object array of str); without numpy,
as nested lists of that shape. A model that refuses the request raises ApiError with code
"inference_error" and the model's message (400 for a bad tensor); the gateway's own refusals
(401, 404, 503 no_ready_replica, 413) keep their codes.
"""
import math
import os
import time
import urllib.parse
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from .client import ApiError, Client
from .files import make_folder, upload
from .jobs import LogText, follow_log

try:  # numpy is optional: without it tensors are nested lists
    import numpy as np
except ImportError:  # pragma: no cover - depends on the interpreter
    np = None

Quantity = Union[str, int, float]

READY_STATES = ("ready",)
WAITING_STATES = ("starting", "degraded")
INFER_TIMEOUT = 90.0  # seconds; the gateway gives a replica 60 s

# The protocol's datatypes and the numpy dtypes they become.
DTYPES = {"BOOL": "bool", "INT8": "int8", "INT16": "int16", "INT32": "int32", "INT64": "int64",
          "UINT8": "uint8", "UINT16": "uint16", "UINT32": "uint32", "UINT64": "uint64",
          "FP16": "float16", "FP32": "float32", "FP64": "float64", "BYTES": "object"}
_FLOAT_TYPES = ("FP16", "FP32", "FP64")


def _serving_path(name: str) -> str:
    return "/api/v1/serving/" + urllib.parse.quote(name, safe="")


# -- tensors -------------------------------------------------------------------------------------
def datatype_of(value: Any) -> str:
    """The protocol datatype a value is sent as when the model declares none: a numpy array's by its
    dtype (float64 -> FP64, int32 -> INT32, str -> BYTES), Python values by their kind: bool -> BOOL,
    int -> INT64, float -> FP32, str/bytes -> BYTES. ValueError for anything else."""
    if np is not None and isinstance(value, (np.ndarray, np.generic)):
        kind, size = value.dtype.kind, value.dtype.itemsize
        names = {"b": {1: "BOOL"}, "i": {1: "INT8", 2: "INT16", 4: "INT32", 8: "INT64"},
                 "u": {1: "UINT8", 2: "UINT16", 4: "UINT32", 8: "UINT64"}, "f": {2: "FP16", 4: "FP32", 8: "FP64"}}
        if kind in ("U", "S", "O"):
            return "BYTES"
        if size in names.get(kind, {}):
            return names[kind][size]
        raise ValueError(f"numpy dtype {value.dtype} has no Open Inference Protocol datatype")
    flat = _flatten(value)[1]
    if flat and all(isinstance(x, bool) for x in flat):
        return "BOOL"
    if flat and all(isinstance(x, (str, bytes)) for x in flat):
        return "BYTES"
    if all(isinstance(x, int) and not isinstance(x, bool) for x in flat):
        return "INT64"
    if all(isinstance(x, (int, float)) for x in flat):
        return "FP32"
    raise ValueError(f"cannot send {value!r} as a tensor: use numbers, bools or strings")


def _flatten(value: Any) -> Tuple[List[int], List[Any]]:
    """(shape, row-major values) of nested lists/tuples; ValueError when they are ragged."""
    if np is not None and isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        return list(array.shape), array.ravel().tolist()
    if not isinstance(value, (list, tuple)):
        return [], [value]
    if not value:
        return [0], []
    parts = [_flatten(item) for item in value]
    shape = parts[0][0]
    if any(part[0] != shape for part in parts):
        raise ValueError("the nested lists are ragged: every row must have the same shape")
    return [len(value)] + shape, [x for part in parts for x in part[1]]


def encode_tensor(name: str, value: Any, datatype: Optional[str] = None) -> Dict[str, Any]:
    """The v2 request tensor {"name", "shape", "datatype", "data"} (flat, row-major) of a numpy array,
    nested lists or a scalar, as `datatype` (the model's; default datatype_of(value)). ValueError
    naming the input for a lossy cast (a float value to an integer or BOOL datatype), a string to a
    number or a number to BYTES, and for NaN or infinite values."""
    datatype = datatype or datatype_of(value)
    if datatype not in DTYPES:
        raise ValueError(f"input {name!r}: unknown datatype {datatype!r}")
    if np is not None and isinstance(value, (np.ndarray, np.generic)):
        array = np.asarray(value)
        target = np.dtype(DTYPES[datatype])
        if datatype == "BYTES":
            if array.dtype.kind not in ("U", "S", "O"):
                raise ValueError(f"input {name!r}: {array.dtype} values cannot be sent as BYTES")
        elif array.size and not np.can_cast(array.dtype, target, casting="same_kind"):
            raise ValueError(f"input {name!r}: {array.dtype} values cannot be sent as {datatype} without loss")
        shape, data = list(array.shape), array.ravel().tolist()
    else:
        shape, data = _flatten(value)
    return {"name": name, "shape": shape, "datatype": datatype, "data": _checked(name, datatype, data)}


def _checked(name: str, datatype: str, data: List[Any]) -> List[Any]:
    """The flat values as JSON values of `datatype`; ValueError naming the input otherwise."""
    out = []
    for x in data:
        if datatype == "BYTES":
            if not isinstance(x, (str, bytes)):
                raise ValueError(f"input {name!r}: BYTES takes strings, not {x!r}")
            out.append(x.decode("utf-8") if isinstance(x, bytes) else x)
        elif isinstance(x, str) or isinstance(x, bytes) or not isinstance(x, (bool, int, float)):
            raise ValueError(f"input {name!r}: {x!r} is not a number")
        elif datatype == "BOOL":
            if not isinstance(x, bool) and x not in (0, 1):
                raise ValueError(f"input {name!r}: {x!r} is not a BOOL")
            out.append(bool(x))
        elif datatype in _FLOAT_TYPES:
            if not math.isfinite(x):
                raise ValueError(f"input {name!r}: {x!r} cannot be sent (JSON has no NaN or infinity)")
            out.append(float(x))
        else:
            if isinstance(x, float) and not x.is_integer():
                raise ValueError(f"input {name!r}: {x!r} is not an integer, as {datatype} needs")
            out.append(int(x))
    return out


def decode_tensor(tensor: Dict[str, Any]) -> Any:
    """The value of a v2 answer tensor: a numpy array of its shape and its datatype's dtype (None,
    the protocol's NaN, becomes nan), or without numpy nested lists of its shape."""
    datatype, shape = tensor.get("datatype", "FP32"), [int(d) for d in tensor.get("shape", [])]
    data = _flatten(tensor.get("data", []))[1]
    if datatype in _FLOAT_TYPES:
        data = [math.nan if x is None else x for x in data]
    if np is not None:
        dtype = DTYPES.get(datatype, "object")
        if datatype == "BYTES":
            return np.array(data, dtype=object).reshape(shape)
        return np.array(data, dtype=dtype).reshape(shape)
    return _nest(data, shape)


def _nest(flat: List[Any], shape: Sequence[int]) -> Any:
    if not shape:
        return flat[0] if flat else None
    if len(shape) == 1:
        return list(flat)
    step = len(flat) // shape[0] if shape[0] else 0
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def infer_request(inputs: Dict[str, Any], outputs: Optional[Sequence[str]] = None,
                  metadata: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """The v2 infer request of `inputs` (name -> value), each as the datatype `metadata` (the model's
    {"inputs": [{"name", "datatype", ...}]}) declares for it, else datatype_of(value)."""
    declared = {t.get("name"): t.get("datatype") for t in (metadata or {}).get("inputs", [])}
    request: Dict[str, Any] = {"inputs": [encode_tensor(name, value, declared.get(name))
                                          for name, value in inputs.items()]}
    if outputs:
        request["outputs"] = [{"name": name} for name in outputs]
    return request


def outputs_of(answer: Dict[str, Any]) -> Dict[str, Any]:
    """name -> decode_tensor() of each output of a v2 answer."""
    return {tensor["name"]: decode_tensor(tensor) for tensor in answer.get("outputs", [])}


# -- instances -----------------------------------------------------------------------------------
class Serving:
    """A serving instance. Properties read the instance as last fetched (refresh() fetches it
    again); the actions answer the instance as it is after them."""

    def __init__(self, client: Client, data: Dict[str, Any]):
        self.client = client
        self.name = data["name"]
        self.data = data
        self._metadata: Optional[Dict[str, Any]] = None

    def __repr__(self) -> str:
        return f"Serving(name={self.name!r}, state={self.state!r}, url={self.url!r})"

    @property
    def state(self) -> str:
        """inactive, starting, ready, degraded or failed (docs/serving.md)."""
        return self.data.get("state", "")

    @property
    def url(self) -> str:
        """The gateway's base URL of the instance (the v2 protocol lives under it)."""
        return self._absolute(self.data.get("url", ""))

    @property
    def infer_url(self) -> str:
        return self._absolute(self.data.get("infer_url", ""))

    @property
    def replicas(self) -> Dict[str, int]:
        """{"desired": n, "ready": n}"""
        return self.data.get("replicas", {})

    @property
    def stats(self) -> Optional[Dict[str, Any]]:
        """qps, p50_ms, p95_ms, p99_ms, error_rate, in_flight over the last 10 s; None before any request."""
        return self.data.get("stats")

    def _absolute(self, url: str) -> str:
        return self.client.server + url if url.startswith("/") else url

    def _update(self, data: Dict[str, Any]) -> "Serving":
        self.data = data
        return self

    def refresh(self) -> "Serving":
        return self._update(self.client.request("GET", _serving_path(self.name)))

    def wait(self, timeout: float = 600.0, poll: float = 0.5) -> "Serving":
        """Blocks until every replica is ready. RuntimeError when the instance failed or is inactive
        (with its reason and message), TimeoutError past `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while self.refresh().state in WAITING_STATES:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"serving instance {self.name} is still {self.state} after {timeout:g} s")
            time.sleep(poll)
        if self.state not in READY_STATES:
            why = ": ".join(x for x in (self.data.get("reason"), self.data.get("message")) if x)
            raise RuntimeError(f"serving instance {self.name} did not get ready: {self.state}"
                               + (f" ({why})" if why else ""))
        return self

    def scale(self, replicas: int, wait: bool = False) -> "Serving":
        """Changes the number of replicas (1..64); with `wait`, until they are ready."""
        self._update(self.client.request("POST", _serving_path(self.name) + "/scale", {"replicas": replicas}))
        return self.wait() if wait else self

    def deactivate(self) -> "Serving":
        """Stops routing to its replicas, lets their requests finish, stops them; it stays listed."""
        return self._update(self.client.request("POST", _serving_path(self.name) + "/deactivate"))

    def activate(self, wait: bool = False) -> "Serving":
        """Starts a deactivated instance again with its last number of replicas."""
        self._update(self.client.request("POST", _serving_path(self.name) + "/activate"))
        return self.wait() if wait else self

    def set_public(self, public: bool) -> "Serving":
        """Whether anonymous requests may call it."""
        return self._update(self.client.request("PATCH", _serving_path(self.name), {"public": public}))

    def delete(self) -> None:
        """Drains and stops it, then forgets it with its model snapshot, logs and metrics."""
        self.client.request("DELETE", _serving_path(self.name))

    def _log_path(self, replica: int) -> str:
        return f"{_serving_path(self.name)}/replicas/{int(replica)}/logs"

    def logs(self, replica: int = 0, tail: int = 100) -> LogText:
        """The last `tail` lines of a replica's log."""
        return LogText(self.client.request("GET", self._log_path(replica), query={"tail": tail})["text"])

    def follow_logs(self, replica: int = 0, tail: int = 100, retry_for: float = 60.0) -> Iterator[str]:
        """Yields a replica's log as it is written (the last `tail` lines first) until its stream
        ends, by the resume rule of Job.follow_logs."""
        return follow_log(self.client, self._log_path(replica), f"replica {replica} of {self.name}", tail, retry_for)

    def metrics(self, from_ms: Optional[int] = None, to_ms: Optional[int] = None, points: int = 300,
                replica: Optional[int] = None) -> Dict[str, Any]:
        """The gateway's time series of the instance (or of one replica): {"t": [...], "series":
        {"requests_per_s": {"min", "max", "mean"}, "p99_ms": ..., ...}} (docs/serving.md)."""
        return self.client.request("GET", _serving_path(self.name) + "/metrics",
                                   query={"from": from_ms, "to": to_ms, "points": points, "replica": replica})

    def _v2_path(self) -> str:
        path = self.data.get("infer_url", "")
        if not path.endswith("/infer"):
            raise ApiError(0, "internal", f"the server's answer names no infer_url for {self.name}")
        return path[:-len("/infer")]

    def metadata(self) -> Dict[str, Any]:
        """The model's v2 metadata {"name", "platform", "inputs", "outputs"} (read once, then kept).
        A runtime that serves none (a command may not): {}."""
        if self._metadata is None:
            try:
                self._metadata = self.client.request("GET", self._v2_path(), timeout=INFER_TIMEOUT) or {}
            except ApiError as e:
                if e.status != 404 or e.code == "not_found":  # the gateway's own 404: no such instance
                    raise
                self._metadata = {}
        return self._metadata

    def infer(self, request: Dict[str, Any]) -> Dict[str, Any]:
        """POSTs a v2 infer request as it is; returns the answer as it is."""
        return self.client.request("POST", self._v2_path() + "/infer", request, timeout=INFER_TIMEOUT)

    def predict(self, inputs: Dict[str, Any], outputs: Optional[Sequence[str]] = None) -> Dict[str, Any]:
        """name -> value in (numpy arrays, nested lists or scalars), name -> value out (see the
        module's doc). `outputs` names the outputs wanted (default: every one)."""
        return outputs_of(self.infer(infer_request(inputs, outputs, self.metadata())))


def _local_model(model: str) -> bool:
    return os.path.isdir(model) or (os.path.isfile(model) and model.endswith((".onnx", ".tar.gz", ".tgz")))


def _upload_model(client: Client, model: str, name: str, progress=None) -> str:
    """Uploads a local model to models/<name>/; returns the cloud path to launch from."""
    try:
        existing = get_serving(name, client=client)
    except ApiError as e:
        if e.status != 404:
            raise
    else:
        raise ApiError(409, "conflict", f"a serving instance named {name} exists already ({existing.state})",
                       {"field": "name"})
    folder = f"models/{name}"
    if os.path.isdir(model):
        upload(model, folder, client=client, progress=progress)
        return folder
    target = f"{folder}/{os.path.basename(model)}"
    make_folder(folder, client=client, exist_ok=True)
    upload(model, target, client=client, progress=progress)
    return target


def serve(model: str, name: str, runtime: Optional[str] = None, replicas: int = 1, cpu: Quantity = "1",
          memory: Quantity = "1Gi", gpus: int = 0, model_file: Optional[str] = None,
          model_py: Optional[str] = None, command: Optional[str] = None, public: bool = False,
          wait: bool = True, timeout: float = 600.0, client: Optional[Client] = None, progress=None) -> Serving:
    """Launches `model` as the serving instance `name` (1-40 of a-z 0-9 "-") with `replicas` replicas
    of `cpu`, `memory` and `gpus` each; with `wait` (the default), returns once they are ready
    (Serving.wait()).

    `model` is a cloud path, or a local folder, .onnx file or .tar.gz archive uploaded first to
    models/<name>/ (`progress(sent, total)` as in upload()). `runtime` is "onnx", "python" or
    "command" (default: "command" with `command`, "python" with `model_py`, else "onnx");
    `model_py` is the source of a model.py, or the path of a local file holding it; `model_file` the
    .onnx file in the model. ApiError naming the field for bad arguments (409 `name` taken, 403
    quota_exceeded)."""
    client = client or Client()
    if model_py is not None and "\n" not in model_py and os.path.isfile(model_py):
        with open(model_py, encoding="utf-8") as f:
            model_py = f.read()
    if runtime is None:
        runtime = "command" if command else "python" if model_py else "onnx"
    if _local_model(model):
        model = _upload_model(client, model, name, progress)
    body: Dict[str, Any] = {"name": name, "model": model, "runtime": runtime, "replicas": replicas, "cpu": str(cpu),
                            "memory": str(memory), "gpus": gpus, "public": public}
    for key, value in (("model_file", model_file), ("model_py", model_py), ("command", command)):
        if value:
            body[key] = value
    serving = Serving(client, client.request("POST", "/api/v1/serving", body))
    return serving.wait(timeout=timeout) if wait else serving


def get_serving(name: str, client: Optional[Client] = None) -> Serving:
    """The instance `name` of the signed-in account; ApiError 404 for one it does not have."""
    client = client or Client()
    return Serving(client, client.request("GET", _serving_path(name)))


def serving_instances(client: Optional[Client] = None) -> List[Serving]:
    """The account's serving instances (those the user may see), newest first."""
    client = client or Client()
    return [Serving(client, data) for data in client.request("GET", "/api/v1/serving")["instances"]]


def predict(name: str, inputs: Dict[str, Any], outputs: Optional[Sequence[str]] = None,
            client: Optional[Client] = None) -> Dict[str, Any]:
    """Serving.predict() on the instance `name` of the signed-in account, or on "ACCOUNT/NAME"
    without asking the API first (what an invoke-only token or a public instance needs)."""
    client = client or Client()
    if "/" in name:
        account, instance = name.split("/", 1)
        base = f"/serving/{urllib.parse.quote(account, safe='')}/{urllib.parse.quote(instance, safe='')}"
        serving = Serving(client, {"name": instance, "url": base,
                                   "infer_url": f"{base}/v2/models/{urllib.parse.quote(instance, safe='')}/infer"})
    else:
        try:
            serving = get_serving(name, client)
        except ApiError as e:
            if e.details.get("reason") != "token_scope":
                raise
            raise ApiError(e.status, e.code, f"{e.message}; an invoke-only token calls the instance as "
                                             f"predict(\"ACCOUNT/{name}\", ...)", e.details) from None
    return serving.predict(inputs, outputs)


__all__ = ["DTYPES", "Serving", "datatype_of", "decode_tensor", "encode_tensor", "get_serving", "infer_request",
           "outputs_of", "predict", "serve", "serving_instances"]
