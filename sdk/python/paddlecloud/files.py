"""Datasets and models from Python: the account's files (docs/files.md).

    from paddlecloud import upload, download, list_files
    upload("./data", "datasets/mnist")                  # a folder, file by file; resumable
    for entry in list_files("datasets/mnist"):
        print(entry["name"], entry["kind"], entry["size"])
    download("models/out/model.bin", "./model.bin")    # resumes from ./model.bin.part

Cloud paths are relative and "/"-separated ("datasets/mnist/train.csv"), checked by the server's rule
before anything is sent (docs/files.md, "The cloud-path rule"): a leading "/", "." and ".." segments,
empty segments, NUL, backslashes, control characters, a name over 255 bytes or a path over 4096 bytes
raise CloudPathError (a ValueError with a `code`); trailing "/"s are dropped. upload() and
download() put things exactly at the path given (unlike `paddlecloud cp`, an existing folder is not
gone into).

Uploads use the resumable upload protocol: each file gets a session (with its size and SHA-256,
which the server verifies) that is remembered until it completes in the CLI's state directory
(~/.paddlecloud/uploads/, next to the config file named by $PADDLECLOUD_CLI_CONFIG; the same files
`paddlecloud cp` uses), so uploading the same file to the same path again after an interruption
continues at the server's offset. The body is sent in chunks (PUT with Content-Range), streamed
from the file. Downloads are written to LOCAL.part and renamed when complete; a .part left by an
interrupted download of the same (unchanged: same ETag) file is continued with a Range request.
"""
import hashlib
import http.client
import json
import os
import time
import urllib.parse
from typing import Any, Callable, Dict, List, Optional, Tuple

from .client import CONFIG_PATH, ApiError, Client, error_from_body

Progress = Optional[Callable[[int, int], None]]

DEFAULT_CHUNK = 64 << 20   # bytes per PUT of an upload
_READ = 1 << 20            # bytes per read of a file or a download
_RETRIES = 3               # a dropped connection is retried (resuming) this often
_CONFLICT_RETRIES = 40     # a PUT refused (409) because another PUT of the session still runs


# -- paths --------------------------------------------------------------------------------------
class CloudPathError(ValueError):
    """A cloud path that breaks the rule every client shares (docs/files.md, "The cloud-path rule");
    `code` names the problem: absolute, empty_segment, dot_segment, nul, backslash, control,
    segment_too_long, path_too_long or invalid_utf8."""

    def __init__(self, path: str, code: str, why: str):
        super().__init__(f"invalid cloud path {path!r}: {why}")
        self.code = code


def _cloud(path: str) -> str:
    """The path checked by the server's rule and normalized (trailing "/" dropped); CloudPathError."""
    if not isinstance(path, str):
        raise ValueError(f"a cloud path is a string, not {path!r}")
    try:
        size = len(path.encode("utf-8"))
    except UnicodeEncodeError:
        raise CloudPathError(path, "invalid_utf8", "it is not valid UTF-8") from None
    if size > 4096:
        raise CloudPathError(path, "path_too_long", "it is longer than 4096 bytes")
    if path.startswith("/"):
        raise CloudPathError(path, "absolute", "it must be relative (no leading '/')")
    normal = path.rstrip("/")
    for segment in normal.split("/") if normal else []:
        if segment == "":
            raise CloudPathError(path, "empty_segment", "it has an empty segment ('//')")
        if segment in (".", ".."):
            raise CloudPathError(path, "dot_segment", f"'{segment}' segments are not allowed")
        if len(segment.encode("utf-8")) > 255:
            raise CloudPathError(path, "segment_too_long", "a name in it is longer than 255 bytes")
        for ch in segment:
            if ch == "\0":
                raise CloudPathError(path, "nul", "it contains a NUL byte")
            if ch == "\\":
                raise CloudPathError(path, "backslash", "use '/' to separate folders, not '\\'")
            if ch < " " or ch == "\x7f":
                raise CloudPathError(path, "control", "it contains a control character")
    return normal


def _quote(path: str) -> str:
    return urllib.parse.quote(path, safe="/")


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def _safe_name(name: Any) -> bool:
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and "\\" not in name \
        and "\0" not in name


# -- state files shared with the CLI -------------------------------------------------------------
def _state_dir(kind: str) -> str:
    config = os.path.expanduser(os.environ.get("PADDLECLOUD_CLI_CONFIG") or CONFIG_PATH)
    return os.path.join(os.path.dirname(config), kind)


