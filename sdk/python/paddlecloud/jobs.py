"""Training jobs from Python: create_cloud_job(...) as the product brief shows, and Job handles.

    from paddlecloud import create_cloud_job
    job = create_cloud_job("fit-a-line", num_trainer=2, mem_per_trainer="512Mi", gpu_per_trainer=0,
                           cpu_per_trainer="1", num_ps=1, mem_per_ps="256Mi", cpu_per_ps="500m",
                           entry="python3 train.py", package="examples/fit_a_line")
    job.wait()
    print(job.status()["state"], job.logs())

`package` is a local directory (packed as tar.gz and uploaded, as `paddlecloud submit DIR` does), a
.tar/.tar.gz file, or the id ("pkg_...") of an upload_package() answer; `workdir` instead names a
folder of the account's files.

In a Jupyter notebook of the platform (PADDLE_CLOUD_NOTEBOOK=1), `create_cloud_job(name, 2, "512Mi", 0,
"1", 1, "256Mi", "500m")` with neither `package` nor `workdir` runs the notebook's current folder
of the workspace (nothing is uploaded: the job reads the same files) with `python3 train.py`, and
prints the job's link on the Job Dashboard.
"""
import html
import http.client
import itertools
import json
import os
import stat
import tarfile
import tempfile
import time
import urllib.parse
from typing import Any, Callable, Dict, Iterator, List, Optional, Union

from .client import ApiError, Client
from .usage import JobUsage

TERMINAL_STATES = ("Succeeded", "Failed", "Stopped")
Quantity = Union[str, int, float]

MAX_PACKAGE_BYTES = 1 << 30      # the server's limits on a package
MAX_PACKAGE_ENTRIES = 100_000
EXCLUDED_DIRS = (".git", "__pycache__")


def _excluded(name: str) -> bool:
    return name in EXCLUDED_DIRS or (name.endswith(".pyc") and len(name) > 4)


