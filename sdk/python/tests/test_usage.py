"""Job.usage, Job.follow_usage, account_usage and account_quota against the real server binary, sampling every 500 ms."""
import os
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from paddlecloud import ApiError, JobUsage, account_quota, account_usage, create_cloud_job, list_jobs  # noqa: E402
from test_client import signed_up_client, start_server, stop_server, wait_for  # noqa: E402


class UsageTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.proc, cls.url, data, cls.log = start_server(cls.tmp.name, ["--usage-interval", "500ms"])
        cls.client = signed_up_client(cls.url, data, "usage@example.com", "usage-lab", "usage test")

    @classmethod
    def tearDownClass(cls):
        for job in list_jobs(status="running", client=cls.client):
            job.stop()
            job.wait(timeout=30, poll=0.2)
        stop_server(cls.proc, cls.log)
        cls.tmp.cleanup()

    def test_a_busy_job_is_measured_followed_live_until_stopped_and_charged(self):
        job = create_cloud_job("sdk-spin", cpu_per_trainer="1", mem_per_trainer="256Mi",
                               entry="while :; do :; done", client=self.client)
        pod = f"sdk-spin-{job.id}-trainer-0"
        seen = {}

        def busy():
            seen["usage"] = job.usage(points=100)
            cores = seen["usage"].pods[0].latest("cpu_cores") if seen["usage"].pods else None
            return cores is not None and cores > 0.5

        self.assertTrue(wait_for(busy, timeout=60), seen.get("usage"))
        usage = seen["usage"]
        self.assertIsInstance(usage, JobUsage)
        self.assertEqual(usage.job, job.id)
        self.assertEqual(usage.interval_ms, 500)
        self.assertEqual(usage.pods[0].name, pod)
        self.assertEqual(usage.pods[0].requests["cpu"], 1)
        self.assertEqual(len(usage.t), len(usage.pods[0].metrics["cpu_cores"]["mean"]))
        self.assertGreater(usage.latest("cpu_cores"), 0.5)  # the job's total
        self.assertIsNone(usage.pods[0].latest("gpu_utilization_percent"))  # no GPU: None, never 0
        with self.assertRaises(ApiError) as caught:
            job.usage(points=0)
        self.assertEqual((caught.exception.status, caught.exception.field), (400, "points"))

        samples, failure = [], []
        got_one = threading.Event()

        def follow():
            try:
                for sample in job.follow_usage():
                    samples.append(sample)
                    got_one.set()
            except Exception as e:  # reported by the test below
                failure.append(e)

        follower = threading.Thread(target=follow, daemon=True)
        follower.start()
        self.assertTrue(got_one.wait(timeout=30), failure)
        self.assertIn(pod, samples[0]["pods"])
        self.assertIn("cpu_cores", samples[0]["pods"][pod])
        self.assertIn("network_rx_bytes_per_s", samples[0]["network"])
        job.stop()
        follower.join(timeout=60)
        self.assertFalse(follower.is_alive(), "follow_usage did not end with the job")
        self.assertEqual(failure, [])
        times = [s["t"] for s in samples]
        self.assertEqual(times, sorted(set(times)))  # each sample once, in order
        self.assertEqual(job.wait(timeout=30, poll=0.2), "Stopped")

        self.assertTrue(wait_for(lambda: account_usage(client=self.client)["cpu_seconds"] > 0.5, timeout=30))
        week = account_usage("7d", client=self.client)
        self.assertEqual(week["window"], "7d")
        self.assertEqual(len(week["daily"]), 30)
        self.assertEqual(week["users"][0]["email"], "usage@example.com")

    def test_an_unknown_window_names_the_field(self):
        with self.assertRaises(ApiError) as caught:
            account_usage("1y", client=self.client)
        self.assertEqual(caught.exception.status, 400)
        self.assertEqual(caught.exception.field, "window")

    def test_the_quota_shows_what_is_in_use(self):
        quota = account_quota(client=self.client)
        for key in ("cpu", "memory_bytes", "gpus", "running_jobs", "storage_bytes"):
            self.assertIn(key, quota["quota"])
            self.assertIn(key, quota["in_use"])
        self.assertGreater(quota["capacity"]["cpu"], 0)
        self.assertEqual([m["email"] for m in quota["members"]], ["usage@example.com"])


if __name__ == "__main__":
    unittest.main()
