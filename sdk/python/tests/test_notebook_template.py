"""The template notebook every new workspace gets (sdk/notebook/Getting started.ipynb), so it cannot rot:
its JSON, its train.py run as a job's processes, and the whole notebook executed by Jupyter against the
real server with its job."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from paddlecloud import board, get_job, list_jobs  # noqa: E402
from test_client import REPO, signed_up_client, start_server, stop_server, wait_for  # noqa: E402

TEMPLATE = os.path.join(REPO, "sdk", "notebook", "Getting started.ipynb")
SDK_DIR = os.path.join(REPO, "sdk", "python")
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's: numpy, and Jupyter where python3-notebook is installed
BRIEF_CALL = 'create_cloud_job("fit-a-line", 2, "512Mi", 0, "250m", 1, "256Mi", "250m")'
PASS_LINE = re.compile(r"^pass (\d+) cost ([0-9.]+)$", re.M)
FINAL_LINE = re.compile(r"^final cost ([0-9.]+)$", re.M)
DEADLINE_S = 120


def template():
    with open(TEMPLATE, encoding="utf-8") as f:
        return json.load(f)


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def code_cells(notebook):
    return [source(c) for c in notebook["cells"] if c["cell_type"] == "code"]


def train_py(notebook):
    """The body of the `%%writefile train.py` cell."""
    cells = [c for c in code_cells(notebook) if c.startswith("%%writefile train.py\n")]
    assert len(cells) == 1, "one %%writefile train.py cell"
    return cells[0].split("\n", 1)[1] + "\n"


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def has_jupyter():
    probe = "import nbconvert, nbformat, ipykernel"
    return os.path.exists(SYSTEM_PYTHON) and subprocess.run([SYSTEM_PYTHON, "-c", probe],
                                                             capture_output=True).returncode == 0


class TemplateFileTest(unittest.TestCase):
    def test_it_is_an_nbformat_4_notebook_with_a_python3_kernel(self):
        notebook = template()
        self.assertEqual(notebook["nbformat"], 4)
        self.assertEqual(notebook["metadata"]["kernelspec"]["name"], "python3")
        self.assertEqual(notebook["metadata"]["kernelspec"]["language"], "python")
        for cell in notebook["cells"]:
            self.assertIn(cell["cell_type"], ("markdown", "code"))
            if cell["cell_type"] == "code":  # shipped clean: no outputs of someone's run
                self.assertEqual((cell["outputs"], cell["execution_count"]), ([], None))

    @unittest.skipUnless(has_jupyter(), "nbformat (python3-notebook) is not installed")
    def test_nbformat_validates_it(self):
        check = subprocess.run([SYSTEM_PYTHON, "-c", "import nbformat, sys; nbformat.validate(nbformat.read("
                                "sys.argv[1], as_version=4)); print('valid')", TEMPLATE],
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(check.stdout, "valid\n", check.stderr)

    def test_it_explains_the_mounts_submits_waits_and_points_at_the_board(self):
        notebook = template()
        markdown = "".join(source(c) for c in notebook["cells"] if c["cell_type"] == "markdown")
        for mount in ("/data/workspace", "/data/datasets", "/data/models", "/public"):
            self.assertIn(mount, markdown)
        code = code_cells(notebook)
        submit = next(i for i, c in enumerate(code) if BRIEF_CALL in c)
        self.assertLess(next(i for i, c in enumerate(code) if c.startswith("%%writefile train.py")), submit)
        self.assertEqual(code[submit + 1:submit + 3], ["job.wait()", "job.logs()"])
        self.assertIn("job.board_url", code[submit + 3])


class TemplateTrainerTest(unittest.TestCase):
    """train.py of the template as a job's pods: 2 pservers and 2 trainers on loopback ports, started
    with the pyenv python3 on PATH (no numpy: it must switch to Debian's), trainers first."""

    def test_the_trainers_fit_the_line_and_trainer_0_draws_the_board(self):
        tmp = tempfile.mkdtemp(prefix="template_trainer.")
        self.addCleanup(shutil.rmtree, tmp, True)
        with open(os.path.join(tmp, "train.py"), "w") as f:
            f.write(train_py(template()))
        ps_ports, tr_ports = free_ports(2), free_ports(2)
        common = {"PADDLE_TRAINERS_NUM": "2", "POD_IP": "127.0.0.1", "PYTHONPATH": SDK_DIR,
                  "PADDLE_PSERVERS_IP_PORT_LIST": ",".join("127.0.0.1:%d" % p for p in ps_ports),
                  "PADDLE_CLOUD_JOB_DIR": tmp, "PADDLE_CLOUD_URL": "", "PADDLE_CLOUD_TOKEN": ""}
        pods = {}
        for role, index, port in (("TRAINER", 0, tr_ports[0]), ("TRAINER", 1, tr_ports[1]),
                                  ("PSERVER", 0, ps_ports[0]), ("PSERVER", 1, ps_ports[1])):
            env = dict(os.environ, **common, PADDLE_TRAINING_ROLE=role, TRAINING_ROLE=role,
                       PADDLE_TRAINER_ID=str(index), PADDLE_PORT=str(port))
            name = "%s-%d" % (role.lower(), index)
            log = open(os.path.join(tmp, name + ".log"), "w+")
            self.addCleanup(log.close)
            pods[name] = (subprocess.Popen([sys.executable, "train.py"], cwd=tmp, env=env, stdout=log,
                                           stderr=subprocess.STDOUT), log)
            self.addCleanup(lambda p=pods[name][0]: p.poll() is None and (p.kill(), p.wait()))
        logs = {}
        for name, (proc, log) in pods.items():
            code = proc.wait(timeout=DEADLINE_S)
            log.seek(0)
            logs[name] = log.read()
            self.assertEqual(code, 0, "%s:\n%s" % (name, logs[name]))
        self.assertIn("all 2 trainers done", logs["pserver-1"])
        costs = [float(c) for _, c in PASS_LINE.findall(logs["trainer-0"])]
        self.assertEqual(len(costs), 20, logs["trainer-0"])
        final = float(FINAL_LINE.search(logs["trainer-0"]).group(1))
        self.assertLess(final, costs[0] / 20, logs["trainer-0"])
        board_files = os.listdir(os.path.join(tmp, "board"))
        self.assertEqual(len(board_files), 1, board_files)  # trainer 0's
        tags = {tag for tag, _, _, _ in board.read_scalars(os.path.join(tmp, "board", board_files[0]))}
        self.assertEqual(tags, {"train_cost, test_cost/train_cost", "train_cost, test_cost/test_cost"})


@unittest.skipUnless(has_jupyter(), "Jupyter (python3-notebook, nbconvert, ipykernel) is not installed")
class TemplateNotebookRunTest(unittest.TestCase):
    """Jupyter executes the copy of the template the server placed in a new workspace, cell by cell, with
    the environment and the mounts of the user's running notebook (read from its replica's spec), its
    scoped token included. The template runs as shipped: its job (750m in all) fits beside the
    notebook even on a 2-core machine."""

    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.proc, self.url, data, log = start_server(tmp.name)
        self.addCleanup(stop_server, self.proc, log)
        self.client = signed_up_client(self.url, data, "template@example.com", "template-lab", "template test")
        self.client.request("POST", "/api/v1/notebook/start", {"cpu": "200m", "memory": "512Mi"})
        self.addCleanup(self.stop_notebook_and_jobs)
        self.assertTrue(wait_for(lambda: self.client.request("GET", "/api/v1/notebook")["state"] == "running", 60))
        user = self.client.request("GET", "/api/v1/me")["user"]["id"]
        with open(os.path.join(data, "cluster", ".services", "template-lab", "notebook-%d" % user, "service.json")) as f:
            self.replica = json.load(f)
        # The pod's /data: a link to each mount's source.
        self.mount = os.path.join(tmp.name, "mount")
        os.makedirs(self.mount)
        for mount in self.replica["mounts"]:
            if mount["target"].startswith("/data/"):
                os.symlink(mount["source"], os.path.join(self.mount, mount["target"][len("/data/"):]))
        self.workspace = os.path.join(self.mount, "workspace")

    def stop_notebook_and_jobs(self):
        self.client.request("POST", "/api/v1/notebook/stop")
        for job in list_jobs(status="running", client=self.client):
            job.stop()
            job.wait(timeout=30, poll=0.2)

    def test_the_placed_template_runs_cell_by_cell_and_its_job_succeeds(self):
        path = os.path.join(self.workspace, "Getting started.ipynb")
        with open(path, encoding="utf-8") as f:
            notebook = json.load(f)
        self.assertEqual(notebook, template(), "the server places this template (rebuild paddlecloud?)")
        self.assertTrue(any(BRIEF_CALL in source(c) for c in notebook["cells"]))
        pod_env = self.replica["env"]
        self.assertEqual((pod_env["PADDLE_CLOUD_NOTEBOOK"], pod_env["PADDLE_CLOUD_DATA"]), ("1", "/data"))
        env = dict(os.environ, PADDLE_CLOUD_DATA=self.mount, PYTHONPATH=SDK_DIR, PYDEVD_DISABLE_FILE_VALIDATION="1",
                   **{k: pod_env[k] for k in ("PADDLE_CLOUD_URL", "PADDLE_CLOUD_TOKEN", "PADDLE_CLOUD_NOTEBOOK",
                                              "PADDLE_CLOUD_WEB_URL")})
        run = subprocess.run([SYSTEM_PYTHON, "-m", "nbconvert", "--to", "notebook", "--execute", "--inplace",
                              "--ExecutePreprocessor.timeout=%d" % DEADLINE_S, path],
                             cwd=self.workspace, env=env, capture_output=True, text=True, timeout=2 * DEADLINE_S)
        self.assertEqual(run.returncode, 0, run.stderr[-4000:])
        with open(path, encoding="utf-8") as f:
            outputs = ["".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
                               for o in c["outputs"])
                       for c in json.load(f)["cells"] if c["cell_type"] == "code"]
        web = pod_env["PADDLE_CLOUD_WEB_URL"]
        submitted = re.search(r"Job fit-a-line \(id (\d+)\) submitted: %s/jobs/\1\n" % re.escape(web), "\n".join(outputs))
        self.assertIsNotNone(submitted, outputs)
        job = get_job(int(submitted.group(1)), client=self.client)
        self.assertEqual((job.status()["spec"]["workdir"], job.status()["spec"]["entry"]), ("workspace", "python3 train.py"))
        self.assertIn("'Succeeded'", outputs)
        logs = next(o for o in outputs if "final cost" in o)
        self.assertEqual(len(PASS_LINE.findall(logs)), 20, logs)
        self.assertFalse(logs.startswith("'"), "job.logs() shows as lines, not a quoted string")
        self.assertIn("Paddle Board: %s/jobs/%d/board" % (web, job.id), outputs[-1])
        graphs = self.client.request("GET", "/api/v1/jobs/%d/board" % job.id)["graphs"]
        self.assertEqual([g["name"] for g in graphs], ["train_cost, test_cost"])


if __name__ == "__main__":
    unittest.main()
