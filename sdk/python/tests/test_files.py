"""upload, download and list_files against the real server binary (PADDLECLOUD_BIN)."""
import glob
import hashlib
import json
import os
import random
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from paddlecloud import (ApiError, download, get_entry, list_files, make_folder, move, remove,  # noqa: E402
                         storage_usage, upload)
from test_client import signed_up_client, start_server, stop_server  # noqa: E402


def random_bytes(n, seed):
    return random.Random(seed).randbytes(n)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def tree(root):
    """{relative path: bytes} of files and {relative path + "/": None} of folders under root."""
    out = {}
    for directory, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(directory, root)
        for name in dirnames:
            out[os.path.normpath(os.path.join(rel, name)) + "/"] = None
        for name in filenames:
            with open(os.path.join(directory, name), "rb") as f:
                out[os.path.normpath(os.path.join(rel, name))] = f.read()
    return out


class CloudPathRule(unittest.TestCase):
    """The vectors the server and the web test too (testdata/cloud_paths.json)."""

    def test_follows_the_shared_vectors(self):
        from paddlecloud.files import CloudPathError, _cloud
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
        with open(os.path.join(root, "testdata", "cloud_paths.json"), encoding="utf-8") as f:
            vectors = json.load(f)["vectors"]
        self.assertGreater(len(vectors), 20)
        for v in vectors:
            with self.subTest(why=v["why"]):
                if "path" in v:
                    self.assertEqual(_cloud(v["input"]), v["path"])
                else:
                    with self.assertRaises(CloudPathError) as caught:
                        _cloud(v["input"])
                    self.assertEqual(caught.exception.code, v["error"])
        with self.assertRaises(CloudPathError) as lone:  # not representable in the JSON file
            _cloud("datasets/\ud800")
        self.assertEqual(lone.exception.code, "invalid_utf8")


class Interrupt(Exception):
    pass


class FilesTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        # Upload sessions are remembered next to the CLI's config: keep them in the test's folder.
        cls.saved_config = os.environ.get("PADDLECLOUD_CLI_CONFIG")
        os.environ["PADDLECLOUD_CLI_CONFIG"] = os.path.join(cls.tmp.name, "cli", "config")
        cls.proc, cls.url, data, cls.log = start_server(cls.tmp.name)
        cls.client = signed_up_client(cls.url, data, "files@example.com", "files-lab", "sdk files test")

    @classmethod
    def tearDownClass(cls):
        stop_server(cls.proc, cls.log)
        if cls.saved_config is None:
            os.environ.pop("PADDLECLOUD_CLI_CONFIG", None)
        else:
            os.environ["PADDLECLOUD_CLI_CONFIG"] = cls.saved_config
        cls.tmp.cleanup()

    def local(self, *parts):
        return os.path.join(self.tmp.name, *parts)

    def upload_states(self, prefix):
        """The remembered upload sessions of cloud paths starting with `prefix`."""
        folder = os.path.join(self.tmp.name, "cli", "uploads")
        states = []
        for path in glob.glob(os.path.join(folder, "*.json")):
            with open(path) as f:
                state = json.load(f)
            if state["path"].startswith(prefix):
                states.append(state)
        return states

    def test_upload_a_folder_list_it_and_download_it_byte_identically(self):
        src = self.local("src-tree")
        write(os.path.join(src, "a.txt"), b"hello\n")
        write(os.path.join(src, "empty.bin"), b"")
        write(os.path.join(src, "sub dir", "ünïcødé файл.txt"), "unicode\n".encode())
        write(os.path.join(src, "sub dir", "deeper", "big.bin"), random_bytes(2 * 1024 * 1024 + 3, 1))
        os.makedirs(os.path.join(src, "empty folder"))
        seen = []
        result = upload(src, "datasets/sdk-tree", client=self.client, progress=lambda s, t: seen.append((s, t)),
                        chunk_size=1 << 20)
        self.assertEqual(result["files"], 4)
        self.assertEqual(result["resumed_bytes"], 0)
        self.assertEqual(seen[-1], (result["bytes"], result["bytes"]))
        self.assertEqual(self.upload_states("datasets/sdk-tree/"), [])

        entries = list_files("datasets/sdk-tree", client=self.client)
        self.assertEqual([(e["name"], e["kind"]) for e in entries],
                         [("empty folder", "folder"), ("sub dir", "folder"), ("a.txt", "file"), ("empty.bin", "file")])
        self.assertEqual(entries[2]["size"], 6)
        self.assertEqual(entries[2]["uploaded_by"], "files@example.com")
        # Every page: two entries a page still gives them all.
        self.assertEqual([e["name"] for e in list_files("datasets/sdk-tree", client=self.client, page_size=1)],
                         [e["name"] for e in entries])
        big = list_files("datasets/sdk-tree/sub dir/deeper/big.bin", client=self.client)
        self.assertEqual(len(big), 1)
        self.assertEqual(big[0]["size"], 2 * 1024 * 1024 + 3)
        self.assertIn("datasets", [e["name"] for e in list_files(client=self.client)])

        out = self.local("out-tree")
        got = download("datasets/sdk-tree", out, client=self.client)
        self.assertEqual(got["files"], 4)
        self.assertEqual(tree(out), tree(src))
        single = self.local("single", "a.txt")
        download("datasets/sdk-tree/a.txt", single, client=self.client)
        with open(single, "rb") as f:
            self.assertEqual(f.read(), b"hello\n")
        self.assertFalse(os.path.exists(single + ".part"))

    def test_an_interrupted_upload_resumes_after_a_partial_put(self):
        path = self.local("resume.bin")
        content = random_bytes(5 * 1024 * 1024 + 11, 2)
        write(path, content)

        def stop_midway(sent, total):
            if sent >= 2 * 1024 * 1024 + 512 * 1024:  # in the third PUT of 1 MiB
                raise Interrupt()

        with self.assertRaises(Interrupt):
            upload(path, "models/resume.bin", client=self.client, progress=stop_midway, chunk_size=1 << 20)
        states = self.upload_states("models/resume.bin")
        self.assertEqual(len(states), 1)
        self.assertEqual(states[0]["path"], "models/resume.bin")
        self.assertEqual(states[0]["sha256"], hashlib.sha256(content).hexdigest())
        upload_id = states[0]["id"]
        offset = self.client.request("GET", "/api/v1/uploads/" + upload_id)["offset"]
        self.assertGreaterEqual(offset, 2 * 1024 * 1024)
        self.assertNotIn("resume.bin", [e["name"] for e in list_files("models", client=self.client)])  # not partial

        seen = []
        result = upload(path, "models/resume.bin", client=self.client, progress=lambda s, t: seen.append(s),
                        chunk_size=1 << 20)
        self.assertGreaterEqual(result["resumed_bytes"], offset)  # (the cut PUT may have landed more since)
        self.assertEqual(seen[0], result["resumed_bytes"])
        self.assertEqual(self.upload_states("models/resume.bin"), [])
        with self.assertRaises(ApiError) as gone:
            self.client.request("GET", "/api/v1/uploads/" + upload_id)
        self.assertEqual(gone.exception.status, 404)
        copy = self.local("resume-copy.bin")
        download("models/resume.bin", copy, client=self.client)
        with open(copy, "rb") as f:
            self.assertTrue(f.read() == content)

        # A session of a file that changed since is not continued.
        with self.assertRaises(Interrupt):
            upload(path, "models/resume.bin", client=self.client, progress=stop_midway, chunk_size=1 << 20)
        changed = random_bytes(3 * 1024 * 1024, 3)
        write(path, changed)
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))
        result = upload(path, "models/resume.bin", client=self.client, chunk_size=1 << 20)
        self.assertEqual(result["resumed_bytes"], 0)
        download("models/resume.bin", copy, client=self.client)
        with open(copy, "rb") as f:
            self.assertTrue(f.read() == changed)

    def test_an_interrupted_download_resumes_from_the_part_file(self):
        content = random_bytes(4 * 1024 * 1024, 4)
        write(self.local("dl-src.bin"), content)
        upload(self.local("dl-src.bin"), "models/dl.bin", client=self.client)
        target = self.local("dl", "dl.bin")

        def stop_midway(received, total):
            if received >= 2 * 1024 * 1024:
                raise Interrupt()

        with self.assertRaises(Interrupt):
            download("models/dl.bin", target, client=self.client, progress=stop_midway)
        self.assertGreaterEqual(os.path.getsize(target + ".part"), 2 * 1024 * 1024)
        self.assertFalse(os.path.exists(target))
        result = download("models/dl.bin", target, client=self.client)
        self.assertGreaterEqual(result["resumed_bytes"], 2 * 1024 * 1024)
        with open(target, "rb") as f:
            self.assertTrue(f.read() == content)
        self.assertFalse(os.path.exists(target + ".part"))

    def test_folders_moves_and_removes(self):
        make_folder("workspace/a/b", client=self.client)
        with self.assertRaises(ApiError) as exists:
            make_folder("workspace/a/b", client=self.client)
        self.assertEqual(exists.exception.status, 409)
        make_folder("workspace/a/b", client=self.client, exist_ok=True)
        write(self.local("f.txt"), b"f\n")
        upload(self.local("f.txt"), "workspace/a/b/f.txt", client=self.client)
        moved = move("workspace/a/b/f.txt", "workspace/a/g.txt", client=self.client)
        self.assertEqual(moved["path"], "workspace/a/g.txt")
        self.assertEqual([e["name"] for e in list_files("workspace/a", client=self.client)], ["b", "g.txt"])
        self.assertEqual(get_entry("workspace/a/g.txt", client=self.client)["size"], 2)
        with self.assertRaises(ApiError) as not_empty:
            remove("workspace/a", client=self.client)
        self.assertEqual(not_empty.exception.status, 409)
        remove("workspace/a", recursive=True, client=self.client)
        self.assertNotIn("a", [e["name"] for e in list_files("workspace", client=self.client)])
        self.assertGreaterEqual(storage_usage(client=self.client)["used_bytes"], 0)

    def test_bad_paths(self):
        for bad in ("datasets/../x", "datasets//x", "./x", "a\\b"):
            with self.assertRaises(ValueError):
                list_files(bad, client=self.client)
            with self.assertRaises(ValueError):
                upload(__file__, bad, client=self.client)
        # The server refuses them as well, naming the field.
        with self.assertRaises(ApiError) as caught:
            self.client.request("POST", "/api/v1/folders", {"path": "datasets/../x"})
        self.assertEqual(caught.exception.status, 400)
        self.assertEqual(caught.exception.field, "path")
        with self.assertRaises(ApiError) as read_only:
            upload(__file__, "public/datasets/x.py", client=self.client)
        self.assertEqual(read_only.exception.status, 403)
        with self.assertRaises(ApiError) as missing:
            download("datasets/nothing here", self.local("x"), client=self.client)
        self.assertEqual(missing.exception.status, 404)


if __name__ == "__main__":
    unittest.main()