def _state_path(kind: str, server: str, local: str, cloud: str) -> str:
    key = hashlib.sha256(f"{server}\n{local}\n{cloud}".encode()).hexdigest()
    return os.path.join(_state_dir(kind), key + ".json")


def _read_state(path: str) -> Optional[Dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _write_state(path: str, value: Dict[str, Any]) -> None:
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    temp = f"{path}.tmp-{os.getpid()}"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(value, f)
    os.replace(temp, path)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


# -- entries ------------------------------------------------------------------------------------
def get_entry(cloud_path: str, client: Optional[Client] = None) -> Dict[str, Any]:
    """A file's entry (with "writable" and "etag"), or a folder's listing head ({"path", "kind":
    "folder", "entries": [first entry], ...})."""
    client = client or Client()
    return client.request("GET", "/api/v1/files/" + _quote(_cloud(cloud_path)), query={"limit": 1})


def list_files(cloud_path: str = "", client: Optional[Client] = None, sort: str = "name", order: str = "asc",
               page_size: int = 1000) -> List[Dict[str, Any]]:
    """The entries of a folder, every page: dicts with "name", "path", "kind" ("file" or "folder"),
    "size", "modified_at", "uploaded_by" (the uploader's email or None), "written_by_job" (the id
    of the job whose pods wrote the file, a string, or None), "content_type". The empty path lists
    the top-level folders. A file's path gives a list of its one entry. `sort` is name (folders
    first), size or modified; `order` asc or desc."""
    client = client or Client()
    path = _cloud(cloud_path)
    entries: List[Dict[str, Any]] = []
    cursor = None
    while True:
        answer = client.request("GET", "/api/v1/files/" + _quote(path),
                                query={"sort": sort, "order": order, "limit": page_size, "cursor": cursor})
        if "entries" not in answer:
            return [answer]
        entries.extend(answer["entries"])
        next_cursor = answer.get("next_cursor")
        if not next_cursor or next_cursor == cursor:
            return entries
        cursor = next_cursor


def make_folder(cloud_path: str, client: Optional[Client] = None, exist_ok: bool = False) -> Optional[Dict[str, Any]]:
    """Creates a folder and its missing parents; returns its entry. With `exist_ok`, an existing
    folder is fine (returns None)."""
    client = client or Client()
    path = _cloud(cloud_path)
    try:
        return client.request("POST", "/api/v1/folders", {"path": path})
    except ApiError as e:
        if not (exist_ok and e.status == 409):
            raise
        if get_entry(path, client).get("kind") != "folder":
            raise
        return None


def remove(cloud_path: str, recursive: bool = False, client: Optional[Client] = None) -> None:
    """Deletes a file, or a folder (one with contents needs `recursive`)."""
    client = client or Client()
    query = {"recursive": "true"} if recursive else None
    client.request("DELETE", "/api/v1/files/" + _quote(_cloud(cloud_path)), query=query)


def move(cloud_path: str, new_path: str, client: Optional[Client] = None) -> Dict[str, Any]:
    """Renames or moves a file or folder to exactly `new_path`; returns its new entry."""
    client = client or Client()
    return client.request("PATCH", "/api/v1/files/" + _quote(_cloud(cloud_path)), {"path": _cloud(new_path)})


def storage_usage(client: Optional[Client] = None) -> Dict[str, Any]:
    """{"used_bytes", "quota_bytes"} of the account."""
    return (client or Client()).request("GET", "/api/v1/storage")


# -- uploads ------------------------------------------------------------------------------------
class _Totals:
    def __init__(self, total: int, progress: Progress):
        self.total = total
        self.done = 0
        self.files = 0
        self.resumed_bytes = 0
        self.progress = progress

    def moved(self, n: int) -> None:
        self.done += n
        if self.progress:
            self.progress(self.done, self.total)


def _sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_READ), b""):
            digest.update(block)
    return digest.hexdigest()


def _server_offset(client: Client, upload_id: str) -> Optional[int]:
    """Where the server is in an upload; None when the session is gone."""
    try:
        return int(client.request("GET", "/api/v1/uploads/" + _quote(upload_id))["offset"])
    except ApiError as e:
        if e.status == 404:
            return None
        raise


