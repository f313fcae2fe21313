"""The SDK behind an HTTP proxy: a real tinyproxy (scripts/install-deps installs it) between the SDK
and the real server; the rule is docs/proxy.md (the CLI's end-to-end tests run both clients)."""
import os
import socket
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from paddlecloud import ApiError, Client, upload  # noqa: E402
from test_client import signed_up_client, start_server, stop_server, wait_for  # noqa: E402

_PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def proxy_environment(**values):
    """os.environ without the caller's proxy variables, plus `values`."""
    env = {k: v for k, v in os.environ.items() if k not in _PROXY_VARIABLES}
    env.update(values)
    return mock.patch.dict(os.environ, env, clear=True)


class ProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.proc, cls.url, cls.data, cls.log = start_server(cls.tmp.name)
        cls.client = signed_up_client(cls.url, cls.data, "proxy@example.com", "proxy-lab", "sdk")
        cls.port = free_port()
        cls.proxy_log = os.path.join(cls.tmp.name, "tinyproxy.log")
        conf = os.path.join(cls.tmp.name, "tinyproxy.conf")
        with open(conf, "w") as f:
            f.write(f"Port {cls.port}\nListen 127.0.0.1\nTimeout 60\nLogLevel Connect\nMaxClients 20\n"
                    f"Allow 127.0.0.1\nLogFile \"{cls.proxy_log}\"\n")
        cls.proxy = subprocess.Popen(["tinyproxy", "-d", "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        assert wait_for(lambda: accepts(cls.port)), "tinyproxy did not start"

    @classmethod
    def tearDownClass(cls):
        cls.proxy.terminate()
        cls.proxy.wait(timeout=30)
        stop_server(cls.proc, cls.log)
        cls.tmp.cleanup()

    def requests_seen(self, text):
        with open(self.proxy_log, encoding="utf-8", errors="replace") as f:
            return sum(1 for line in f if "]: Request (file descriptor" in line and text in line)

    def test_calls_and_upload_puts_go_through_the_proxy(self):
        path = os.path.join(self.tmp.name, "through.bin")
        with open(path, "wb") as f:
            f.write(os.urandom(300_000))
        with proxy_environment(HTTP_PROXY=f"http://127.0.0.1:{self.port}"):
            self.assertEqual(self.client.version()["name"], "paddlecloud")
            upload(path, "datasets/through.bin", client=self.client)
        self.assertTrue(wait_for(lambda: self.requests_seen(f"GET {self.url}/api/v1/version HTTP/1.1") >= 1))
        self.assertTrue(wait_for(lambda: self.requests_seen(f"PUT {self.url}/api/v1/uploads/") >= 1))
        self.assertEqual(self.client.request("GET", "/api/v1/files/datasets/through.bin")["size"], 300_000)

    def test_no_proxy_bypasses_and_an_unreachable_proxy_is_named(self):
        dead = f"http://127.0.0.1:{free_port()}"
        with proxy_environment(http_proxy=dead, no_proxy="localhost,127.0.0.1"):
            self.assertEqual(self.client.version()["name"], "paddlecloud")
        with proxy_environment(http_proxy=dead, no_proxy="localhost"):  # loopback is not special
            with self.assertRaises(ApiError) as caught:
                self.client.version()
        self.assertEqual(caught.exception.code, "unreachable")
        self.assertIn(f"through the proxy {dead}", caught.exception.message)


if __name__ == "__main__":
    unittest.main()
