// Browser tests of the Job Dashboard against the real server (local cluster backend: real processes)
// and a real SMTP server (to verify the user): submit a distributed job from the UI, watch it go from
// Pending/Running to Succeeded without reloading, follow its pods' logs live in the docked console,
// open its detail page; a bad spec gets an inline error; a long job is stopped from the table.
//
//   npm run build && PADDLECLOUD_WEB_DIR=dist PADDLECLOUD_BIN=/path/to/paddlecloud npm run e2e
//
// The real example, examples/fit_a_line (a parameter-server linear regression), is submitted with its
// code: the folder is chosen in the form, packed in the browser and uploaded.
//
// Screenshots: e2e/artifacts/jobs-dashboard-log.png (the table with the log console open),
// jobs-detail.png, jobs-submit-error.png, jobs-submit-code.png (the form with the example folder chosen),
// jobs-fit-a-line-log.png.

import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import {
  artifactsDir,
  expectHidden,
  expectText,
  expectVisible,
  fillFitALineForm,
  fitALineDir,
  useSuite,
} from './helpers.mjs';

/** Jobs start real processes and take seconds: wait generously for them. */
const JOB_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT_MS = 180_000;

const USER = {
  email: 'grace.trainer@example.com',
  password: 'gradients flow downhill 7',
  accountId: 'grace-lab',
  displayName: 'Grace Trainer',
};

// Prints 40 lines, 0.2 s apart, naming the pod's role (TRAINER or PSERVER).
const ENTRY =
  'python3 -c "import time,os\n' +
  "for i in range(40): print('pass', i, 'cost', 100-i, os.environ['PADDLE_TRAINING_ROLE'], flush=True); time.sleep(0.2)\"";

// Its users are registered through the API and verified with the links from the real mails.
const suite = useSuite('paddlecloud-e2e-jobs-', [USER]);
const { url } = suite;

/** Fills the submit form (on /jobs/new) and sends it. */
async function fillJobForm(page, { name, entry, trainers = 1, pservers = 0, cpu = '100m', mem = '64Mi', psMem = mem }) {
  await page.getByTestId('job-name').fill(name);
  await page.getByTestId('job-entry').fill(entry);
  await page.getByTestId('job-num_trainer').fill(String(trainers));
  await page.getByTestId('job-cpu_per_trainer').fill(cpu);
  await page.getByTestId('job-mem_per_trainer').fill(mem);
  await page.getByTestId('job-num_ps').fill(String(pservers));
  await page.getByTestId('job-cpu_per_ps').fill(cpu);
  await page.getByTestId('job-mem_per_ps').fill(psMem);
  await page.getByTestId('job-submit').click();
}

/** The id of the job whose page is open (/jobs/<id>). */
async function submittedJobId(page) {
  await page.waitForURL(/\/jobs\/\d+$/, { timeout: JOB_TIMEOUT_MS });
  return Number(new URL(page.url()).pathname.split('/').pop());
}

const jobRow = (page, name) => page.locator(`[data-testid="job-row"][data-job-name="${name}"]`);

/** The log console's text split into non-empty lines. */
async function logLines(page) {
  const text = (await page.getByTestId('log-text').textContent()) ?? '';
  return text.split('\n').filter((line) => line.trim() !== '');
}

