"""create_cloud_job and Job handles against the real server binary, with the local backend."""
import email
import glob
import os
import re
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from paddlecloud import ApiError, Client, create_cloud_job, list_jobs  # noqa: E402
from test_client import BINARY, wait_for  # noqa: E402

PASSWORD = "correct horse battery"


class JobsTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        data = os.path.join(cls.tmp.name, "data")
        cls.log = open(os.path.join(cls.tmp.name, "server.log"), "w")
        cls.proc = subprocess.Popen([BINARY, "server", "--listen", "127.0.0.1:0", "--data-dir", data],
                                    stdout=cls.log, stderr=subprocess.STDOUT)
        addr_file = os.path.join(data, "server.addr")
        assert wait_for(lambda: os.path.exists(addr_file) or cls.proc.poll() is not None), "server did not start"
        with open(addr_file) as f:
            cls.url = "http://" + f.read().strip()
        anonymous = Client(cls.url, token="")
        anonymous.token = None
        anonymous.request("POST", "/api/v1/auth/register",
                          {"email": "sdk@example.com", "password": PASSWORD, "account_id": "sdk-lab"})
        # Without SMTP settings the server writes mail to the outbox: follow the verification link.
        outbox = os.path.join(data, "outbox")
        assert wait_for(lambda: glob.glob(os.path.join(outbox, "*.eml")))
        with open(glob.glob(os.path.join(outbox, "*.eml"))[0], "rb") as f:
            message = email.message_from_bytes(f.read())
        body = next(part.get_payload(decode=True).decode() for part in message.walk()
                    if part.get_content_type() == "text/plain")
        token = re.search(r"token=([A-Za-z0-9_-]+)", body).group(1)
        anonymous.request("POST", "/api/v1/auth/verify", {"token": token})
        created = anonymous.request("POST", "/api/v1/auth/tokens",
                                    {"email": "sdk@example.com", "password": PASSWORD, "name": "sdk test"})
        cls.client = Client(cls.url, token=created["token"])

    @classmethod
    def tearDownClass(cls):
        for job in list_jobs(status="running", client=cls.client):
            job.stop()
            job.wait(timeout=30, poll=0.2)
        cls.proc.send_signal(signal.SIGTERM)
        cls.proc.wait(timeout=30)
        cls.log.close()
        cls.tmp.cleanup()

    def test_create_cloud_job_as_in_the_brief(self):
        job = create_cloud_job("sdk-hello", num_trainer=2, mem_per_trainer="64Mi", gpu_per_trainer=0,
                               cpu_per_trainer="100m", num_ps=1, mem_per_ps="64Mi", cpu_per_ps="100m",
                               entry='echo "hello from $PADDLE_TRAINING_ROLE $PADDLE_TRAINER_ID"',
                               client=self.client)
        self.assertEqual(job.wait(timeout=60, poll=0.2), "Succeeded")
        pods = job.pods()
        self.assertEqual([p["role"] for p in pods].count("trainer"), 2)
        self.assertIn("hello from TRAINER 0", job.logs(f"sdk-hello-{job.id}-trainer-0"))
        self.assertIn(job.id, [j.id for j in list_jobs(status="succeeded", client=self.client)])
        types = [e["type"] for e in job.events()]
        self.assertIn("Succeeded", types)

    def test_stop_and_follow_logs(self):
        job = create_cloud_job("sdk-sleeper", cpu_per_trainer="100m", mem_per_trainer="64Mi",
                               entry="echo started; exec sleep 600", client=self.client)
        first = next(job.follow_logs(f"sdk-sleeper-{job.id}-trainer-0"))
        self.assertIn("started", first)
        job.stop()
        self.assertEqual(job.wait(timeout=30, poll=0.2), "Stopped")

    def test_bad_arguments_name_the_field(self):
        with self.assertRaises(ApiError) as caught:
            create_cloud_job("sdk-bad", mem_per_trainer="lots", entry="true", client=self.client)
        self.assertEqual(caught.exception.status, 400)
        self.assertEqual(caught.exception.field, "mem_per_trainer")


if __name__ == "__main__":
    unittest.main()