def _cancel(client: Client, upload_id: str) -> None:
    """Cancels a session of no use (it holds quota until it expires), best effort; a PUT of it that
    the server has not yet seen end is a conflict for a moment."""
    for _ in range(20):
        try:
            client.request("DELETE", "/api/v1/uploads/" + _quote(upload_id))
            return
        except ApiError as e:
            if e.status != 409:
                return
            time.sleep(0.15)


def _put(client: Client, upload_id: str, f, start: int, length: int, size: int,
         on_sent: Callable[[int], None]) -> Dict[str, Any]:
    """One PUT of `length` bytes of `f` from `start`, streamed. The connection is closed however it
    ends (also when `on_sent` raises), so the server sees an interrupted PUT end at once."""
    conn, target, proxy_headers = client.connection("/api/v1/uploads/" + _quote(upload_id), client.timeout)
    try:
        conn.putrequest("PUT", target, skip_accept_encoding=True)
        for name, value in proxy_headers.items():
            conn.putheader(name, value)
        conn.putheader("Accept", "application/json")
        conn.putheader("Content-Type", "application/octet-stream")
        conn.putheader("Content-Length", str(length))
        if size > 0:
            conn.putheader("Content-Range", f"bytes {start}-{start + length - 1}/{size}")
        if client.token:
            conn.putheader("Authorization", f"Bearer {client.token}")
        conn.endheaders()
        f.seek(start)
        left = length
        send_error = None
        while left > 0:
            chunk = f.read(min(_READ, left))
            if not chunk:
                raise ValueError(f"{f.name} became shorter while it was uploaded")
            try:
                conn.send(chunk)
            except OSError as e:  # the server may have answered early (an error) and closed
                send_error = e
                break
            left -= len(chunk)
            on_sent(len(chunk))
        try:
            conn.sock.settimeout(max(600.0, client.timeout))  # it checks and stores the file first
            response = conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as e:
            raise client.unreachable(send_error or e) from None
    except OSError as e:
        raise client.unreachable(e) from None
    finally:
        conn.close()
    if response.status >= 300:
        raise error_from_body(response.status, payload)
    return json.loads(payload) if payload else {}


class _FileCount:
    """The bytes of one file counted in the totals: what the server has is what counts."""

    def __init__(self, totals: _Totals):
        self.totals = totals
        self.counted = 0

    def count(self, n: int) -> None:
        self.counted += n
        self.totals.moved(n)

    def recount(self, at: int) -> None:
        self.totals.moved(at - self.counted)
        self.counted = at


class _Retries:
    """How often an upload tried again, and what it does after an error."""

    def __init__(self):
        self.restarted = False
        self.failures = self.conflicts = 0

    def after(self, e: ApiError, state_path: str) -> str:
        """"restart" (a new session) or "resume" (from the server's offset); raises `e` when the
        upload ends there."""
        if e.status == 409 and self.conflicts < _CONFLICT_RETRIES:
            self.conflicts += 1  # elsewhere, or an earlier PUT of the session still runs
            time.sleep(0.1 if self.conflicts < 4 else 0.5)
            return "resume"
        if e.status == 404 and not self.restarted:
            self.restarted = True  # the session expired: start over
            return "restart"
        if e.status == 0 and self.failures < _RETRIES:
            self.failures += 1
            time.sleep(self.failures)
            return "resume"
        if 400 <= e.status < 500 and e.status not in (408, 409, 429):
            _remove(state_path)  # refused for good (checksum, quota): the session is no use
        raise e


def _resume_saved(client: Client, state_path: str, size: int, mtime_ns: int) -> Tuple[Optional[str], int]:
    """(session id, server offset) of the state file when it is of the file as it is now and the
    server still has it (docs/upload-state.md); otherwise cancels it and returns (None, 0)."""
    saved = _read_state(state_path)
    if not saved or not saved.get("id"):
        return None, 0
    if saved.get("size") == size and saved.get("mtime_ns") == mtime_ns:
        at = _server_offset(client, saved["id"])
        if at is not None and at < size:
            return saved["id"], at
    _cancel(client, saved["id"])  # changed since, or over: that session is of no use
    _remove(state_path)
    return None, 0


def _start_session(client: Client, local: str, cloud: str, st: os.stat_result, state_path: str) -> Dict[str, Any]:
    """Opens a session for the whole file and remembers it in the state file."""
    sha = _sha256_of(local)
    created = client.request("POST", "/api/v1/uploads", {"path": cloud, "size": st.st_size, "sha256": sha})
    try:
        _write_state(state_path, {"id": created["id"], "server": client.server, "local": os.path.abspath(local),
                                  "path": cloud, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha,
                                  "created_at": int(time.time())})
    except OSError:
        pass  # the upload still works; it just cannot be resumed
    return created