test('a distributed job submitted from the UI runs live in the table, with its logs in the console', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, problems } = await suite.signIn(t, USER);

  // Nothing yet: the empty state explains how to submit.
  await expectVisible(page.getByTestId('jobs-empty'));
  await expectText(page.getByTestId('empty-sdk'), /create_cloud_job\(/);
  assert.deepEqual((await page.getByTestId('nav').getByRole('link').allTextContents()).map((text) => text.replace(/ \(.*\)$/, '')), ['Jobs', 'Board', 'Notebook', 'Serving', 'Quota', 'Datasets', 'Models', 'Public', 'Shared with me', 'Settings', 'Status']); // the notebook's state follows its name

  await page.getByTestId('empty-submit').click();
  await page.waitForURL(url('/jobs/new'));
  await fillJobForm(page, { name: 'dist-demo', entry: ENTRY, trainers: 2, pservers: 1 });
  const id = await submittedJobId(page);
  await expectText(page.getByTestId('job-name'), 'dist-demo');

  // To the table through the app (no page load from here on: the marker would be lost).
  await page.evaluate(() => {
    window.__sameDocument = true;
  });
  await page.getByTestId('nav-jobs').click();
  await page.waitForURL(url('/dashboard'));
  const row = jobRow(page, 'dist-demo');
  await expectVisible(row);
  assert.equal(await row.getAttribute('data-job-id'), String(id));
  assert.match(await row.getAttribute('data-state'), /^(Pending|Running)$/);
  // Stop is in the row's actions menu, which opens from the keyboard and closes on Escape.
  await row.getByTestId('job-menu').focus();
  await page.keyboard.press('ArrowDown');
  await expectVisible(row.getByTestId('job-stop'));
  assert.equal(await row.getByTestId('job-menu').getAttribute('aria-expanded'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'job-details');
  await page.keyboard.press('Escape');
  await expectHidden(row.getByTestId('job-stop'));

  // It runs (the table updates itself).
  await expectVisible(page.locator('[data-testid="job-row"][data-job-name="dist-demo"][data-state="Running"]'), JOB_TIMEOUT_MS);

  // The log console: the first pod (trainer-0) shows its tail, and new lines arrive while watching.
  await row.getByTestId('job-log').click();
  const console_ = page.getByTestId('log-console');
  await expectVisible(console_);
  await expectText(page.getByTestId('log-current-pod'), /trainer-0$/);
  assert.equal(await page.getByTestId('log-pod').first().getAttribute('aria-current'), 'true');
  assert.deepEqual(
    (await page.getByTestId('log-pod').allTextContents()).map((s) => s.trim()),
    ['trainer-0', 'trainer-1', 'pserver-0'],
  );
  await expectText(page.getByTestId('log-text'), /pass \d+ cost \d+ TRAINER/, JOB_TIMEOUT_MS);
  const before = (await logLines(page)).length;
  await page.waitForFunction(
    (n) => {
      const text = document.querySelector('[data-testid="log-text"]')?.textContent ?? '';
      return text.split('\n').filter((line) => line.trim() !== '').length > n;
    },
    before,
    { timeout: JOB_TIMEOUT_MS },
  );
  const grown = await logLines(page);
  assert.ok(grown.length > before, `log lines grew from ${before} to ${grown.length}`);
  // The program's lines (the platform adds its own "[paddlecloud] ..." lines).
  const passes = (lines) => lines.filter((line) => line.startsWith('pass '));
  assert.ok(passes(grown).length > 0 && passes(grown).every((line) => /TRAINER$/.test(line)), `trainer lines: ${grown.join(' | ')}`);
  await page.screenshot({ path: path.join(artifactsDir, 'jobs-dashboard-log.png') });

  // The console's height can be dragged.
  const tall = (await console_.boundingBox()).height;
  const grip = await page.getByTestId('log-resize').boundingBox();
  await page.mouse.move(grip.x + grip.width / 2, grip.y + grip.height / 2);
  await page.mouse.down();
  await page.mouse.move(grip.x + grip.width / 2, grip.y + grip.height / 2 - 120, { steps: 4 });
  await page.mouse.up();
  const taller = (await console_.boundingBox()).height;
  assert.ok(taller > tall + 100, `the console grew from ${tall} px to ${taller} px`);

  // Another pod: its own lines only.
  await page.locator('[data-testid="log-pod"][data-pod$="pserver-0"]').click();
  await expectText(page.getByTestId('log-current-pod'), /pserver-0$/);
  await expectText(page.getByTestId('log-text'), /pass \d+ cost \d+ PSERVER/, JOB_TIMEOUT_MS);
  const pserverLines = await logLines(page);
  assert.ok(
    passes(pserverLines).every((line) => /PSERVER$/.test(line)),
    `no trainer lines in the pserver log: ${pserverLines.join(' | ')}`,
  );

  // Both trainers succeed; the platform stops the pserver and the job ends Succeeded, live.
  await expectVisible(page.locator('[data-testid="job-row"][data-job-name="dist-demo"][data-state="Succeeded"]'), JOB_TIMEOUT_MS);
  await expectText(row.getByTestId('job-succeeded'), '2');
  await expectText(row.getByTestId('job-failed'), '0');
  assert.equal(await row.getByTestId('job-stop').count(), 0, 'an ended job has no stop button');
  await expectVisible(page.locator('[data-testid="log-status"][data-status="ended"]'), JOB_TIMEOUT_MS);

  // Back on the first trainer: its whole run is there.
  await page.locator('[data-testid="log-pod"][data-pod$="trainer-0"]').click();
  await expectText(page.getByTestId('log-text'), /pass 39 cost 61 TRAINER/, JOB_TIMEOUT_MS);
  assert.match(
    await page.getByTestId('log-download').getAttribute('href'),
    new RegExp(`^/api/v1/jobs/${id}/pods/[^/]+trainer-0/logs\\?download=true$`),
  );
  await page.getByTestId('log-close').click();
  assert.equal(await console_.count(), 0);

  // The job's page: spec, pods and events.
  await row.getByTestId('job-link').click();
  await page.waitForURL(url(`/jobs/${id}`));
  await expectText(page.getByTestId('job-detail-state'), 'Succeeded');
  await expectText(page.getByTestId('job-trainers'), /2 trainers × 100m CPU, 64Mi memory/);
  await expectText(page.getByTestId('job-pservers'), /1 pserver × 100m CPU, 64Mi memory/);
  const pods = page.getByTestId('pod-row');
  assert.equal(await pods.count(), 3);
  for (const trainer of await page.locator('[data-testid="pod-row"][data-pod*="trainer"]').all()) {
    assert.equal(await trainer.getAttribute('data-phase'), 'Succeeded');
    await expectText(trainer.getByTestId('pod-exit-code'), '0');
  }
  // The pserver the platform stopped once training was over completed its part: no red pod.
  assert.equal(await page.locator('[data-testid="pod-row"][data-phase="Failed"]').count(), 0);
  assert.equal(await page.locator('[data-testid="pod-row"][data-pod*="pserver"]').getAttribute('data-phase'), 'Succeeded');
  await expectVisible(page.locator('[data-testid="job-event"][data-type="Submitted"]'));
  await expectVisible(page.locator('[data-testid="job-event"][data-type="Succeeded"]'));
  assert.ok((await page.getByTestId('job-event').count()) >= 5, 'submitted, scheduled, started, exited, succeeded');

  await page.screenshot({ path: path.join(artifactsDir, 'jobs-detail.png'), fullPage: true });

  // The console opens here too, on the pod asked for.
  await page.locator('[data-testid="pod-row"][data-pod$="trainer-1"]').getByTestId('pod-log').click();
  await expectText(page.getByTestId('log-current-pod'), /trainer-1$/);
  await expectText(page.getByTestId('log-text'), /pass 39 cost 61 TRAINER/, JOB_TIMEOUT_MS);
  await expectVisible(page.locator('[data-testid="log-status"][data-status="ended"]'), JOB_TIMEOUT_MS);

  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was never reloaded');
  assert.deepEqual(problems, []);
});

