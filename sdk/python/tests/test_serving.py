"""serve(), Serving and predict() against the real server binary, whose local backend runs the
replicas (the Python worker; the ONNX model server)."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from paddlecloud import ApiError, Client, get_serving, predict, serve, serving_instances, upload  # noqa: E402
from test_client import REPO, signed_up_client, start_server, stop_server  # noqa: E402

try:
    import numpy as np
except ImportError:
    np = None

MODEL_PY = """import os
import numpy as np
INPUTS = [{"name": "x", "datatype": "FP32", "shape": [-1, 2]}]
OUTPUTS = [{"name": "y", "datatype": "FP32", "shape": [-1, 2]}, {"name": "n", "datatype": "INT64", "shape": [1]}]
THREAD_SAFE = True

def load(model_dir):
    with open(os.path.join(model_dir, "factor.txt")) as f:
        return float(f.read())

def predict(factor, inputs):
    return {"y": inputs["x"] * factor, "n": np.array([inputs["x"].shape[0]])}
"""


class ServingTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.proc, cls.url, data, cls.log = start_server(cls.tmp.name)
        cls.addClassCleanup(stop_server, cls.proc, cls.log)  # also when the rest of the set-up fails
        cls.client = signed_up_client(cls.url, data, "sal@example.com", "sal-lab", "sdk serving test")
        cls.other = signed_up_client(cls.url, data, "eve@example.com", "eve-lab", "sdk serving test")
        cls.model = os.path.join(cls.tmp.name, "tripler")
        os.makedirs(cls.model)
        with open(os.path.join(cls.model, "factor.txt"), "w") as f:
            f.write("3\n")
        with open(os.path.join(cls.model, "model.py"), "w") as f:
            f.write(MODEL_PY)

    @classmethod
    def tearDownClass(cls):
        for client in (cls.client, cls.other):  # replicas are pods: none may outlive the test
            for instance in serving_instances(client=client):
                instance.delete()

    def test_serve_a_local_python_model_predict_scale_deactivate_activate_delete(self):
        seen = []
        tripler = serve(self.model, "tripler", runtime="python", cpu="200m", memory="256Mi", client=self.client,
                        progress=lambda sent, total: seen.append((sent, total)))
        self.assertEqual(tripler.state, "ready")
        self.assertEqual(tripler.data["model"], "models/tripler")
        self.assertTrue(seen and seen[-1][0] == seen[-1][1], seen)
        self.assertEqual(tripler.url, self.url + "/serving/sal-lab/tripler")

        x = [[1, 2], [0.5, -1], [0, 4]]
        out = tripler.predict({"x": np.array(x) if np is not None else x})  # float64 / ints: sent as FP32
        if np is not None:
            self.assertEqual((out["y"].shape, out["y"].dtype), ((3, 2), np.float32))
            self.assertEqual((out["n"].tolist(), out["n"].dtype), ([3], np.int64))
            self.assertEqual(out["y"].tolist(), [[3, 6], [1.5, -3], [0, 12]])
        else:
            self.assertEqual(out, {"y": [[3, 6], [1.5, -3], [0, 12]], "n": [3]})
        only_y = predict("tripler", {"x": [[1, 1]]}, outputs=["y"], client=self.client)
        self.assertEqual(list(only_y), ["y"])

        with self.assertRaises(ApiError) as caught:
            tripler.predict({"x": [[1, 2, 3]]})  # the worker checks the declared shape
        self.assertEqual((caught.exception.status, caught.exception.code), (400, "inference_error"))
        self.assertIn("x", caught.exception.message)

        self.assertEqual(tripler.scale(2, wait=True).replicas, {"desired": 2, "ready": 2})
        self.assertIn("tripler", [s.name for s in serving_instances(client=self.client)])
        self.assertIsInstance(tripler.logs(replica=1), str)
        self.assertEqual(tripler.deactivate().state, "inactive")
        with self.assertRaises(ApiError) as caught:
            tripler.predict({"x": [[1, 2]]})
        self.assertEqual(caught.exception.status, 503)
        self.assertEqual(tripler.activate(wait=True).replicas["ready"], 2)
        self.assertEqual(predict("sal-lab/tripler", {"x": [[2, 2]]}, client=self.client)["n"], [1] if np is None else
                         np.array([1]))
        tripler.delete()
        with self.assertRaises(ApiError) as caught:
            tripler.refresh()
        self.assertEqual(caught.exception.status, 404)

    def test_an_onnx_model_from_the_cloud_answers_as_numpy_does(self):
        models = os.path.join(self.tmp.name, "onnx")
        os.makedirs(models)
        made = subprocess.run(["/usr/bin/python3", os.path.join(REPO, "src", "model_server", "make_test_models.py"),
                               models], capture_output=True, text=True)
        if made.returncode != 0:
            self.skipTest(f"cannot build the test models (python3-onnx?): {made.stderr}")
        upload(os.path.join(models, "fit_a_line.onnx"), "models/fit-onnx/model.onnx", client=self.client)
        fit = serve("models/fit-onnx", "fit", cpu="200m", memory="256Mi", client=self.client)
        self.assertEqual((fit.state, fit.data["runtime"], fit.data["model_file"]), ("ready", "onnx", "model.onnx"))
        with open(os.path.join(models, "expected.json")) as f:
            reference = json.load(f)["fit_a_line"]
        x = reference["inputs"]["x"]  # flat, row-major
        rows = [x["data"][i * 13:(i + 1) * 13] for i in range(x["shape"][0])]
        y = fit.predict({"x": rows})["y"]
        flat = y.ravel().tolist() if np is not None else [v for row in y for v in row]
        for got, want in zip(flat, reference["outputs"]["y"]["data"], strict=True):
            self.assertAlmostEqual(got, want, delta=1e-5)
        self.assertEqual(fit.metadata()["inputs"][0]["datatype"], "FP32")

        # A client application's invoke-only token: ACCOUNT/NAME, and nothing else.
        invoke = Client(self.url, token=self.client.request("POST", "/api/v1/me/tokens",
                                                            {"name": "client app", "scope": "invoke"})["token"])
        y = predict("sal-lab/fit", {"x": rows}, client=invoke)["y"]
        self.assertEqual(y.ravel().tolist() if np is not None else [v for row in y for v in row], flat)
        with self.assertRaises(ApiError) as caught:
            predict("fit", {"x": rows}, client=invoke)
        self.assertEqual(caught.exception.status, 403)
        self.assertIn('predict("ACCOUNT/fit", ...)', caught.exception.message)
        fit.delete()

    def test_bad_arguments_name_the_field_and_a_taken_name_is_refused_before_the_upload(self):
        with self.assertRaises(ApiError) as caught:
            serve("models/none-here", "missing", client=self.client, wait=False)
        self.assertEqual((caught.exception.status, caught.exception.field), (404, "model"))
        with self.assertRaises(ApiError) as caught:
            serve(self.model, "Bad_Name", runtime="python", client=self.client, wait=False)
        self.assertEqual((caught.exception.status, caught.exception.field), (400, "name"))
        held = serve(self.model, "held", runtime="python", cpu="100m", memory="128Mi", client=self.client, wait=False)
        uploads = []
        with self.assertRaises(ApiError) as caught:
            serve(self.model, "held", runtime="python", client=self.client, progress=lambda *a: uploads.append(a))
        self.assertEqual((caught.exception.status, caught.exception.field), (409, "name"))
        self.assertEqual(uploads, [])
        with self.assertRaises(ApiError) as caught:
            held.scale(0)
        self.assertEqual((caught.exception.status, caught.exception.field), (400, "replicas"))
        held.delete()

    def test_waiting_for_a_model_the_runtime_cannot_load_raises_its_reason(self):
        broken = os.path.join(self.tmp.name, "broken.onnx")
        with open(broken, "w") as f:
            f.write("not a model")
        with self.assertRaises(RuntimeError) as caught:
            serve(broken, "broken", cpu="100m", memory="128Mi", client=self.client, timeout=120)
        self.assertIn("serving instance broken did not get ready: failed", str(caught.exception))
        self.assertIn("OpenCV cannot load /model/broken.onnx", str(caught.exception))
        get_serving("broken", client=self.client).delete()

    def test_another_accounts_instance_is_not_found(self):
        mine = serve(self.model, "private", runtime="python", cpu="100m", memory="128Mi", client=self.client,
                     wait=False)
        for call in (lambda: get_serving("private", client=self.other),
                     lambda: predict("private", {"x": [[1, 2]]}, client=self.other),
                     lambda: predict("sal-lab/private", {"x": [[1, 2]]}, client=self.other)):
            with self.assertRaises(ApiError) as caught:
                call()
            self.assertEqual(caught.exception.status, 404)
        theirs = get_serving("private", client=self.client)
        theirs.client = self.other  # a handle used with another account's token
        for action in (lambda: theirs.scale(3), theirs.deactivate, theirs.delete, lambda: theirs.logs()):
            with self.assertRaises(ApiError) as caught:
                action()
            self.assertEqual(caught.exception.status, 404)
        self.assertEqual(serving_instances(client=self.other), [])
        self.assertEqual(mine.refresh().replicas["desired"], 1)
        mine.delete()


if __name__ == "__main__":
    unittest.main()
