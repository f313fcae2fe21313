"""Resource usage from Python: what a job's pods use (Job.usage, Job.follow_usage) and the account's
CPU and GPU time (account_usage). The contract is docs/monitoring.md.

    from paddlecloud import account_usage, get_job
    job = get_job(12)
    usage = job.usage()                       # the whole run, at most 500 buckets
    print(usage.pods[0].latest("cpu_cores"))  # cores, or None when never measured
    for sample in job.follow_usage():         # live, until the job ends
        print(sample["t"], sample["pods"])
    print(account_usage("7d")["cpu_seconds"])

Times are unix milliseconds, CPU in cores, memory in bytes. A value that was not measured is None,
never 0; `not_measured` says why.
"""
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .client import Client

# One metric over the answer's buckets: {"min": [...], "max": [...], "mean": [...]}, None where
# nothing was sampled.
MetricSeries = Dict[str, List[Optional[float]]]


def _latest(metrics: Dict[str, MetricSeries], name: str) -> Optional[float]:
    for value in reversed(metrics.get(name, {}).get("mean", [])):
        if value is not None:
            return value
    return None


@dataclass
class PodUsage:
    """One pod's usage: `metrics` maps a metric name (cpu_cores, memory_working_set_bytes,
    gpu_utilization_percent, ... see docs/monitoring.md) to its min/max/mean per bucket;
    `requests`/`limits` are {"cpu", "memory_bytes", "gpus"}; `time` the CPU and GPU seconds charged."""
    name: str
    role: str
    phase: str
    requests: Dict[str, Any]
    limits: Dict[str, Any]
    metrics: Dict[str, MetricSeries]
    oom_kill_times: List[int] = field(default_factory=list)
    not_measured: str = ""
    time: Dict[str, float] = field(default_factory=dict)

    def latest(self, metric: str) -> Optional[float]:
        """The mean of `metric` in the last bucket that has one; None when it was never measured."""
        return _latest(self.metrics, metric)


@dataclass
class JobUsage:
    """A job's usage over from_ms..to_ms in buckets of bucket_ms starting at each `t`: per pod, summed
    over the job (`job_total`, the pods' values added per bucket) and the job's network (its pods share
    one network namespace), with `network_not_measured` saying why the network shows None."""
    job: int
    state: str
    interval_ms: int
    from_ms: int
    to_ms: int
    bucket_ms: int
    t: List[int]
    pods: List[PodUsage]
    job_total: Dict[str, MetricSeries]
    network: Dict[str, MetricSeries]
    network_not_measured: str = ""
    time: Dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_json(cls, body: Dict[str, Any]) -> "JobUsage":
        """The dataclass of a GET /api/v1/jobs/{job}/usage answer."""
        pods = [PodUsage(name=p["name"], role=p.get("role", ""), phase=p.get("phase", ""),
                         requests=p.get("requests", {}), limits=p.get("limits", {}), metrics=p.get("metrics", {}),
                         oom_kill_times=p.get("oom_kill_times", []), not_measured=p.get("not_measured", ""),
                         time=p.get("time", {}))
                for p in body.get("pods", [])]
        total = body.get("job_total", {})
        network = body.get("network", {})
        return cls(job=body["job"], state=body.get("state", ""), interval_ms=body.get("interval_ms", 0),
                   from_ms=body["from"], to_ms=body["to"], bucket_ms=body.get("bucket_ms", 0), t=body.get("t", []),
                   pods=pods, job_total=total.get("metrics", {}), network=network.get("metrics", {}),
                   network_not_measured=network.get("not_measured", ""), time=total.get("time", {}))

    def latest(self, metric: str) -> Optional[float]:
        """The job-wide mean of `metric` (a pod metric summed over the pods, or a network metric) in
        the last bucket that has one; None when it was never measured."""
        return _latest(self.network if metric.startswith("network_") else self.job_total, metric)


def account_usage(window: str = "1d", client: Optional[Client] = None) -> Dict[str, Any]:
    """The CPU time (measured core-seconds) and GPU time (GPU-seconds held) of the account over
    `window` ("1d", "7d" or "30d"), as GET /api/v1/account/usage answers it:

        {"window": "1d", "from_s": ..., "to_s": ..., "cpu_seconds": 5400.5, "gpu_seconds": 0,
         "users": [{"user_id", "email", "cpu_seconds", "gpu_seconds"}],
         "daily": [{"day": "2026-11-06", "cpu_seconds", "gpu_seconds"}, ... the last 30 UTC days]}

    The account's master sees every user; a member their own usage (the totals are then theirs).
    Another window raises ApiError with status 400 and field "window"."""
    client = client or Client()
    return client.request("GET", "/api/v1/account/usage", query={"window": window})


def account_quota(client: Optional[Client] = None) -> Dict[str, Any]:
    """The account's quota against what its jobs use now, as GET /api/v1/account/quota answers it:

        {"quota": {"cpu": 8, "memory_bytes": ..., "gpus": null, "running_jobs": 10, "storage_bytes": ...},
         "in_use": {... the same keys ...}, "capacity": {"cpu", "memory_bytes", "gpus"},
         "members": [{"user_id", "email", "limits": {...}, "in_use": {...}}]}

    CPU is in cores, memory and storage in bytes; null is "no quota" (the cluster's capacity bounds
    it). The master sees every member, a member their own entry."""
    client = client or Client()
    return client.request("GET", "/api/v1/account/quota")


__all__ = ["JobUsage", "PodUsage", "account_quota", "account_usage"]