const EXAMPLE_DIR = fitALineDir;
/** Passes over each trainer's shard and the learning rate: a run of some seconds whose cost still falls. */
const FIT_ENV = { FIT_PASSES: '800', FIT_LR: '0.002' };

/** The files the form packs from a folder (what it skips: .git/, __pycache__/, *.pyc). */
async function packedFiles(dir, prefix = '') {
  const found = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === '.git' || entry.name === '__pycache__') continue;
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) found.push(...(await packedFiles(path.join(dir, entry.name), rel)));
    else if (entry.isFile() && !entry.name.endsWith('.pyc')) found.push(rel);
  }
  return found;
}

/** The numbers of the `pass N cost X` lines of a log text. */
function passCosts(text) {
  return [...text.matchAll(/^pass (\d+) cost ([0-9.eE+-]+)$/gm)].map((m) => ({ pass: Number(m[1]), cost: Number(m[2]) }));
}

test('the fit_a_line example, submitted with its code from the UI, trains and its cost falls', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, problems } = await suite.signIn(t, USER);
  await page.getByTestId('new-job').click();
  await page.waitForURL(url('/jobs/new'));

  await fillFitALineForm(page, 'fit-a-line', FIT_ENV);

  // The example's folder, chosen with the folder picker, is shown with its files and size.
  const files = await packedFiles(EXAMPLE_DIR);
  let bytes = 0;
  for (const file of files) bytes += (await stat(path.join(EXAMPLE_DIR, file))).size;
  assert.ok(files.includes('train.py'), `files: ${files}`);
  await expectText(page.getByTestId('job-code-folder'), 'fit_a_line');
  await expectText(page.getByTestId('job-code-files'), `${files.length} files`);
  await expectText(page.getByTestId('job-code-size'), /\d+(\.\d)? KiB/);
  assert.equal(await page.getByTestId('job-workdir').count(), 0, 'with code, no working folder');
  await page.getByTestId('job-code').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(artifactsDir, 'jobs-submit-code.png') });

  // Submit: the archive goes to /api/v1/jobs/packages first, then the spec names the package.
  const uploaded = page.waitForResponse((r) => r.url().endsWith('/api/v1/jobs/packages') && r.request().method() === 'POST');
  const submitted = page.waitForRequest((r) => r.url().endsWith('/api/v1/jobs') && r.method() === 'POST');
  await page.getByTestId('job-submit').click();
  const upload = await uploaded;
  assert.equal(upload.status(), 201);
  assert.equal(upload.request().headers()['content-type'], 'application/x-tar');
  const pkg = await upload.json();
  assert.match(pkg.package, /^pkg_/);
  assert.equal(pkg.files, files.length);
  assert.equal(pkg.bytes, bytes);
  const spec = (await submitted).postDataJSON();
  assert.equal(spec.package, pkg.package);
  assert.equal(spec.workdir, undefined);
  assert.deepEqual(spec.env, FIT_ENV);
  const id = await submittedJobId(page);

  await page.evaluate(() => {
    window.__sameDocument = true;
  });
  await page.getByTestId('nav-jobs').click();
  await page.waitForURL(url('/dashboard'));
  const row = jobRow(page, 'fit-a-line');
  await expectVisible(row);
  assert.equal(await row.getAttribute('data-job-id'), String(id));
  await expectVisible(page.locator('[data-testid="job-row"][data-job-name="fit-a-line"][data-state="Running"]'), JOB_TIMEOUT_MS);

  // The first trainer's log: pass lines, and more of them while watching.
  await row.getByTestId('job-log').click();
  await expectText(page.getByTestId('log-current-pod'), /trainer-0$/);
  await expectText(page.getByTestId('log-text'), /pass \d+ cost [0-9.]+/, JOB_TIMEOUT_MS);
  const seen = passCosts((await page.getByTestId('log-text').textContent()) ?? '');
  const lastSeen = seen.at(-1)?.pass ?? -1;
  await page.waitForFunction(
    (n) => {
      const text = document.querySelector('[data-testid="log-text"]')?.textContent ?? '';
      const passes = [...text.matchAll(/^pass (\d+) cost/gm)].map((m) => Number(m[1]));
      return passes.length > 0 && Math.max(...passes) > n;
    },
    lastSeen,
    { timeout: JOB_TIMEOUT_MS },
  );
  const running = await row.getAttribute('data-state');
  t.diagnostic(`trainer-0 at pass ${lastSeen} when the console opened; the job was ${running} after new lines came`);
  await page.screenshot({ path: path.join(artifactsDir, 'jobs-fit-a-line-log.png') });

  // The second trainer: its own log, with its own pass lines.
  await page.locator('[data-testid="log-pod"][data-pod$="trainer-1"]').click();
  await expectText(page.getByTestId('log-current-pod'), /trainer-1$/);
  await expectText(page.getByTestId('log-text'), /pass \d+ cost [0-9.]+/, JOB_TIMEOUT_MS);

  // Both trainers finish; the job ends Succeeded, live.
  await expectVisible(page.locator('[data-testid="job-row"][data-job-name="fit-a-line"][data-state="Succeeded"]'), JOB_TIMEOUT_MS);
  await expectText(row.getByTestId('job-succeeded'), '2');
  await expectText(row.getByTestId('job-failed'), '0');

  // Trainer 0 again: the run ended with the last pass and the final cost.
  const passes = Number(FIT_ENV.FIT_PASSES);
  await page.locator('[data-testid="log-pod"][data-pod$="trainer-0"]').click();
  await expectText(page.getByTestId('log-current-pod'), /trainer-0$/);
  await expectText(page.getByTestId('log-text'), new RegExp(`pass ${passes - 1} cost [0-9.]+`), JOB_TIMEOUT_MS);
  await expectText(page.getByTestId('log-text'), /final cost [0-9.]+/, JOB_TIMEOUT_MS);

  // The cost fell: the whole log (the console's download link) from pass 0 to the last pass.
  const href = await page.getByTestId('log-download').getAttribute('href');
  const whole = await page.evaluate(async (u) => (await fetch(u)).text(), href);
  const costs = passCosts(whole);
  assert.deepEqual(
    costs.map((c) => c.pass),
    Array.from({ length: passes }, (_, i) => i),
    'every pass is in the log, in order',
  );
  const first = costs[0].cost;
  const last = costs.at(-1).cost;
  t.diagnostic(`trainer-0 cost: pass 0 ${first}, pass ${passes - 1} ${last}`);
  assert.ok(last < first / 5, `the cost fell from ${first} to ${last}`);
  // The console's own text agrees with the file on the passes it shows.
  const shown = passCosts((await page.getByTestId('log-text').textContent()) ?? '');
  assert.ok(shown.length > 0 && shown.every((c) => costs[c.pass]?.cost === c.cost), 'the console shows the log file’s lines');

  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was never reloaded');
  assert.deepEqual(problems, []);
});

