// Browser test of Serving (docs/serving.md) against the real server (local cluster backend: replicas are
// real paddlecloud-model-server processes). The fit-a-line ONNX model (src/model_server/make_test_models.py,
// Debian's python3-onnx) is put in models/fit_a_line/; the Serving page launches it with 2 replicas
// (picked from the model list, its .onnx found), sees them ready, uses "Try it" (zero input: the bias
// 0.5), watches QPS and latency move while node sends requests through the gateway with an invoke-only
// token, scales 2 -> 3 -> 1 and deactivates. The Launch dialog's upload sends a .tar.gz with progress and
// launches it. Another account sees "no such instance" for the URL of the first account's instance
// and its token gets 404 from the gateway; no credential gets 401.
//
//   npm run build && PADDLECLOUD_WEB_DIR=dist PADDLECLOUD_BIN=/path/to/paddlecloud node --test e2e/serving.test.mjs
//
// One server for the whole file; the tests run in order and share the instance.
// Screenshots: e2e/artifacts/serving-instance.png (the instance page under load), serving-list.png.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { artifactsDir, expectHidden, expectText, expectVisible, fetchJson, pythonPath, repoDir, useSuite } from './helpers.mjs';

/** Replicas are processes that start in well under a second; the machine is shared, so wait generously. */
const READY_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT_MS = 240_000;

const USER = { email: 'sam.serving@example.com', password: 'models answer quickly 7', accountId: 'sam-lab', displayName: 'Sam Serving' };
const OTHER = { email: 'olga.other@example.com', password: 'not my instance at all 3', accountId: 'olga-lab', displayName: 'Olga Other' };

const NAME = 'fit';

/** The fit-a-line test model: y = x · linspace(-1, 1, 13) + 0.5 (make_test_models.py). */
const shared = { modelDir: '', onnx: null, tarball: '', token: '' };

const suite = useSuite('paddlecloud-e2e-serving-', [USER, OTHER], async ({ tmpDir }) => {
  shared.modelDir = path.join(tmpDir, 'models');
  await mkdir(shared.modelDir);
  const made = spawnSync(pythonPath, [path.join(repoDir, 'src', 'model_server', 'make_test_models.py'), shared.modelDir], { encoding: 'utf8' });
  assert.equal(made.status, 0, `make_test_models.py: ${made.stderr}`);
  shared.onnx = await readFile(path.join(shared.modelDir, 'fit_a_line.onnx'));
  // An archive of a model folder, for the dialog's upload: fit_a_line_tgz/model.onnx.
  const folder = path.join(shared.modelDir, 'tgz');
  await mkdir(folder);
  await copyFile(path.join(shared.modelDir, 'fit_a_line.onnx'), path.join(folder, 'model.onnx'));
  shared.tarball = path.join(shared.modelDir, 'fit_a_line_tgz.tar.gz');
  const tar = spawnSync('tar', ['-czf', shared.tarball, '-C', folder, 'model.onnx'], { encoding: 'utf8' });
  assert.equal(tar.status, 0, tar.stderr);
});
const { url } = suite;

/** The JSON of an API call made by the signed-in page (CSRF token included for unsafe methods). */
async function api(page, method, apiPath, body, contentType = 'application/json') {
  return page.evaluate(
    async ([m, p, b, type]) => {
      const session = await (await fetch('/api/v1/session')).json();
      const headers = { 'X-CSRF-Token': session.csrf_token };
      if (b !== undefined) headers['Content-Type'] = type;
      const data = b === undefined ? undefined : type === 'application/json' ? JSON.stringify(b) : new Uint8Array(b);
      const answer = await fetch(p, { method: m, headers, body: data });
      const text = await answer.text();
      return { status: answer.status, body: text ? JSON.parse(text) : undefined };
    },
    [method, apiPath, body, contentType],
  );
}

/** Puts `bytes` at the cloud path `to` through the uploads API. */
async function putFile(page, to, bytes) {
  const session = await api(page, 'POST', '/api/v1/uploads', { path: to, size: bytes.length });
  assert.equal(session.status, 201, JSON.stringify(session.body));
  const put = await api(page, 'PUT', `/api/v1/uploads/${session.body.id}`, [...bytes], 'application/octet-stream');
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.equal(put.body.complete, true);
}