def _put_rest(client: Client, upload_id: str, f, offset: int, size: int, chunk_size: int,
              counter: _FileCount) -> Dict[str, Any]:
    """PUTs the file from `offset` in chunks until the server has all of it; its last answer."""
    while True:
        length = min(chunk_size, size - offset)
        answer = _put(client, upload_id, f, offset, length, size, counter.count)
        if answer.get("complete"):
            return answer
        new_offset = int(answer.get("offset", offset + length))
        if new_offset <= offset or new_offset >= size:
            raise ApiError(0, "unavailable", f"the upload of {f.name} did not complete")
        offset = new_offset
        counter.recount(offset)


def _finished(state_path: str, totals: _Totals, answer: Dict[str, Any]) -> Dict[str, Any]:
    _remove(state_path)
    totals.files += 1
    return answer.get("file") or {}


def _upload_file(client: Client, local: str, cloud: str, totals: _Totals, chunk_size: int) -> Dict[str, Any]:
    st = os.stat(local)
    size = st.st_size
    state_path = _state_path("uploads", client.server, os.path.abspath(local), cloud)
    upload_id, offset = _resume_saved(client, state_path, size, st.st_mtime_ns)
    counter = _FileCount(totals)
    if upload_id is not None:
        totals.resumed_bytes += offset
        counter.recount(offset)
    retries = _Retries()
    with open(local, "rb") as f:
        while True:
            if upload_id is None:
                created = _start_session(client, local, cloud, st, state_path)
                upload_id, offset = created["id"], int(created.get("offset") or 0)
                counter.recount(offset)
                if created.get("complete"):
                    return _finished(state_path, totals, created)
            try:
                answer = _put_rest(client, upload_id, f, offset, size, chunk_size, counter)
            except ApiError as e:
                at = None if retries.after(e, state_path) == "restart" else _server_offset(client, upload_id)
                if at is None:  # the session is gone: a new one
                    upload_id = None
                    _remove(state_path)
                else:
                    offset = at
                    counter.recount(offset)
                continue
            counter.recount(size)
            return _finished(state_path, totals, answer)


def upload(local_path: str, cloud_path: str, client: Optional[Client] = None, progress: Progress = None,
           chunk_size: int = DEFAULT_CHUNK) -> Dict[str, Any]:
    """Uploads a file to exactly `cloud_path`, or a folder recursively as the folder `cloud_path`
    (creating its folders, empty ones included). Resumable (see the module's doc): running it again
    after an interruption continues each unfinished file where the server is. `progress(sent,
    total)` gets the bytes of all files (resumed bytes count as sent at the start). Returns
    {"path", "files", "bytes", "resumed_bytes"}. Raises ApiError with the server's message (e.g.
    quota_exceeded), ValueError for a bad path or a local path that is no file or folder."""
    client = client or Client()
    cloud = _cloud(cloud_path)
    if not cloud:
        raise ValueError("upload needs a cloud path below the top level, e.g. datasets/mnist")
    if not chunk_size or chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    if os.path.isdir(local_path):
        folders, files = [], []
        root = os.path.abspath(local_path)
        for directory, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel_dir = os.path.relpath(directory, root).replace(os.sep, "/")
            rel_dir = "" if rel_dir == "." else rel_dir
            if not dirnames:
                folders.append(rel_dir)  # creating the innermost folders creates the others
            for name in sorted(filenames):
                full = os.path.join(directory, name)
                if os.path.isfile(full):
                    files.append((full, _join(rel_dir, name)))
        totals = _Totals(sum(os.path.getsize(full) for full, _ in files), progress)
        for folder in folders:
            make_folder(_join(cloud, folder), client, exist_ok=True)
        for full, rel in files:
            _upload_file(client, full, _join(cloud, rel), totals, chunk_size)
    elif os.path.isfile(local_path):
        totals = _Totals(os.path.getsize(local_path), progress)
        _upload_file(client, local_path, cloud, totals, chunk_size)
    else:
        raise ValueError(f"{local_path} is neither a file nor a folder")
    return {"path": cloud, "files": totals.files, "bytes": totals.total, "resumed_bytes": totals.resumed_bytes}