test('“Submit again” of a job with uploaded code runs the same code again', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, problems } = await suite.signIn(t, USER);
  await page.getByTestId('new-job').click();
  await page.waitForURL(url('/jobs/new'));
  for (const [field, value] of Object.entries({
    name: 'fit-again',
    entry: 'python3 train.py',
    num_trainer: '1',
    cpu_per_trainer: '100m',
    mem_per_trainer: '256Mi',
    num_ps: '1',
    cpu_per_ps: '100m',
    mem_per_ps: '256Mi',
  })) {
    await page.getByTestId(`job-${field}`).fill(value);
  }
  await page.getByTestId('job-env-add').click();
  await page.getByTestId('job-env-key-0').fill('FIT_PASSES');
  await page.getByTestId('job-env-value-0').fill('20');
  await page.getByTestId('job-package-input').setInputFiles(EXAMPLE_DIR);
  await expectText(page.getByTestId('job-code-folder'), 'fit_a_line');
  // The form says what the cluster has free, and that this small job fits.
  await expectText(page.getByTestId('job-capacity-free'), /^Free now: [\d.]+ CPUs?, [\d.]+ (KiB|MiB|GiB) memory, \d+ GPUs?$/);
  assert.equal(await page.getByTestId('job-capacity').getAttribute('data-fit'), 'now');
  await page.getByTestId('job-submit').click();
  const first = await submittedJobId(page);
  await expectText(page.getByTestId('job-code-origin'), /uploaded: package pkg_/);
  await expectText(page.getByTestId('job-detail-state'), 'Succeeded', JOB_TIMEOUT_MS);
  // Its only pod ran, however briefly: the job has a start time.
  await expectText(page.getByTestId('job-started-at'), /\d/);

  await page.getByTestId('job-resubmit').click();
  await page.waitForURL(url(`/jobs/new?from=${first}`));
  await expectText(page.getByTestId('job-code-from'), new RegExp(`fit-again.*#${first}.*package pkg_`));
  assert.equal(await page.getByTestId('job-workdir').count(), 0, 'the earlier code, not a working folder');
  const submitted = page.waitForRequest((r) => r.url().endsWith('/api/v1/jobs') && r.method() === 'POST');
  await page.getByTestId('job-submit').click();
  assert.equal((await submitted).postDataJSON().code_from_job, first);
  const again = await submittedJobId(page);
  assert.notEqual(again, first);
  await expectText(page.getByTestId('job-code-origin'), new RegExp(`uploaded: a copy of job #${first}\\b`));
  await expectText(page.getByTestId('job-detail-state'), 'Succeeded', JOB_TIMEOUT_MS);
  const log = await page.evaluate(
    async (u) => (await (await fetch(u)).json()).text,
    `/api/v1/jobs/${again}/pods/fit-again-${again}-trainer-0/logs?tail=20`,
  );
  assert.match(log, /final cost [0-9.]+/, 'the copied train.py ran');
  assert.doesNotMatch(log, /can't open file/);
  assert.deepEqual(problems, []);
});

