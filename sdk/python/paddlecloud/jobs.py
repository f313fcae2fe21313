"""Training jobs from Python: create_cloud_job(...) as the product brief shows, and Job handles.

    from paddlecloud import create_cloud_job
    job = create_cloud_job("fit-a-line", num_trainer=2, mem_per_trainer="512Mi", gpu_per_trainer=0,
                           cpu_per_trainer="1", num_ps=1, mem_per_ps="256Mi", cpu_per_ps="500m",
                           entry="python3 train.py", workdir="code/fit_a_line")
    job.wait()
    print(job.status()["state"], job.logs("fit-a-line-1-trainer-0"))
"""
import json
import time
import urllib.parse
from typing import Any, Dict, Iterator, List, Optional, Union

from .client import ApiError, Client

TERMINAL_STATES = ("Succeeded", "Failed", "Stopped")
Quantity = Union[str, int, float]


class Job:
    """A submitted job. Methods ask the server each time; nothing is cached."""

    def __init__(self, client: Client, data: Dict[str, Any]):
        self.client = client
        self.id = data["id"]
        self.name = data["name"]
        self._data = data

    def __repr__(self) -> str:
        return f"Job(id={self.id}, name={self.name!r}, state={self._data.get('state')!r})"

    def status(self) -> Dict[str, Any]:
        """The job as the server sees it now: state, reason, succeeded/failed counts, pods."""
        self._data = self.client.request("GET", f"/api/v1/jobs/{self.id}")
        return self._data

    @property
    def state(self) -> str:
        return self.status()["state"]

    def pods(self) -> List[Dict[str, Any]]:
        return self.status()["pods"]

    def logs(self, pod: Optional[str] = None, tail: int = 100) -> str:
        """The last `tail` lines of a pod's log (the first trainer's by default)."""
        pod = pod or self.pods()[0]["name"]
        path = f"/api/v1/jobs/{self.id}/pods/{urllib.parse.quote(pod)}/logs"
        return self.client.request("GET", path, query={"tail": tail})["text"]

    def follow_logs(self, pod: Optional[str] = None, tail: int = 100) -> Iterator[str]:
        """Yields the log's text as it is written, until the job ends."""
        pod = pod or self.pods()[0]["name"]
        path = f"/api/v1/jobs/{self.id}/pods/{urllib.parse.quote(pod)}/logs/stream?tail={tail}"
        for event, data in self.client.stream(path):
            if event == "log":
                yield json.loads(data)["text"]
            elif event == "end":
                return

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


def create_cloud_job(name: str, num_trainer: int = 1, mem_per_trainer: Quantity = "1Gi",
                     gpu_per_trainer: int = 0, cpu_per_trainer: Quantity = "1", num_ps: int = 0,
                     mem_per_ps: Quantity = "1Gi", cpu_per_ps: Quantity = "1", entry: str = "",
                     package: str = "", workdir: str = "", env: Optional[Dict[str, str]] = None,
                     image: str = "", max_restarts: int = 0, fault_tolerant: int = 0,
                     client: Optional[Client] = None) -> Job:
    """Submits a distributed job: `num_trainer` trainers and `num_ps` parameter servers running `entry`.

    Memory and CPU take Kubernetes quantities ("512Mi", "500m"). Raises ApiError whose `field` names
    a bad argument.
    """
    client = client or Client()
    spec: Dict[str, Any] = {
        "name": name, "entry": entry, "num_trainer": num_trainer, "cpu_per_trainer": str(cpu_per_trainer),
        "mem_per_trainer": str(mem_per_trainer), "gpu_per_trainer": gpu_per_trainer, "num_ps": num_ps,
        "cpu_per_ps": str(cpu_per_ps), "mem_per_ps": str(mem_per_ps), "env": env or {},
        "max_restarts": max_restarts, "fault_tolerant": fault_tolerant,
    }
    for key, value in (("package", package), ("workdir", workdir), ("image", image)):
        if value:
            spec[key] = value
    return Job(client, client.request("POST", "/api/v1/jobs", spec))


def list_jobs(status: Optional[str] = None, name: Optional[str] = None, limit: int = 50,
              all_users: bool = False, client: Optional[Client] = None) -> List[Job]:
    """The newest jobs first; `status` is running, succeeded, failed or stopped."""
    client = client or Client()
    query = {"status": status, "name": name, "limit": limit, "all": "true" if all_users else None}
    return [Job(client, item) for item in client.request("GET", "/api/v1/jobs", query=query)["items"]]


def get_job(job_id: int, client: Optional[Client] = None) -> Job:
    client = client or Client()
    return Job(client, client.request("GET", f"/api/v1/jobs/{job_id}"))


__all__ = ["ApiError", "Job", "create_cloud_job", "get_job", "list_jobs"]
