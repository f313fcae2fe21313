"""create_cloud_job inside a notebook (PADDLE_CLOUD_NOTEBOOK=1): the current folder of the cloud files
as the job's workdir, `python3 train.py` by default, the Dashboard link; and how a Job shows in a cell."""
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from paddlecloud import create_cloud_job, list_jobs, upload  # noqa: E402
from paddlecloud.jobs import Job, LogText, notebook_workdir  # noqa: E402
from test_client import signed_up_client, start_server, stop_server  # noqa: E402

WEB_URL = "http://platform.example:8080/"
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, with IPython (python3-notebook) when it is installed


@contextlib.contextmanager
def notebook_at(data_dir, cwd):
    """The environment and current folder of a notebook whose cloud files are mounted at `data_dir`."""
    env = {"PADDLE_CLOUD_NOTEBOOK": "1", "PADDLE_CLOUD_DATA": data_dir, "PADDLE_CLOUD_WEB_URL": WEB_URL}
    previous = os.getcwd()
    with mock.patch.dict(os.environ, env):
        os.makedirs(cwd, exist_ok=True)
        os.chdir(cwd)
        try:
            yield
        finally:
            os.chdir(previous)


class NotebookWorkdirTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.data = os.path.join(self.tmp.name, "data")

    def test_the_current_folder_under_the_mount_is_its_cloud_path(self):
        with notebook_at(self.data, os.path.join(self.data, "workspace", "exp1", "run 2")):
            self.assertEqual(notebook_workdir(), "workspace/exp1/run 2")
        with notebook_at(self.data + "/", os.path.join(self.data, "workspace")):
            self.assertEqual(notebook_workdir(), "workspace")

    def test_a_top_folder_may_be_a_link_of_its_own(self):
        elsewhere = os.path.join(self.tmp.name, "files", "lab", "models")
        os.makedirs(os.path.join(elsewhere, "bert"))
        os.makedirs(self.data)
        os.symlink(elsewhere, os.path.join(self.data, "models"))
        with notebook_at(self.data, os.path.join(self.data, "models", "bert")):
            self.assertEqual(notebook_workdir(), "models/bert")

    def test_a_folder_outside_the_mount_is_a_clear_error(self):
        for cwd in (self.tmp.name, self.data, os.path.join(self.tmp.name, "data-other")):
            with notebook_at(self.data, cwd), self.assertRaises(ValueError) as caught:
                notebook_workdir()
            self.assertIn("is not inside %s/workspace, %s/datasets or %s/models" % ((self.data,) * 3),
                          str(caught.exception))
            self.assertIn("workdir=", str(caught.exception))

    def test_outside_the_mount_nothing_is_submitted(self):
        client = mock.Mock()
        with notebook_at(self.data, self.tmp.name), self.assertRaises(ValueError):
            create_cloud_job("nb-outside", 1, "64Mi", 0, "100m", client=client)
        client.request.assert_not_called()

    def test_a_job_links_to_its_dashboard_page_and_board(self):
        client = mock.Mock(server="http://10.0.0.1:8080")
        job = Job(client, {"id": 42, "name": "fit-<a>", "state": "Pending"})
        with mock.patch.dict(os.environ, {"PADDLE_CLOUD_WEB_URL": WEB_URL}):
            self.assertEqual(job.dashboard_url, "http://platform.example:8080/jobs/42")
            self.assertEqual(job.board_url, "http://platform.example:8080/jobs/42/board")
            shown = job._repr_html_()
        self.assertIn('href="http://platform.example:8080/jobs/42"', shown)
        self.assertIn("fit-&lt;a&gt; (id 42)", shown)
        self.assertIn("Pending", shown)
        with mock.patch.dict(os.environ, {"PADDLE_CLOUD_WEB_URL": ""}):
            self.assertEqual(job.dashboard_url, "http://10.0.0.1:8080/jobs/42")
        self.assertEqual(repr(job), "Job(id=42, name='fit-<a>', state='Pending')")

    def test_a_log_shows_as_its_lines_in_a_cell(self):
        lines = []
        printer = mock.Mock(text=lines.append)
        LogText("pass 0 cost 1.5\npass 1 cost 0.5\n")._repr_pretty_(printer, False)
        self.assertEqual(lines, ["pass 0 cost 1.5\npass 1 cost 0.5\n"])
        self.assertEqual(LogText("a\n") + "b", "a\nb")

    @unittest.skipUnless(os.path.exists(os.path.join("/usr/lib/python3/dist-packages", "IPython")),
                         "IPython (python3-notebook) is not installed")
    def test_ipython_displays_a_log_and_a_job_as_a_cell_would(self):
        sdk = os.path.join(os.path.dirname(__file__), "..")
        script = ("import sys; sys.path.insert(0, %r)\n"
                  "from unittest import mock\n"
                  "from IPython.core.formatters import DisplayFormatter\n"
                  "from paddlecloud.jobs import Job, LogText\n"
                  "formatter = DisplayFormatter()\n"
                  "print(formatter.format(LogText('pass 0 cost 1.5\\nfinal cost 0.1'))[0]['text/plain'])\n"
                  "job = Job(mock.Mock(server='http://x'), {'id': 7, 'name': 'fit', 'state': 'Running'})\n"
                  "print(formatter.format(job)[0]['text/html'])\n") % sdk
        shown = subprocess.run([SYSTEM_PYTHON, "-c", script], capture_output=True, text=True, timeout=60)
        self.assertEqual(shown.returncode, 0, shown.stderr)
        self.assertIn("pass 0 cost 1.5\nfinal cost 0.1\n", shown.stdout)
        self.assertIn('<a href="http://x/jobs/7" target="_blank">fit (id 7)</a> Running', shown.stdout)


