"""Job.follow_logs resumes by byte offset after a dropped connection (a scripted server, no binary)."""
import json
import os
import sys
import threading
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from paddlecloud import ApiError, Client  # noqa: E402
from paddlecloud.jobs import Job  # noqa: E402

LOG_PATH = "/api/v1/jobs/7/pods/p/logs"


class ScriptedLog:
    """A pod's log that grows while the client is away, served as the real server serves it."""

    def __init__(self):
        self.data = b""
        self.lock = threading.Lock()
        self.streams = []     # the tail asked for by each stream opened
        self.ranges = []      # (offset, length) of each range read

    def write(self, *lines):
        with self.lock:
            self.data += "".join(lines).encode("utf-8")

    def event(self, offset, end=None):
        """An SSE `log` event of the bytes from `offset` to `end` (the log's end when None)."""
        text = self.data[offset:end].decode("utf-8")
        return f"event: log\ndata: {json.dumps({'offset': offset, 'text': text})}\n\n".encode()


def handler_for(log: ScriptedLog, script):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            if url.path == LOG_PATH:
                offset, length = int(query["offset"]), int(query["length"])
                log.ranges.append((offset, length))
                body = json.dumps({"pod": "p", "text": log.data[offset:offset + length].decode("utf-8"),
                                   "offset": offset, "size": len(log.data), "started": True}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            log.streams.append(int(query["tail"]))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in script(len(log.streams)):
                if part is None:  # drop the connection mid-stream: no final chunk
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")

    return Handler


class FollowLogsResumeTest(unittest.TestCase):
    def serve(self, log, script):
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(log, script))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(server.server_close)
        self.addCleanup(thread.join)
        self.addCleanup(server.shutdown)
        client = Client(f"http://127.0.0.1:{server.server_address[1]}", token="pct_test")
        return Job(client, {"id": 7, "name": "j"})

    def test_a_dropped_stream_loses_and_repeats_nothing(self):
        log = ScriptedLog()
        log.write(*(f"line {i} é\n" for i in range(5)))
        marks = {}

        def script(connection):
            if connection == 1:
                yield log.event(0)
                marks["dropped_at"] = len(log.data)
                log.write(*(f"line {i} é\n" for i in range(5, 10)))  # written while the client is away
                yield None
            else:
                line8 = log.data.index(b"line 8")
                line9 = log.data.index(b"line 9")
                yield log.event(line8)      # a gap before it: lines 5-7 are read by range
                yield log.event(line9)      # sent again (as after a reconnect): nothing twice
                log.write("line 10 é\n", "line 11\n")  # after the stream's last event
                yield b"event: end\ndata: {\"state\": \"Succeeded\"}\n\n"

        job = self.serve(log, script)
        text = "".join(job.follow_logs(pod="p", tail=50))
        self.assertEqual(text, log.data.decode("utf-8"))
        self.assertEqual(log.streams, [50, 0], "the first stream asks for the tail, a resumed one for none")
        self.assertEqual(log.ranges[0], (marks["dropped_at"], log.data.index(b"line 8") - marks["dropped_at"]))

    def test_a_stream_that_never_comes_back_is_an_unreachable_error(self):
        log = ScriptedLog()
        log.write("only line\n")

        def script(connection):
            if connection == 1:
                yield log.event(0)
            yield None

        job = self.serve(log, script)
        got = []
        with self.assertRaises(ApiError) as caught:
            for text in job.follow_logs(pod="p", retry_for=0.0):
                got.append(text)
        self.assertEqual(caught.exception.code, "unreachable")
        self.assertEqual(got, ["only line\n"])


if __name__ == "__main__":
    unittest.main()
