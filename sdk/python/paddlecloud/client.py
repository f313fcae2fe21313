"""HTTP client for the PaddleCloud REST API.

Settings come from, in order: explicit arguments, the environment (PADDLE_CLOUD_URL,
PADDLE_CLOUD_TOKEN: set for every job pod), then the CLI's config file ~/.paddlecloud/config
($PADDLECLOUD_CLI_CONFIG names another path; JSON: {"server": "...", "token": "...", "cacert": "..."},
written by `paddlecloud login`). As in the CLI, the file's token and CA file belong to the file's
server: they are not used when another server is chosen, so a stored token never goes elsewhere.
"""
import base64
import http.client
import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Dict, Iterator, Optional, Tuple

DEFAULT_SERVER = "http://127.0.0.1:8080"
CONFIG_PATH = os.path.join("~", ".paddlecloud", "config")


class ApiError(Exception):
    """An error answer of the API: HTTP status plus the error object's code, message and details."""

    def __init__(self, status: int, code: str, message: str, details: Optional[Dict[str, Any]] = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}

    @property
    def field(self) -> Optional[str]:
        """The request field the server named as the problem, if any."""
        return self.details.get("field")


def load_settings(server: Optional[str] = None, token: Optional[str] = None,
                  config_path: Optional[str] = None) -> Tuple[str, Optional[str]]:
    """Returns (server URL, token) from arguments, environment, then the config file."""
    server, token, _ = _resolve_settings(server, token, config_path)
    return server, token


def _resolve_settings(server: Optional[str], token: Optional[str],
                      config_path: Optional[str]) -> Tuple[str, Optional[str], Optional[str]]:
    """(server URL, token, CA file) from arguments, environment, then the config file."""
    file_settings: Dict[str, Any] = {}
    path = os.path.expanduser(config_path or os.environ.get("PADDLECLOUD_CLI_CONFIG") or CONFIG_PATH)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            try:
                file_settings = json.load(f)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path} is not valid JSON: {e}") from e
        if not isinstance(file_settings, dict):
            raise ValueError(f"{path} must hold a JSON object")
    file_server = file_settings.get("server")
    server = (server or os.environ.get("PADDLE_CLOUD_URL") or file_server or DEFAULT_SERVER).rstrip("/")
    ours = bool(file_server) and _same_server(server, file_server)
    token = token or os.environ.get("PADDLE_CLOUD_TOKEN") or (file_settings.get("token") if ours else None)
    cafile = file_settings.get("cacert") if ours else None
    return server, token, cafile


def _same_server(a: str, b: str) -> bool:
    def canonical(url: str) -> Tuple[str, str, Optional[int], str]:
        parts = urllib.parse.urlsplit(url.rstrip("/"))
        scheme = parts.scheme.lower()
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            port = None
        return scheme, (parts.hostname or "").lower(), port, parts.path.rstrip("/")
    return canonical(a) == canonical(b)


