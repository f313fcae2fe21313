"""The SDK against the real `paddlecloud` binary (PADDLECLOUD_BIN, default build/paddlecloud)."""
import email
import glob
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from paddlecloud import ApiError, Client, load_settings  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BINARY = os.environ.get("PADDLECLOUD_BIN", os.path.join(REPO, "build", "paddlecloud"))


def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)  # poll interval of a condition wait
    return False


def start_server(directory, extra_args=()):
    """Starts the binary on a free port with a data dir under `directory` and `extra_args`:
    (process, URL, data dir, log)."""
    data = os.path.join(directory, "data")
    log = open(os.path.join(directory, "server.log"), "w")
    proc = subprocess.Popen([BINARY, "server", "--listen", "127.0.0.1:0", "--data-dir", data, *extra_args],
                            stdout=log, stderr=subprocess.STDOUT)
    addr_file = os.path.join(data, "server.addr")
    assert wait_for(lambda: os.path.exists(addr_file) or proc.poll() is not None), "server did not start"
    with open(addr_file) as f:
        return proc, "http://" + f.read().strip(), data, log


PASSWORD = "correct horse battery"


def signed_up_client(url, data, email_address, account_id, token_name):
    """Registers `account_id`, follows the verification link the server wrote to the outbox under
    `data`, and returns a Client with a new API token of that user."""
    anonymous = Client(url, token="")
    anonymous.token = None
    anonymous.request("POST", "/api/v1/auth/register",
                      {"email": email_address, "password": PASSWORD, "account_id": account_id})
    # Without SMTP settings the server writes mail to the outbox: follow the verification link sent
    # to this address (the outbox may hold other users' mail).
    outbox = os.path.join(data, "outbox")

    def mail_to_user():
        for path in glob.glob(os.path.join(outbox, "*.eml")):
            with open(path, "rb") as f:
                message = email.message_from_bytes(f.read())
            if email_address in message.get("To", ""):
                return message
        return None
    assert wait_for(lambda: mail_to_user() is not None)
    message = mail_to_user()
    body = next(part.get_payload(decode=True).decode() for part in message.walk()
                if part.get_content_type() == "text/plain")
    token = re.search(r"token=([A-Za-z0-9_-]+)", body).group(1)
    anonymous.request("POST", "/api/v1/auth/verify", {"token": token})
    created = anonymous.request("POST", "/api/v1/auth/tokens",
                                {"email": email_address, "password": PASSWORD, "name": token_name})
    return Client(url, token=created["token"])


def stop_server(proc, log):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    log.close()


class ServerTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.proc, cls.url, cls.data, cls.log = start_server(cls.tmp.name)

    @classmethod
    def tearDownClass(cls):
        stop_server(cls.proc, cls.log)
        cls.tmp.cleanup()

    def test_version_and_health(self):
        cloud = Client(self.url)
        self.assertEqual(cloud.version()["name"], "paddlecloud")
        self.assertEqual(cloud.health()["status"], "ok")
        self.assertEqual(cloud.readiness()["status"], "ready")

    def test_errors_carry_code_message_and_field(self):
        cloud = Client(self.url)
        with self.assertRaises(ApiError) as caught:
            cloud.request("POST", "/api/v1/csp-reports", {"csp-report": 7})
        self.assertEqual(caught.exception.status, 400)
        self.assertEqual(caught.exception.code, "invalid_argument")
        self.assertEqual(caught.exception.field, "csp-report")
        with self.assertRaises(ApiError) as missing:
            cloud.request("GET", "/api/v1/nothing-here")
        self.assertEqual(missing.exception.code, "not_found")

    def test_status_events_stream(self):
        event = next(Client(self.url).status_events())
        self.assertEqual(event["status"], "ready")
        self.assertEqual(event["health"]["status"], "ok")

    def test_unreachable_server_is_a_clear_error(self):
        with self.assertRaises(ApiError) as caught:
            Client("http://127.0.0.1:9", timeout=2).version()
        self.assertEqual(caught.exception.code, "unreachable")


class SettingsTest(unittest.TestCase):
    def test_arguments_beat_environment_beat_config_file(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "config")
            with open(path, "w") as f:
                json.dump({"server": "http://file:1", "token": "file-token"}, f)
            saved = {k: os.environ.pop(k, None)
                     for k in ("PADDLE_CLOUD_URL", "PADDLE_CLOUD_TOKEN", "PADDLECLOUD_CLI_CONFIG")}
            try:
                self.assertEqual(load_settings(config_path=path), ("http://file:1", "file-token"))
                os.environ["PADDLE_CLOUD_URL"] = "http://FILE:1/"
                self.assertEqual(load_settings(config_path=path), ("http://FILE:1", "file-token"))
                # The stored token belongs to the stored server: never sent to another one.
                os.environ["PADDLE_CLOUD_URL"] = "http://env:2/"
                self.assertEqual(load_settings(config_path=path), ("http://env:2", None))
                os.environ["PADDLE_CLOUD_TOKEN"] = "env-token"
                self.assertEqual(load_settings(config_path=path), ("http://env:2", "env-token"))
                self.assertEqual(load_settings("http://arg:3", "t", config_path=path), ("http://arg:3", "t"))
                # PADDLECLOUD_CLI_CONFIG names the file, as for the CLI.
                del os.environ["PADDLE_CLOUD_URL"], os.environ["PADDLE_CLOUD_TOKEN"]
                os.environ["PADDLECLOUD_CLI_CONFIG"] = path
                self.assertEqual(load_settings(), ("http://file:1", "file-token"))
            finally:
                for k, v in saved.items():
                    os.environ.pop(k, None)
                    if v is not None:
                        os.environ[k] = v

    def test_broken_config_file_is_named(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "config")
            with open(path, "w") as f:
                f.write("{not json")
            with self.assertRaises(ValueError) as caught:
                load_settings(config_path=path)
            self.assertIn(path, str(caught.exception))


if __name__ == "__main__":
    unittest.main()