test('a bad spec gets the server’s error next to the memory field', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, problems } = await suite.signIn(t, USER, {
    allowConsole: [/status of 400 .* @ \S+\/api\/v1\/jobs$/],
  });
  await page.getByTestId('new-job').click();
  await page.waitForURL(url('/jobs/new'));
  await fillJobForm(page, { name: 'bad-spec', entry: 'true', mem: 'lots', psMem: '64Mi' });
  await expectText(page.getByTestId('job-mem_per_trainer-error'), /mem_per_trainer|memory|quantity/i);
  assert.equal(await page.getByTestId('job-mem_per_trainer').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.getByTestId('job-form-error').count(), 0, 'a field error is not repeated in the banner');
  assert.equal(new URL(page.url()).pathname, '/jobs/new');
  await page.getByTestId('job-mem_per_trainer').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(artifactsDir, 'jobs-submit-error.png') });

  // Fixed, it goes through.
  await page.getByTestId('job-mem_per_trainer').fill('64Mi');
  await page.getByTestId('job-submit').click();
  await submittedJobId(page);
  assert.deepEqual(problems, []);
});

test('a long-running job is stopped from the table', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, problems } = await suite.signIn(t, USER);
  await page.getByTestId('new-job').click();
  await fillJobForm(page, { name: 'sleeper', entry: 'sleep 600' });
  await submittedJobId(page);

  await page.getByTestId('nav-jobs').click();
  const row = jobRow(page, 'sleeper');
  await expectVisible(page.locator('[data-testid="job-row"][data-job-name="sleeper"][data-state="Running"]'), JOB_TIMEOUT_MS);

  // The filters: it is running, and not among the succeeded ones.
  await page.getByTestId('filter-status-succeeded').click();
  await page.waitForURL(url('/dashboard?status=succeeded'));
  await expectVisible(jobRow(page, 'dist-demo'));
  assert.equal(await row.count(), 0);
  await page.getByTestId('filter-status-running').click();
  await expectVisible(row);
  await page.getByTestId('filter-name').fill('sleep');
  await page.waitForURL(url('/dashboard?status=running&name=sleep'));
  await expectVisible(row);
  await page.getByTestId('filter-clear').click();
  await page.waitForURL(url('/dashboard'));

  // Stop (in the row's actions menu) asks first; cancelling leaves the job alone.
  await row.getByTestId('job-menu').click();
  await row.getByTestId('job-stop').click();
  await expectVisible(page.getByTestId('stop-dialog'));
  await page.getByTestId('stop-dialog-cancel').click();
  assert.equal(await row.getAttribute('data-state'), 'Running');

  await row.getByTestId('job-menu').click();
  await row.getByTestId('job-stop').click();
  await page.getByTestId('stop-dialog-confirm').click();
  await expectVisible(page.locator('[data-testid="job-row"][data-job-name="sleeper"][data-state="Stopped"]'), JOB_TIMEOUT_MS);
  await expectText(row.getByTestId('job-state'), 'Stopped');
  assert.equal(await row.getByTestId('job-stop').count(), 0);

  await page.getByTestId('filter-status-stopped').click();
  await expectVisible(row);
  assert.deepEqual(problems, []);
});