# -- downloads ----------------------------------------------------------------------------------
def _download_file(client: Client, cloud: str, local: str, size: int, totals: _Totals) -> None:
    part = local + ".part"
    state_path = _state_path("downloads", client.server, os.path.abspath(local), cloud)
    counted = 0  # bytes of this file counted in totals
    failures = 0
    for _ in range(_RETRIES + 3):
        have = os.path.getsize(part) if os.path.isfile(part) else 0
        saved = _read_state(state_path) or {}
        etag_before = saved.get("etag")
        if have > 0 and (have >= size or not etag_before):
            have = 0
        headers = {"Range": f"bytes={have}-"} if have > 0 else {}
        try:
            with client._open("GET", "/api/v1/download/" + _quote(cloud), None, headers) as response:
                etag = response.headers.get("ETag")
                if response.status == 206:
                    content_range = response.headers.get("Content-Range", "")
                    start = content_range.split(" ", 1)[-1].split("-", 1)[0]
                    if start != str(have) or (etag_before and etag and etag != etag_before):
                        _remove(part)  # another file now, or not where we are: start over
                        _remove(state_path)
                        continue
                    mode = "ab"
                    if have and not counted:
                        totals.resumed_bytes += have
                    written = have
                else:
                    mode, written = "wb", 0
                if etag:
                    _write_state(state_path, {"etag": etag, "path": cloud, "local": os.path.abspath(local),
                                              "size": size})
                totals.moved(written - counted)
                counted = written
                with open(part, mode) as out:
                    for block in iter(lambda: response.read(_READ), b""):
                        out.write(block)
                        written += len(block)
                        totals.moved(len(block))
                        counted = written
        except ApiError as e:
            if e.status == 416 and have > 0:
                _remove(part)
                continue
            if e.status != 0 or failures >= _RETRIES:
                raise
            failures += 1
            time.sleep(failures)
            continue
        except (OSError, http.client.HTTPException) as e:  # the connection broke
            if isinstance(e, (FileNotFoundError, PermissionError, IsADirectoryError)) or failures >= _RETRIES:
                raise
            failures += 1
            time.sleep(failures)
            continue
        if written != size and size:
            failures += 1
            if failures > _RETRIES:
                raise ApiError(0, "unavailable", f"the download of {cloud} was cut short; download again to resume")
            continue
        os.replace(part, local)
        _remove(state_path)
        totals.files += 1
        return
    raise ApiError(0, "conflict", f"{cloud} keeps changing while it is downloaded")


def _collect(client: Client, cloud: str, local: str, out: List[Any]) -> None:
    """(cloud file, local path, size) of every file below the folder `cloud`, and its folders."""
    out.append((None, local, 0))
    for entry in list_files(cloud, client):
        name = entry.get("name")
        if not _safe_name(name):
            continue
        if entry.get("kind") == "folder":
            _collect(client, _join(cloud, name), os.path.join(local, name), out)
        else:
            out.append((_join(cloud, name), os.path.join(local, name), int(entry.get("size") or 0)))


def download(cloud_path: str, local_path: str, client: Optional[Client] = None,
             progress: Progress = None) -> Dict[str, Any]:
    """Downloads a file to exactly `local_path`, or a folder recursively as the folder `local_path`,
    file by file through LOCAL.part (continued when an earlier download was interrupted).
    `progress(received, total)` as for upload(). Returns {"path", "files", "bytes", "resumed_bytes"}."""
    client = client or Client()
    cloud = _cloud(cloud_path)
    entry = get_entry(cloud, client)
    if entry.get("kind") == "folder":
        items: List[Any] = []
        _collect(client, cloud, local_path, items)
        totals = _Totals(sum(size for _, _, size in items), progress)
        for source, target, size in items:
            if source is None:
                os.makedirs(target, exist_ok=True)
            else:
                _download_file(client, source, target, size, totals)
    else:
        size = int(entry.get("size") or 0)
        totals = _Totals(size, progress)
        parent = os.path.dirname(os.path.abspath(local_path))
        os.makedirs(parent, exist_ok=True)
        _download_file(client, cloud, local_path, size, totals)
    return {"path": local_path, "files": totals.files, "bytes": totals.total, "resumed_bytes": totals.resumed_bytes}


__all__ = ["download", "get_entry", "list_files", "make_folder", "move", "remove", "storage_usage", "upload"]
