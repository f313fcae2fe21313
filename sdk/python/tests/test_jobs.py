"""create_cloud_job and Job handles against the real server binary, with the local backend."""
import os
import re
import sys
import tarfile
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from paddlecloud import (ApiError, create_cloud_job, list_jobs, pack_directory,  # noqa: E402
                         upload_package)
from test_client import REPO, signed_up_client, start_server, stop_server, wait_for  # noqa: E402


class JobsTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.proc, cls.url, data, cls.log = start_server(cls.tmp.name)
        cls.client = signed_up_client(cls.url, data, "sdk@example.com", "sdk-lab", "sdk test")

    @classmethod
    def tearDownClass(cls):
        for job in list_jobs(status="running", client=cls.client):
            job.stop()
            job.wait(timeout=30, poll=0.2)
        stop_server(cls.proc, cls.log)
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

    def test_create_cloud_job_with_a_package_directory(self):
        job = create_cloud_job("sdk-fit", num_trainer=2, mem_per_trainer="256Mi", gpu_per_trainer=0,
                               cpu_per_trainer="200m", num_ps=1, mem_per_ps="256Mi", cpu_per_ps="200m",
                               entry="python3 train.py", package=os.path.join(REPO, "examples", "fit_a_line"),
                               client=self.client)
        self.assertEqual(job.wait(timeout=180, poll=0.2), "Succeeded", job.logs(tail=50))
        self.assertTrue(job.status()["spec"]["package"].startswith("pkg_"))
        log = job.logs(f"sdk-fit-{job.id}-trainer-0", tail=1000)
        costs = [float(c) for c in re.findall(r"pass \d+ cost ([0-9.]+)", log)]
        self.assertGreaterEqual(len(costs), 5, log)
        self.assertLess(costs[-1], costs[0] / 5, log)
        self.assertIn("final cost", job.logs())  # the first trainer's by default

    def test_an_uploaded_package_id_serves_one_job(self):
        with tempfile.TemporaryDirectory() as code:
            with open(os.path.join(code, "hello.txt"), "w") as f:
                f.write("hello from the package\n")
            seen = []
            uploaded = upload_package(code, client=self.client, progress=lambda sent, total: seen.append((sent, total)))
        self.assertTrue(uploaded["package"].startswith("pkg_"), uploaded)
        self.assertEqual(uploaded["files"], 1)
        self.assertTrue(seen and seen[-1][0] == seen[-1][1], seen)
        job = create_cloud_job("sdk-pkg", cpu_per_trainer="100m", mem_per_trainer="64Mi", entry="cat hello.txt",
                               package=uploaded["package"], client=self.client)
        self.assertEqual(job.wait(timeout=60, poll=0.2), "Succeeded")
        self.assertIn("hello from the package", job.logs())
        with self.assertRaises(ApiError) as caught:
            create_cloud_job("sdk-pkg-again", cpu_per_trainer="100m", mem_per_trainer="64Mi", entry="true",
                             package=uploaded["package"], client=self.client)
        self.assertIn(caught.exception.status, (400, 404))
        self.assertEqual(caught.exception.field, "package")

    def test_an_archive_the_server_refuses_names_the_entry(self):
        with tempfile.TemporaryDirectory() as tmp:
            archive = os.path.join(tmp, "bad.tar")
            with tarfile.open(archive, "w") as tar:
                link = tarfile.TarInfo("escape")
                link.type = tarfile.SYMTYPE
                link.linkname = "/etc/passwd"
                tar.addfile(link)
            with self.assertRaises(ApiError) as caught:
                upload_package(archive, client=self.client)
        self.assertEqual(caught.exception.status, 400)
        self.assertIn("escape", caught.exception.message)


class PackDirectoryTestCase(unittest.TestCase):
    """pack_directory's rules, read back with tarfile (no server needed)."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.src = os.path.join(self.tmp.name, "src")
        self.archive = os.path.join(self.tmp.name, "out.tar.gz")
        for rel, content in (("train.py", "print(1)\n"), ("lib/util.py", "X = 1\n"), ("lib/util.pyc", "junk"),
                             ("__pycache__/train.cpython-311.pyc", "junk"), (".git/HEAD", "ref\n"),
                             (".gitignore", "*.pyc\n")):
            path = os.path.join(self.src, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(content)

    def tearDown(self):
        self.tmp.cleanup()

    def members(self):
        with tarfile.open(self.archive) as tar:
            return {m.name.rstrip("/"): m for m in tar.getmembers()}, tar

    def test_leaves_out_git_and_caches_and_copies_inner_links(self):
        os.symlink("train.py", os.path.join(self.src, "alias.py"))
        os.symlink("lib", os.path.join(self.src, "lib-link"))
        counts = pack_directory(self.src, self.archive)
        self.assertEqual(counts, {"files": 4, "directories": 1, "bytes": 9 + 6 + 6 + 9})
        with tarfile.open(self.archive) as tar:
            members = {m.name.rstrip("/"): m for m in tar.getmembers()}
            self.assertEqual(sorted(members), [".gitignore", "alias.py", "lib", "lib/util.py", "train.py"])
            self.assertTrue(all(m.isfile() or m.isdir() for m in members.values()))
            self.assertEqual(tar.extractfile("alias.py").read(), b"print(1)\n")

    def test_refuses_links_out_of_the_directory(self):
        outside = os.path.join(self.tmp.name, "secret.txt")
        with open(outside, "w") as f:
            f.write("do not upload")
        os.symlink(outside, os.path.join(self.src, "lib", "leak.txt"))
        with self.assertRaises(ValueError) as caught:
            pack_directory(self.src, self.archive)
        self.assertIn("lib/leak.txt is a symbolic link", str(caught.exception))
        self.assertIn("outside", str(caught.exception))
        with self.assertRaises(ValueError):
            pack_directory(os.path.join(self.tmp.name, "missing"), self.archive)


if __name__ == "__main__":
    unittest.main()