/** Waits until `read()` returns a truthy value; fails with `what` and the last value after the deadline. */
async function waitFor(what, read, timeoutMs = READY_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await read();
    if (last) return last;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 100)); // poll interval
  }
}

/** Sends infer requests through the gateway from node, `connections` at a time, until stopped. */
function startLoad(inferUrl, token, connections = 4) {
  const counts = { ok: 0, failed: 0, statuses: {} };
  let running = true;
  const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 13], datatype: 'FP32', data: new Array(13).fill(1) }] });
  const loop = async () => {
    while (running) {
      try {
        const answer = await fetch(inferUrl, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body });
        await answer.arrayBuffer();
        if (answer.ok) counts.ok++;
        else {
          counts.failed++;
          counts.statuses[answer.status] = (counts.statuses[answer.status] ?? 0) + 1;
        }
      } catch {
        counts.failed++;
      }
    }
  };
  const loops = Array.from({ length: connections }, loop);
  return {
    counts,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return counts;
    },
  };
}

test('Serving: launch fit-a-line with 2 replicas, try it, watch QPS and latency under load, scale 3 and 1, deactivate', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  // A wrong model path: the dialog's look for its .onnx files and the launch answer 404 (shown on the field).
  const { page, problems } = await suite.signIn(t, USER, { allowConsole: [/status of 404 .* @ \S+\/api\/v1\/(serving|files\/models\/no_such_model)$/] });
  await putFile(page, 'models/fit_a_line/model.onnx', shared.onnx);

  // The empty state explains serving and offers Launch.
  await page.getByTestId('nav-serving').click();
  await page.waitForURL(url('/serving'));
  await expectVisible(page.getByTestId('serving-empty'));
  await page.getByTestId('serving-empty').getByTestId('serving-launch').click();
  const dialog = page.getByTestId('launch-dialog');
  await expectVisible(dialog);

  // The Python runtime's editor opens with the model.py template (CodeMirror, within the CSP).
  await page.getByTestId('serving-runtime-python').check();
  // (Read as text: the editor's element is in a shadow root, where filtering by text does not reach.)
  await waitFor('the model.py template', async () => /def predict\(state, inputs\):/.test((await page.getByTestId('serving-model_py').textContent()) ?? ''));
  // Typing goes into the text (the editor holds it; fast typing once fought a controlled value).
  await page.getByTestId('serving-model_py').click();
  await page.keyboard.press('Control+Home');
  await page.keyboard.type('# my model\n');
  await waitFor('the typed line', async () => ((await page.getByTestId('serving-model_py').textContent()) ?? '').startsWith('# my model'));
  await page.getByTestId('serving-runtime-onnx').check();

  // The model from the picker; the only .onnx in it becomes the model file; 1 CPU = 2 replicas × 0.5 CPU.
  await page.getByTestId('serving-model-choice').selectOption('models/fit_a_line');
  assert.equal(await page.getByTestId('serving-model').inputValue(), 'models/fit_a_line');
  assert.equal(await page.getByTestId('serving-name').inputValue(), 'fit-a-line');
  await waitFor('the model file found in the folder', async () => (await page.getByTestId('serving-model_file').inputValue()) === 'model.onnx');
  await page.getByTestId('serving-name').fill(NAME);
  await page.getByTestId('serving-cpu_total').fill('1');
  await page.getByTestId('serving-cpu').fill('500m');
  await page.getByTestId('serving-memory').fill('256Mi');
  await expectText(page.getByTestId('serving-split'), '1 CPU = 2 replicas × 0.5 CPU');

  // A wrong model path: the server's 404 shows on the model field.
  await page.getByTestId('serving-model').fill('models/no_such_model');
  await page.getByTestId('launch-submit').click();
  await expectVisible(page.getByTestId('serving-model-error'));
  await page.getByTestId('serving-model').fill('models/fit_a_line');
  await page.getByTestId('serving-model_file').fill('model.onnx');
  await page.getByTestId('launch-submit').click();

  // The instance page: 2 of 2 replicas ready.
  await page.waitForURL(url(`/serving/${NAME}`));
  await expectHidden(dialog);
  await expectText(page.getByTestId('serving-instance-replicas'), '2/2', READY_TIMEOUT_MS);
  await expectText(page.getByTestId('serving-instance-state'), 'ready');
  assert.equal(await page.getByTestId('serving-replica').count(), 2);
  const gatewayUrl = await page.getByTestId('serving-instance-url').inputValue();
  assert.equal(gatewayUrl, url(`/serving/${USER.accountId}/${NAME}`));

  // Try it: the metadata's shapes make the request (x [1, 13] of zeros): the answer is the bias, 0.5.
  await expectText(page.getByTestId('serving-try-signature'), /x FP32 \[-1, 13\]/);
  const request = JSON.parse(await page.getByTestId('serving-try-request').inputValue());
  assert.deepEqual(request.inputs[0].shape, [1, 13]);
  await page.getByTestId('serving-try-send').click();
  await expectText(page.getByTestId('serving-try-status'), 'HTTP 200');
  const answer = JSON.parse(await page.getByTestId('serving-try-output').textContent());
  assert.equal(answer.outputs[0].name, 'y');
  assert.ok(Math.abs(answer.outputs[0].data[0] - 0.5) < 1e-5, JSON.stringify(answer));
  await expectText(page.getByTestId('serving-try-latency'), /\d ms$|\d s$/);
  // The snippets carry the real URL.
  await expectText(page.getByTestId('serving-snippet-text'), new RegExp(`curl -s ${gatewayUrl.replaceAll('.', '\\.')}/v2/models/${NAME}/infer`));
  await page.getByTestId('serving-snippet-sdk').click();
  await expectText(page.getByTestId('serving-snippet-text'), /paddlecloud\.predict\("fit"/);

  // A replica's log in the log console.
  await page.getByTestId('serving-replica-logs').first().click();
  await expectText(page.getByTestId('log-text'), /ready/, READY_TIMEOUT_MS);
  await page.getByTestId('log-close').click();

  // Load through the gateway with an invoke-only token: QPS and latency move on the page.
  const created = await api(page, 'POST', '/api/v1/me/tokens', { name: 'load', scope: 'invoke' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  shared.token = created.body.token;
  const load = startLoad(`${gatewayUrl}/v2/models/${NAME}/infer`, shared.token);
  try {
    await expectText(page.getByTestId('serving-instance-qps'), /^\s*[\d.]+ req\/s\s*$/, READY_TIMEOUT_MS);
    await expectText(page.getByTestId('serving-instance-p99'), /^\s*[\d.]+ (ms|s)\s*$/);
    await waitFor('the requests chart has points', async () => Number(await page.getByTestId('chart-qps').getAttribute('data-points')) > 0);
    await waitFor('the latency chart has points', async () => Number(await page.getByTestId('chart-latency').getAttribute('data-points')) > 0);
    const qps = () => page.getByTestId('serving-instance-qps').textContent().then((text) => Number.parseFloat(text));
    const first = await qps();
    await waitFor('QPS moves while the load runs', async () => (await qps()) !== first, 20_000);
    await page.screenshot({ path: path.join(artifactsDir, 'serving-instance.png'), fullPage: true });

    // Scale to 3, then back to 1, while the load runs: no request fails.
    await page.getByTestId('serving-scale').click();
    await page.getByTestId('scale-replicas').fill('3');
    await page.getByTestId('scale-submit').click();
    await expectText(page.getByTestId('serving-instance-replicas'), '3/3', READY_TIMEOUT_MS);
    await page.getByTestId('serving-scale').click();
    await page.getByTestId('scale-replicas').fill('1');
    await page.getByTestId('scale-submit').click();
    await expectText(page.getByTestId('serving-instance-replicas'), '1/1', READY_TIMEOUT_MS);
    await waitFor('one replica listed', async () => (await page.getByTestId('serving-replica').count()) === 1);
  } finally {
    const counts = await load.stop();
    assert.ok(counts.ok > 0, `the load got answers: ${JSON.stringify(counts)}`);
    assert.equal(counts.failed, 0, `no request failed while scaling: ${JSON.stringify(counts)}`);
  }

  // The table lists it with its stats and URL.
  await page.goto(url('/serving'));
  const row = page.getByTestId('serving-row').filter({ has: page.getByTestId('serving-link').filter({ hasText: NAME }) });
  await expectText(row.getByTestId('serving-replicas'), '1/1');
  await expectText(row.getByTestId('serving-row-runtime'), 'onnx');
  assert.equal(await row.getByTestId('serving-url').getAttribute('data-text'), gatewayUrl);
  await expectText(row.getByTestId('serving-url'), `/serving/${USER.accountId}/${NAME}`);
  await page.screenshot({ path: path.join(artifactsDir, 'serving-list.png'), fullPage: true });

  // Deactivate from the row's menu: inactive, no replica; the gateway answers 503.
  await row.getByTestId('serving-menu').click();
  await page.getByTestId('serving-menu-deactivate').click();
  await waitFor('the row is inactive', async () => (await row.getAttribute('data-state')) === 'inactive');
  await expectText(row.getByTestId('serving-replicas'), /0\/\d/);
  const inactive = await fetch(`${gatewayUrl}/v2/health/ready`, { headers: { Authorization: `Bearer ${shared.token}` } });
  assert.equal(inactive.status, 503);
  await page.getByTestId('serving-link').filter({ hasText: NAME }).click();
  await page.waitForURL(url(`/serving/${NAME}`));
  await expectVisible(page.getByTestId('serving-no-replicas'));
  await expectVisible(page.getByTestId('serving-activate'));
  assert.deepEqual(problems, []);
});

test("another account gets no such instance for the first account's instance, and 404 from the gateway; no credential gets 401", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, problems } = await suite.signIn(t, OTHER, { allowConsole: [/404/] });
  await page.goto(url(`/serving/${NAME}`));
  await expectVisible(page.getByTestId('serving-not-found'));
  const created = await api(page, 'POST', '/api/v1/me/tokens', { name: 'other', scope: 'invoke' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const theirs = await fetch(url(`/serving/${USER.accountId}/${NAME}/v2/health/ready`), { headers: { Authorization: `Bearer ${created.body.token}` } });
  assert.equal(theirs.status, 404);
  const anonymous = await fetchJson(url(`/serving/${USER.accountId}/${NAME}/v2/health/ready`));
  assert.equal(anonymous.status, 401);
  // The other account's table is empty.
  await page.getByTestId('nav-serving').click();
  await expectVisible(page.getByTestId('serving-empty'));
  assert.deepEqual(problems, []);
});

test('the Launch dialog uploads a .tar.gz with progress and serves it', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, problems } = await suite.signIn(t, USER);
  await page.goto(url('/serving'));
  await page.getByTestId('serving-launch').click();
  await page.getByTestId('serving-upload').setInputFiles(shared.tarball);
  const progress = page.getByTestId('serving-upload-progress').getByTestId('upload-item');
  await waitFor('the upload is done', async () => (await progress.getAttribute('data-state')) === 'done');
  assert.equal(await progress.getAttribute('data-progress'), '100');
  assert.equal(await page.getByTestId('serving-model').inputValue(), 'models/fit_a_line_tgz.tar.gz');
  assert.equal(await page.getByTestId('serving-name').inputValue(), 'fit-a-line-tgz');
  await page.getByTestId('serving-cpu_total').fill('250m');
  await page.getByTestId('serving-cpu').fill('250m');
  await page.getByTestId('serving-memory').fill('256Mi');
  await page.getByTestId('launch-submit').click();
  await page.waitForURL(url('/serving/fit-a-line-tgz'));
  await expectText(page.getByTestId('serving-instance-replicas'), '1/1', READY_TIMEOUT_MS);
  await expectText(page.getByTestId('serving-try-signature'), /x FP32/);
  await page.getByTestId('serving-try-send').click();
  await expectText(page.getByTestId('serving-try-status'), 'HTTP 200');

  // Delete: it leaves the table.
  await page.getByTestId('serving-delete').click();
  await page.getByTestId('delete-dialog-confirm').click();
  await page.waitForURL(url('/serving'));
  await expectVisible(page.getByTestId('serving-table'));
  assert.equal(await page.getByTestId('serving-row').filter({ has: page.getByTestId('serving-link').filter({ hasText: 'fit-a-line-tgz' }) }).count(), 0);
  assert.deepEqual(problems, []);
});