class Client:
    """A connection to one PaddleCloud server."""

    def __init__(self, server: Optional[str] = None, token: Optional[str] = None, timeout: float = 30.0,
                 cafile: Optional[str] = None, config_path: Optional[str] = None):
        self.server, self.token, file_cafile = _resolve_settings(server, token, config_path)
        self.timeout = timeout
        cafile = cafile or file_cafile
        self._ssl = ssl.create_default_context(cafile=cafile) if self.server.startswith("https") else None

    # -- operations ---------------------------------------------------------------------------
    def version(self) -> Dict[str, Any]:
        """{"name", "version", "commit"} of the server."""
        return self.request("GET", "/api/v1/version")

    def health(self) -> Dict[str, Any]:
        """Liveness, with uptime."""
        return self.request("GET", "/healthz")

    def readiness(self) -> Dict[str, Any]:
        """{"status": "ready"|"not_ready", "checks": {...}}; does not raise on 503."""
        try:
            return self.request("GET", "/readyz")
        except ApiError as e:
            if e.status == 503 and "checks" in e.details:
                return {"status": "not_ready", "checks": e.details["checks"]}
            raise

    def status_events(self) -> Iterator[Dict[str, Any]]:
        """Yields the server's live status events (Server-Sent Events) until the stream ends."""
        for event, data in self.stream("/api/v1/status/stream"):
            if event == "status":
                yield json.loads(data)

    def stream(self, path: str) -> Iterator[Tuple[str, str]]:
        """Yields (event, data) of a Server-Sent Events stream until the server ends it."""
        with self._open("GET", path, None, {"Accept": "text/event-stream"}) as response:
            yield from _parse_sse(response)

    def upload(self, path: str, file_path: str, content_type: str,
               progress: Optional[Callable[[int, int], None]] = None, timeout: float = 600.0) -> Any:
        """POSTs the file at `file_path` as the request body, streamed in chunks (never read whole),
        with its Content-Length; `progress(sent, total)` is called as it goes. Returns the decoded
        JSON answer. The answer may take up to `timeout` seconds (the server unpacks it first)."""
        total = os.path.getsize(file_path)
        headers = {"Accept": "application/json", "Content-Type": content_type, "Content-Length": str(total)}
        with open(file_path, "rb") as f:
            body = _ProgressReader(f, total, progress)
            with self._open("POST", path, body, headers, timeout=max(timeout, self.timeout)) as response:
                payload = response.read()
        return json.loads(payload) if payload else None

    # -- plumbing -----------------------------------------------------------------------------
    def request(self, method: str, path: str, body: Any = None, query: Optional[Dict[str, Any]] = None,
                timeout: Optional[float] = None) -> Any:
        """Sends a JSON request; returns the decoded JSON answer (None for an empty one). `timeout`
        (seconds) replaces the client's for this request."""
        if query:
            path += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        with self._open(method, path, data, headers, timeout) as response:
            payload = response.read()
        return json.loads(payload) if payload else None

    def proxy(self) -> Optional[urllib.parse.SplitResult]:
        """The HTTP proxy requests to the server go through, as urllib chooses it from the environment
        (http_proxy / https_proxy, lower case first, and no_proxy; docs/proxy.md); None: direct."""
        parts = urllib.parse.urlsplit(self.server)
        proxy = urllib.request.getproxies().get(parts.scheme)
        if not proxy or urllib.request.proxy_bypass(parts.netloc):
            return None
        return urllib.parse.urlsplit(proxy if "://" in proxy else "http://" + proxy)

    def unreachable(self, reason: Any) -> "ApiError":
        """The error for a server (or the proxy to it) that cannot be reached."""
        proxy = self.proxy()
        via = f" through the proxy http://{proxy.hostname}:{proxy.port or 80}" if proxy else ""
        return ApiError(0, "unreachable", f"cannot reach the PaddleCloud server at {self.server}{via}: {reason}")

    def connection(self, path: str, timeout: float) -> Tuple[http.client.HTTPConnection, str, Dict[str, str]]:
        """(connection, request target, extra headers) for one raw http.client request of `path`,
        through the proxy urllib would use: an absolute target to it for http://, a CONNECT tunnel
        for https:// (TLS and its checks with the server)."""
        parts = urllib.parse.urlsplit(self.server)
        target = parts.path.rstrip("/") + path
        proxy = self.proxy()
        if proxy is None:
            if parts.scheme == "https":
                return http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout, context=self._ssl), target, {}
            return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout), target, {}
        auth = {}
        if proxy.username is not None:
            user = urllib.parse.unquote(proxy.username) + ":" + urllib.parse.unquote(proxy.password or "")
            auth = {"Proxy-Authorization": "Basic " + base64.b64encode(user.encode()).decode()}
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(proxy.hostname, proxy.port or 80, timeout=timeout, context=self._ssl)
            conn.set_tunnel(parts.hostname, parts.port or 443, headers=auth)
            return conn, target, {}
        conn = http.client.HTTPConnection(proxy.hostname, proxy.port or 80, timeout=timeout)
        return conn, f"{parts.scheme}://{parts.netloc}{target}", auth

    def _open(self, method: str, path: str, data: Any, headers: Dict[str, str], timeout: Optional[float] = None):
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.server + path, data=data, method=method, headers=headers)
        try:
            # A new opener each time reads the proxy variables now, as proxy() does (urlopen() keeps
            # the first ones it saw for plain http).
            handlers = [urllib.request.HTTPSHandler(context=self._ssl)] if self._ssl else []
            return urllib.request.build_opener(*handlers).open(req, timeout=timeout or self.timeout)
        except urllib.error.HTTPError as e:
            raise _api_error(e) from None
        except urllib.error.URLError as e:
            raise self.unreachable(e.reason) from None


class _ProgressReader:
    """A file body for urllib: http.client sends it by read()s of a block at a time."""

    def __init__(self, f, total: int, progress: Optional[Callable[[int, int], None]]):
        self._f = f
        self._total = total
        self._sent = 0
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        chunk = self._f.read(256 * 1024 if size is None or size < 0 else size)
        self._sent += len(chunk)
        if chunk and self._progress:
            self._progress(self._sent, self._total)
        return chunk


def _api_error(e: "urllib.error.HTTPError") -> ApiError:
    return error_from_body(e.code, e.read(), str(e.reason))


def error_from_body(status: int, raw: bytes, reason: str = "") -> ApiError:
    """The ApiError of a refused request from its status and body: the server's {"error": {...}}, a
    model server's {"error": "message"} (code "inference_error"), the checks of a 503 from /readyz, or
    the start of any other body (``reason`` or "HTTP <status>" when empty)."""
    try:
        body = json.loads(raw)
    except (ValueError, TypeError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        return ApiError(status, err.get("code", "unknown"), err.get("message", ""), err.get("details"))
    if isinstance(body, dict) and isinstance(body.get("error"), str):  # a model server's (Open Inference Protocol)
        return ApiError(status, "inference_error", body["error"])
    if isinstance(body, dict) and "checks" in body:  # /readyz answers 503 with its checks
        return ApiError(status, "unavailable", body.get("status", ""), {"checks": body["checks"]})
    return ApiError(status, "http_error", raw.decode(errors="replace")[:200] or reason or f"HTTP {status}")


def _parse_sse(lines) -> Iterator[Tuple[str, str]]:
    event, data = "", []
    for raw in lines:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if data:
                yield event or "message", "\n".join(data)
            event, data = "", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(" ") else value)