def pack_directory(directory: str, archive_path: str) -> Dict[str, int]:
    """Writes `directory` as a tar.gz archive to `archive_path`, as the CLI does: regular files and
    folders only, without .git, __pycache__ and *.pyc. A symbolic link to a file inside the directory
    is stored as a copy; a link to a folder inside it is left out; a link that leads outside it (or
    nowhere) raises ValueError naming it. Returns {"files", "directories", "bytes"}."""
    if not os.path.isdir(directory):
        raise ValueError(f"{directory} is not a directory")
    root = os.path.realpath(directory)
    counts = {"files": 0, "directories": 0, "bytes": 0}

    def count_entry():
        if counts["files"] + counts["directories"] >= MAX_PACKAGE_ENTRIES:
            raise ValueError(f"{directory} holds more than {MAX_PACKAGE_ENTRIES} files and folders, "
                             "the most a package may have")

    def info(name: str, st: os.stat_result, is_dir: bool) -> tarfile.TarInfo:
        ti = tarfile.TarInfo(name)
        ti.type = tarfile.DIRTYPE if is_dir else tarfile.REGTYPE
        ti.mode = (stat.S_IMODE(st.st_mode) & 0o777) | (0o700 if is_dir else 0o600)
        ti.mtime = int(st.st_mtime)
        ti.size = 0 if is_dir else st.st_size
        return ti

    def add_file(tar: tarfile.TarFile, source: str, rel: str):
        count_entry()
        with open(source, "rb") as f:
            st = os.fstat(f.fileno())
            if counts["bytes"] + st.st_size > MAX_PACKAGE_BYTES:
                raise ValueError(f"{directory} holds more than 1 GiB, the most a package may have (reached at {rel})")
            tar.addfile(info(rel, st, False), f)
        counts["files"] += 1
        counts["bytes"] += st.st_size

    def add_tree(tar: tarfile.TarFile, path: str, rel_dir: str):
        for name in sorted(os.listdir(path)):
            if _excluded(name):
                continue
            full = os.path.join(path, name)
            rel = f"{rel_dir}/{name}" if rel_dir else name
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                target = os.path.realpath(full)
                shown = os.path.join(directory, rel)
                if not os.path.exists(target):
                    raise ValueError(f"{shown} is a symbolic link to '{os.readlink(full)}', which does not exist")
                if target != root and not target.startswith(root + os.sep):
                    raise ValueError(f"{shown} is a symbolic link to '{os.readlink(full)}', outside {directory}; "
                                     "packages hold only what is inside it: copy the file in instead")
                if os.path.isfile(target):
                    add_file(tar, target, rel)
            elif stat.S_ISDIR(st.st_mode):
                count_entry()
                tar.addfile(info(rel + "/", st, True))
                counts["directories"] += 1
                add_tree(tar, full, rel)
            elif stat.S_ISREG(st.st_mode):
                add_file(tar, full, rel)

    with tarfile.open(archive_path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        add_tree(tar, root, "")
    return counts


def upload_package(package: str, client: Optional[Client] = None,
                   progress: Optional[Callable[[int, int], None]] = None) -> Dict[str, Any]:
    """Uploads a directory (packed first, see pack_directory) or a .tar/.tar.gz file as a job
    package; returns the server's {"package": "pkg_...", "files", "bytes"}. The archive is streamed
    from a temporary file, never read into memory whole."""
    client = client or Client()
    if os.path.isdir(package):
        fd, archive = tempfile.mkstemp(prefix="paddlecloud-package-", suffix=".tar.gz")
        os.close(fd)
        try:
            pack_directory(package, archive)
            return client.upload("/api/v1/jobs/packages", archive, "application/gzip", progress)
        finally:
            os.unlink(archive)
    if os.path.isfile(package):
        gzipped = package.endswith((".tar.gz", ".tgz"))
        if not gzipped and not package.endswith(".tar"):
            raise ValueError(f"{package} is not a directory, a .tar or a .tar.gz file")
        return client.upload("/api/v1/jobs/packages", package, "application/gzip" if gzipped else "application/x-tar",
                             progress)
    raise ValueError(f"package {package!r} is neither a directory, an archive nor a package id (pkg_...)")


NOTEBOOK_ENTRY = "python3 train.py"
CODE_FOLDERS = ("workspace", "datasets", "models")  # the cloud folders a job may run in


def in_notebook() -> bool:
    """Whether this process runs in the user's notebook of the platform (docs/notebooks.md)."""
    return os.environ.get("PADDLE_CLOUD_NOTEBOOK") == "1"


def notebook_workdir(cwd: Optional[str] = None) -> str:
    """The cloud path of `cwd` (default: the current folder) in the account's files, which a
    notebook sees under $PADDLE_CLOUD_DATA: /data/workspace/exp1 -> "workspace/exp1". Each of
    workspace/, datasets/ and models/ may be a mount or a link of its own. ValueError for a folder
    outside them."""
    data = os.environ.get("PADDLE_CLOUD_DATA", "").strip() or "/data"
    folder = os.path.realpath(cwd or os.getcwd())
    for top in CODE_FOLDERS:
        root = os.path.realpath(os.path.join(data, top))
        if folder == root or folder.startswith(root + os.sep):
            relative = os.path.relpath(folder, root)
            return top if relative == os.curdir else top + "/" + relative.replace(os.sep, "/")
    raise ValueError(f"the current folder {folder} is not inside {data}/workspace, {data}/datasets or "
                     f"{data}/models, so a job cannot run it: change to one (os.chdir(\"{data}/workspace/...\")), "
                     "or pass package= (a local folder to upload) or workdir= (a cloud path such as "
                     "\"workspace/exp1\")")


class LogText(str):
    """A log's text: a str that a notebook cell shows as the lines themselves, not as a quoted repr."""

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


class Job:
    """A submitted job. Methods ask the server each time; nothing is cached."""

    def __init__(self, client: Client, data: Dict[str, Any]):
        self.client = client
        self.id = data["id"]
        self.name = data["name"]
        self._data = data

    def __repr__(self) -> str:
        return f"Job(id={self.id}, name={self.name!r}, state={self._data.get('state')!r})"

    def _repr_html_(self) -> str:
        state = html.escape(str(self._data.get("state", "")))
        return (f'<span>Job <a href="{html.escape(self.dashboard_url)}" target="_blank">'
                f'{html.escape(self.name)} (id {self.id})</a> {state} &middot; '
                f'<a href="{html.escape(self.board_url)}" target="_blank">Board</a></span>')

    @property
    def dashboard_url(self) -> str:
        """The job's page on the Job Dashboard: $PADDLE_CLOUD_WEB_URL (the platform's public URL,
        set in notebooks), else the client's server, then /jobs/<id>."""
        base = os.environ.get("PADDLE_CLOUD_WEB_URL", "").strip() or self.client.server
        return f"{base.rstrip('/')}/jobs/{self.id}"

    @property
    def board_url(self) -> str:
        """The job's Paddle Board page: the dashboard page's /board."""
        return self.dashboard_url + "/board"

    def status(self) -> Dict[str, Any]:
        """The job as the server sees it now: state, reason, succeeded/failed counts, pods."""
        self._data = self.client.request("GET", f"/api/v1/jobs/{self.id}")
        return self._data

    @property
    def state(self) -> str:
        return self.status()["state"]

    def pods(self) -> List[Dict[str, Any]]:
        return self.status()["pods"]

    def _first_trainer(self) -> str:
        pods = self.pods()
        for p in pods:
            if p.get("role") == "trainer" and p.get("index") == 0:
                return p["name"]
        return pods[0]["name"]

    def logs(self, pod: Optional[str] = None, tail: int = 100) -> LogText:
        """The last `tail` lines of a pod's log (the first trainer's by default), a str that a
        notebook cell shows as lines."""
        pod = pod or self._first_trainer()
        path = f"/api/v1/jobs/{self.id}/pods/{urllib.parse.quote(pod)}/logs"
        return LogText(self.client.request("GET", path, query={"tail": tail})["text"])

    def follow_logs(self, pod: Optional[str] = None, tail: int = 100,
                    retry_for: float = 60.0) -> Iterator[str]:
        """Yields the log's text as it is written (the last `tail` lines first), until the job ends.

        The resume rule, the same as `paddlecloud logs -f` and the web console (docs/jobs-logs.md):
        every chunk carries its byte offset, and the byte offset after the last text yielded is kept.
        A dropped connection is opened again (tail=0) for up to `retry_for` seconds without contact;
        a chunk starting before that offset yields only its new part, a gap before a chunk is read
        with byte ranges, and after the job's end the rest of the file is read the same way. So no
        text is lost or yielded twice. ApiError("unreachable") when the server stays away.
        """
        pod = pod or self._first_trainer()
        log_path = f"/api/v1/jobs/{self.id}/pods/{urllib.parse.quote(pod)}/logs"
        yield from follow_log(self.client, log_path, pod, tail, retry_for)

    def usage(self, from_ms: Optional[int] = None, to_ms: Optional[int] = None, points: int = 500) -> JobUsage:
        """The job's CPU, memory, GPU, disk and network usage over from_ms..to_ms (unix ms; default
        its start and its end or now) in at most `points` (1..5000) buckets of min/max/mean, per pod,
        summed over the job, and its network: a JobUsage (paddlecloud.usage). `usage().pods[0].latest
        ("cpu_cores")` is what the first pod uses now. ApiError naming `from`, `to` or `points` for a
        bad range; 404 for a job that is not the caller's to see."""
        body = self.client.request("GET", f"/api/v1/jobs/{self.id}/usage",
                                   query={"from": from_ms, "to": to_ms, "points": points})
        return JobUsage.from_json(body)

    def follow_usage(self, retry_for: float = 60.0) -> Iterator[Dict[str, Any]]:
        """Yields the job's live usage samples, one per sampling interval, until the job ends:
        {"t": ms, "pods": {"<pod>": {"cpu_cores": 0.98, "memory_working_set_bytes": ..., ...}},
        "network": {"network_rx_bytes_per_s": ..., ...}} (metrics as in usage(); None: not measured).

        A dropped connection is opened again for up to `retry_for` seconds without contact, and a
        sample already yielded (same or earlier `t`) is not yielded again. ApiError("unreachable")
        when the server stays away."""
        last_t = None
        last_contact = time.monotonic()
        for attempt in itertools.count():
            try:
                for event, data in self.client.stream(f"/api/v1/jobs/{self.id}/usage/stream"):
                    last_contact = time.monotonic()
                    if event == "end":
                        return
                    if event == "sample":
                        sample = json.loads(data)
                        if last_t is None or sample["t"] > last_t:
                            last_t = sample["t"]
                            yield sample
            except ApiError as e:
                if e.status not in (0, 502, 503, 504):
                    raise
            except (OSError, http.client.HTTPException):
                pass  # the connection broke mid-stream: open it again below
            if time.monotonic() - last_contact > retry_for:
                raise ApiError(0, "unreachable",
                               f"the usage stream of job {self.id} stayed away for {retry_for:g} s without its end")
            time.sleep(0.2 if attempt == 0 else 1.0)

    def events(self) -> List[Dict[str, Any]]:
        return self.client.request("GET", f"/api/v1/jobs/{self.id}/events")["items"]

    def stop(self) -> Dict[str, Any]:
        """Asks the job to stop (SIGTERM, then SIGKILL after a grace period)."""
        self._data = self.client.request("POST", f"/api/v1/jobs/{self.id}/stop")
        return self._data

    def wait(self, timeout: Optional[float] = None, poll: float = 1.0) -> str:
        """Blocks until the job ends; returns its final state. TimeoutError past `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            state = self.status()["state"]
            if state in TERMINAL_STATES:
                return state
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"job {self.name} ({self.id}) still {state} after {timeout} s")
            time.sleep(poll)


def follow_log(client: Client, log_path: str, label: str, tail: int = 100,
               retry_for: float = 60.0) -> Iterator[str]:
    """Yields the log at `log_path` (an API path serving `?offset=&length=` ranges and
    `/stream?tail=N` events) as it is written, from its last `tail` lines, until the stream's `end`
    event, by the resume rule of Job.follow_logs (docs/jobs-logs.md). ApiError("unreachable")
    naming `label` when the server stays away."""
    resume = _LogResume(client, log_path)
    last_contact = time.monotonic()
    for attempt in itertools.count():
        ended = False
        try:
            stream = client.stream(f"{log_path}/stream?tail={tail if resume.next is None else 0}")
            for event, data in stream:
                last_contact = time.monotonic()
                if event == "end":
                    ended = True
                    break
                if event == "log":
                    chunk = json.loads(data)
                    yield from resume.chunk(int(chunk["offset"]), chunk["text"])
        except ApiError as e:
            if e.status not in (0, 502, 503, 504):
                raise
        except (OSError, http.client.HTTPException):
            pass  # the connection broke mid-stream: resume below
        if ended:
            yield from resume.rest()
            return
        if time.monotonic() - last_contact > retry_for:
            raise ApiError(0, "unreachable",
                           f"the log stream of {label} stayed away for {retry_for:g} s without its end")
        time.sleep(0.2 if attempt == 0 else 1.0)


class _LogResume:
    """The byte offset after the text yielded so far, and the reads that keep to it."""

    def __init__(self, client: Client, log_path: str):
        self.client, self.log_path = client, log_path
        self.next: Optional[int] = None

    def chunk(self, offset: int, text: str) -> Iterator[str]:
        raw = text.encode("utf-8")
        if self.next is not None and offset > self.next:  # a gap while the stream was down
            yield from self.range(offset)
        if self.next is not None and offset < self.next:  # already yielded
            skip = self.next - offset
            if skip >= len(raw):
                return
            raw, offset = raw[skip:], self.next
        if raw:
            yield raw.decode("utf-8", errors="replace")
        self.next = offset + len(raw)

    def range(self, until: Optional[int] = None) -> Iterator[str]:
        """Yields the log from `next` up to `until` (its current end when None) by byte ranges."""
        while self.next is not None and (until is None or self.next < until):
            length = 1 << 20 if until is None else min(until - self.next, 1 << 20)
            text = self.client.request("GET", self.log_path, query={"offset": self.next, "length": length})["text"]
            if not text:
                return
            yield text
            self.next += len(text.encode("utf-8"))

    def rest(self) -> Iterator[str]:
        """What was written after the stream's last event (the log is complete once the job ended)."""
        yield from self.range()


def create_cloud_job(name: str, num_trainer: int = 1, mem_per_trainer: Quantity = "1Gi",
                     gpu_per_trainer: int = 0, cpu_per_trainer: Quantity = "1", num_ps: int = 0,
                     mem_per_ps: Quantity = "1Gi", cpu_per_ps: Quantity = "1", entry: str = "",
                     package: str = "", workdir: str = "", env: Optional[Dict[str, str]] = None,
                     image: str = "", max_restarts: int = 0, fault_tolerant: int = 0,
                     client: Optional[Client] = None) -> Job:
    """Submits a distributed job: `num_trainer` trainers and `num_ps` parameter servers running `entry`.

    Memory and CPU take Kubernetes quantities ("512Mi", "500m"). `package` is a local directory or
    archive (uploaded first, see upload_package) or an uploaded package's id ("pkg_..."); the pods
    run in its files. Raises ApiError whose `field` names a bad argument, ValueError for a package
    that cannot be packed.

    In a notebook (in_notebook()), without `package` and `workdir` the job runs in the current
    folder (notebook_workdir(): ValueError outside the cloud files), `entry` defaults to
    "python3 train.py", and the job's Dashboard link is printed.
    """
    notebook = in_notebook()
    if notebook and not package and not workdir:
        workdir = notebook_workdir()
    if notebook and not entry:
        entry = NOTEBOOK_ENTRY
    client = client or Client()
    if package and not (package.startswith("pkg_") and not os.path.exists(package)):
        package = upload_package(package, client)["package"]
    spec: Dict[str, Any] = {
        "name": name, "entry": entry, "num_trainer": num_trainer, "cpu_per_trainer": str(cpu_per_trainer),
        "mem_per_trainer": str(mem_per_trainer), "gpu_per_trainer": gpu_per_trainer, "num_ps": num_ps,
        "cpu_per_ps": str(cpu_per_ps), "mem_per_ps": str(mem_per_ps), "env": env or {},
        "max_restarts": max_restarts, "fault_tolerant": fault_tolerant,
    }
    for key, value in (("package", package), ("workdir", workdir), ("image", image)):
        if value:
            spec[key] = value
    job = Job(client, client.request("POST", "/api/v1/jobs", spec))
    if notebook:
        print(f"Job {job.name} (id {job.id}) submitted: {job.dashboard_url}", flush=True)
    return job


def list_jobs(status: Optional[str] = None, name: Optional[str] = None, limit: int = 50,
              all_users: bool = False, client: Optional[Client] = None) -> List[Job]:
    """The newest jobs first; `status` is running, succeeded, failed or stopped."""
    client = client or Client()
    query = {"status": status, "name": name, "limit": limit, "all": "true" if all_users else None}
    return [Job(client, item) for item in client.request("GET", "/api/v1/jobs", query=query)["items"]]


def get_job(job_id: int, client: Optional[Client] = None) -> Job:
    client = client or Client()
    return Job(client, client.request("GET", f"/api/v1/jobs/{job_id}"))


__all__ = ["ApiError", "Job", "LogText", "create_cloud_job", "follow_log", "get_job", "in_notebook", "list_jobs",
           "notebook_workdir",
           "pack_directory", "upload_package"]
