"""draw_board outside a job, with a server configured: a standalone run recorded through the API of
the real `paddlecloud` binary (PADDLECLOUD_BIN, default build/paddlecloud)."""
import contextlib
import io
import math
import os
import socket
import sys
import tempfile
import threading
import time
import unittest
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from paddlecloud import ApiError, board, board_run, draw_board  # noqa: E402
from test_client import signed_up_client, start_server, stop_server, wait_for  # noqa: E402


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return "http://127.0.0.1:%d" % s.getsockname()[1]


class BoardRunTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.proc, cls.url, data, cls.log = start_server(cls.tmp.name)
        cls.client = signed_up_client(cls.url, data, "runs@example.com", "runs-lab", "board runs")

    @classmethod
    def tearDownClass(cls):
        board._close_default_board()
        stop_server(cls.proc, cls.log)
        cls.tmp.cleanup()

    def setUp(self):
        # Outside a job, this server configured through the environment, no login file.
        env = mock.patch.dict(os.environ, {"PADDLE_CLOUD_URL": self.url, "PADDLE_CLOUD_TOKEN": self.client.token,
                                           "PADDLECLOUD_CLI_CONFIG": os.path.join(self.tmp.name, "no-config")})
        env.start()
        self.addCleanup(env.stop)
        os.environ.pop("PADDLE_CLOUD_JOB_DIR", None)
        cwd = os.getcwd()
        self.work = tempfile.TemporaryDirectory()
        os.chdir(self.work.name)
        self.addCleanup(self.work.cleanup)
        self.addCleanup(os.chdir, cwd)
        board._close_default_board()
        self.addCleanup(board._close_default_board)
        for run in self.client.request("GET", "/api/v1/board/runs")["runs"]:
            self.client.request("DELETE", "/api/v1/board/runs/%d" % run["id"])

    def runs(self):
        return self.client.request("GET", "/api/v1/board/runs")["runs"]

    def exported(self, run_id):
        points = self.client.request("GET", "/api/v1/board/runs/%d/board/export" % run_id, query={"format": "json"})
        return [(p["graph"], p["curve"], p["step"], p["value"]) for p in points["points"]]

    def uploader(self):
        sink = board._board.sink
        self.assertIsInstance(sink, board._RunUploader)
        return sink

    def test_draw_board_records_to_a_run_named_after_the_script(self):
        cost, evaluator = 2.5, 0.75
        with mock.patch.object(sys, "argv", ["/home/ann/train_mnist.py"]):
            for i in range(3):
                draw_board(cost, evaluator)
            draw_board(loss=float("nan"), acc=float("inf"), title="eval")
        board.flush()
        (run,) = self.runs()
        self.assertRegex(run["name"], r"^train_mnist-\d{8}-\d{6}$")
        points = self.exported(run["id"])
        self.assertEqual(sorted(p for p in points if p[0] != "eval"),
                         sorted([("cost, evaluator", "cost", i, 2.5) for i in range(3)]
                                + [("cost, evaluator", "evaluator", i, 0.75) for i in range(3)]))
        self.assertEqual(sorted(p[1:3] for p in points if p[0] == "eval"), [("acc", 0), ("loss", 0)])
        self.assertFalse(os.path.exists("board"))          # nothing was written to files
        graphs = self.client.request("GET", "/api/v1/board/runs/%d/board" % run["id"])["graphs"]
        self.assertEqual(sorted(g["name"] for g in graphs), ["cost, evaluator", "eval"])

    def test_a_default_name_in_use_gets_a_number(self):
        with mock.patch.object(sys, "argv", ["eval.py"]), \
                mock.patch.object(board.time, "strftime", return_value="20261206-031500"):
            self.client.request("POST", "/api/v1/board/runs", {"name": "eval-20261206-031500"})
            v = 0.5
            draw_board(v)
            board.flush()
        self.assertEqual(sorted(r["name"] for r in self.runs()), ["eval-20261206-031500", "eval-20261206-031500-2"])

    def test_board_run_names_the_run_and_a_clash_is_a_conflict(self):
        run = board_run("lr-sweep")
        self.assertEqual((run["name"], run["source"]), ("lr-sweep", "run:%d" % run["id"]))
        my_metric = 0.5
        for _ in range(4):
            draw_board(my_metric)
        board.flush()
        self.assertEqual(self.exported(run["id"]), [("my_metric", "my_metric", i, 0.5) for i in range(4)])
        with self.assertRaises(ApiError) as clash:
            board_run("lr-sweep")
        self.assertEqual((clash.exception.status, clash.exception.field), (409, "name"))
        for bad in ("", "a/b", "x" * 129, "tab\there"):
            with self.assertRaisesRegex(ValueError, "run name"):
                board_run(bad)
        # A second run takes the later points; the first keeps its own.
        second = board_run("lr-sweep-2")
        draw_board(my_metric)
        board.flush()
        self.assertEqual(len(self.exported(run["id"])), 4)
        self.assertEqual(self.exported(second["id"]), [("my_metric", "my_metric", 0, 0.5)])

    def test_points_go_in_batches_of_at_most_10000_at_most_one_request_a_second(self):
        board_run("batches")
        uploader = self.uploader()
        value = 1.0
        sent = []
        real_request = uploader.client.request

        def recording(method, path, body=None, query=None):
            started = time.monotonic()
            answer = real_request(method, path, body, query)
            if path.endswith("/points"):
                sent.append((started, len(body["points"])))
            return answer

        with mock.patch.object(uploader.client, "request", recording):
            for _ in range(25000):
                draw_board(value)
            # Only the writer thread sends: one request per timed flush.
            self.assertTrue(wait_for(lambda: sum(n for _, n in sent) == 25000, timeout=60), sent)
        self.assertTrue(all(n <= 10000 for _, n in sent), sent)     # as the timed flushes found them
        self.assertGreaterEqual(len(sent), 3, sent)
        gaps = [b - a for (a, _), (b, _) in zip(sent, sent[1:])]
        self.assertTrue(all(gap >= board.FLUSH_INTERVAL_S * 0.9 for gap in gaps), gaps)
        (run,) = self.runs()
        steps = [p[2] for p in self.exported(run["id"])]
        self.assertEqual(steps, list(range(25000)))

    def test_an_unreachable_server_keeps_the_points_bounded_and_gets_them_later(self):
        run = board_run("offline")
        uploader = self.uploader()
        uploader.client.server = closed_port_url()
        stderr = io.StringIO()
        x = 0.0
        with contextlib.redirect_stderr(stderr), mock.patch.object(board, "MAX_PENDING_POINTS", 100):
            for i in range(150):
                x = float(i)
                draw_board(x)
            board.flush()
            board.flush()
        self.assertEqual(stderr.getvalue().count("wait"), 2, stderr.getvalue())    # once each: unreachable, full
        self.assertIn("cannot reach", stderr.getvalue())
        self.assertEqual(self.exported(run["id"]), [])
        uploader.client.server = self.url
        board.flush()
        self.assertEqual(self.exported(run["id"]), [("x", "x", i, float(i)) for i in range(100)])

    def test_a_server_that_does_not_answer_never_holds_up_the_training_loop(self):
        board_run("slow")
        uploader = self.uploader()
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr), socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)
            listener.settimeout(30)
            uploader.client.server = "http://127.0.0.1:%d" % listener.getsockname()[1]
            w = 1.0
            draw_board(w)
            sender = threading.Thread(target=board.flush)
            sender.start()
            connection, _ = listener.accept()       # the request is in flight and gets no answer
            with connection, mock.patch.object(board, "MAX_BUFFERED_POINTS", 10):
                for _ in range(50):                 # the queue overflows: callers move it aside, no wait
                    draw_board(w)
                self.assertTrue(sender.is_alive())
                self.assertEqual(len(uploader.queue), 50 % 11)
            sender.join()       # the connection closed: the points wait, the writer goes on
            self.assertIn("the points of the run 'slow' wait", stderr.getvalue())
            self.assertEqual(len(uploader._pending) + len(uploader.queue), 51)
        uploader.client.server = self.url

    def test_a_deleted_run_drops_the_refused_points_and_training_goes_on(self):
        run = board_run("deleted")
        y = 1.0
        draw_board(y)
        board.flush()
        self.client.request("DELETE", "/api/v1/board/runs/%d" % run["id"])
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            draw_board(y)
            board.flush()
        self.assertIn("refused 1 points", stderr.getvalue())
        self.assertEqual(len(self.uploader()._pending), 0)

    def test_without_a_server_points_go_to_files_in_the_working_directory(self):
        del os.environ["PADDLE_CLOUD_TOKEN"]
        z = 1.0
        draw_board(z)
        board.flush()
        self.assertIsInstance(board._board.sink, board._EventFile)
        self.assertEqual(len(os.listdir("board")), 1)
        self.assertEqual(self.runs(), [])
        with self.assertRaisesRegex(ValueError, "PADDLE_CLOUD_URL"):
            board_run("nowhere")
        self.assertTrue(math.isfinite(z))


if __name__ == "__main__":
    unittest.main()