class NotebookJobTest(unittest.TestCase):
    """Against the real server: the job runs the files of the notebook's folder in the workspace."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.proc, cls.url, data, cls.log = start_server(cls.tmp.name)
        cls.client = signed_up_client(cls.url, data, "nb@example.com", "nb-lab", "notebook test")
        code = os.path.join(cls.tmp.name, "code")
        os.makedirs(code)
        with open(os.path.join(code, "train.py"), "w") as f:
            f.write("import os\nprint('training in', os.path.basename(os.getcwd()), 'as', "
                    "os.environ['PADDLE_TRAINING_ROLE'])\n")
        upload(code, "workspace/exp1", client=cls.client)
        cls.mount = os.path.join(cls.tmp.name, "mount")  # what the notebook pod sees at /data

    @classmethod
    def tearDownClass(cls):
        for job in list_jobs(status="running", client=cls.client):
            job.stop()
            job.wait(timeout=30, poll=0.2)
        stop_server(cls.proc, cls.log)
        cls.tmp.cleanup()

    def test_the_briefs_positional_call_runs_the_folder_with_python3_train_py(self):
        printed = io.StringIO()
        with notebook_at(self.mount, os.path.join(self.mount, "workspace", "exp1")), \
                contextlib.redirect_stdout(printed):
            job = create_cloud_job("nb-exp", 2, "64Mi", 0, "100m", 1, "64Mi", "100m", client=self.client)
        spec = job.status()["spec"]
        self.assertEqual((spec["workdir"], spec["entry"]), ("workspace/exp1", "python3 train.py"))
        self.assertEqual((spec["num_trainer"], spec["num_ps"], spec["mem_per_ps"], spec["cpu_per_ps"]),
                         (2, 1, "64Mi", "100m"))
        self.assertEqual(printed.getvalue(),
                         f"Job nb-exp (id {job.id}) submitted: http://platform.example:8080/jobs/{job.id}\n")
        self.assertEqual(job.wait(timeout=60, poll=0.2), "Succeeded")
        self.assertIn("training in exp1 as TRAINER", job.logs())
        self.assertIsInstance(job.logs(), LogText)

    def test_entry_and_workdir_still_win_in_a_notebook(self):
        with notebook_at(self.mount, self.tmp.name), contextlib.redirect_stdout(io.StringIO()):
            job = create_cloud_job("nb-explicit", mem_per_trainer="64Mi", cpu_per_trainer="100m",
                                   entry="ls", workdir="workspace/exp1", client=self.client)
        self.assertEqual(job.wait(timeout=60, poll=0.2), "Succeeded")
        self.assertIn("train.py", job.logs())

    def test_outside_a_notebook_nothing_changes(self):
        printed = io.StringIO()
        with mock.patch.dict(os.environ, {"PADDLE_CLOUD_NOTEBOOK": ""}), contextlib.redirect_stdout(printed):
            job = create_cloud_job("nb-plain", mem_per_trainer="64Mi", cpu_per_trainer="100m", entry="true",
                                   client=self.client)
        self.assertEqual(job.status()["spec"]["workdir"], "")
        self.assertEqual(printed.getvalue(), "")
        self.assertEqual(job.wait(timeout=60, poll=0.2), "Succeeded")


if __name__ == "__main__":
    unittest.main()
