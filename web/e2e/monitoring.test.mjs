// Browser test of resource monitoring against the real server (local cluster backend: real processes,
// usage sampled every second) and a real SMTP server (to verify the user): the examples/fit_a_line job,
// submitted with its code from the UI, is watched on its perf page (opened from the dashboard row's
// Perf link) while its CPU and memory charts grow live; dragging across a chart zooms in; the quota
// page shows its CPU in use, then none once it is stopped, and the CPU time it was charged.
//
//   npm run build && PADDLECLOUD_WEB_DIR=dist PADDLECLOUD_BIN=/path/to/paddlecloud npm run e2e
//
// The job trains for many passes and is stopped by the test, so that it is surely still running while
// the charts and the quota are looked at, whatever the machine's speed.
//
// Screenshots: e2e/artifacts/monitoring-perf.png (the perf page of the running job),
// monitoring-quota.png (the quota page while it runs).

import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { artifactsDir, expectText, expectTitle, expectVisible, fillFitALineForm, useSuite } from './helpers.mjs';

/** Jobs start real processes and take seconds: wait generously for them. */
const JOB_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT_MS = 240_000;

const USER = {
  email: 'mary.monitor@example.com',
  password: 'watch the cores burn 42',
  accountId: 'mary-lab',
  displayName: 'Mary Monitor',
};

const JOB_NAME = 'fit-a-line-usage';
/** Far more passes than the test waits for: the job trains until the test stops it. */
const FIT_ENV = { FIT_PASSES: '1000000', FIT_LR: '0.002' };
/** What the job asks for: 2 trainers and 1 pserver of 200m each. */
const JOB_CPU_CORES = 0.6;

const suite = useSuite('paddlecloud-e2e-monitoring-', [USER], undefined, { serverArgs: ['--usage-interval', '1s'] });
const { url } = suite;

/** Submits examples/fit_a_line with its code from the form (as e2e/jobs.test.mjs does); resolves with the job's id. */
async function submitFitALine(page) {
  await page.getByTestId('new-job').click();
  await page.waitForURL(url('/jobs/new'));
  await fillFitALineForm(page, JOB_NAME, FIT_ENV);
  await expectText(page.getByTestId('job-code-folder'), 'fit_a_line');
  await page.getByTestId('job-submit').click();
  await page.waitForURL(/\/jobs\/\d+$/, { timeout: JOB_TIMEOUT_MS });
  return Number(new URL(page.url()).pathname.split('/').pop());
}

/** The samples a perf chart draws now (its figure's data-points). */
async function chartPoints(page, chart) {
  return Number((await page.getByTestId(`chart-${chart}`).getAttribute('data-points')) ?? 0);
}

/** Waits until the perf chart `chart` draws more than `than` samples. */
async function waitForMorePoints(page, chart, than) {
  await page.waitForFunction(
    ([id, n]) => Number(document.querySelector(`[data-testid="chart-${id}"]`)?.getAttribute('data-points') ?? 0) > n,
    [chart, than],
    { timeout: JOB_TIMEOUT_MS },
  );
}

/** Waits until the quota bar `key` (cpu, running_jobs, …) shows an amount in use that `want` accepts: 'some' or 'none'. */
async function waitForInUse(page, key, want) {
  await page.waitForFunction(
    ([bar, expected]) => {
      const text = document.querySelector(`[data-testid="quota-${bar}"]`)?.getAttribute('data-used');
      if (text === null || text === undefined) return false;
      return expected === 'none' ? Number(text) === 0 : Number(text) > 0;
    },
    [key, want],
    { timeout: JOB_TIMEOUT_MS },
  );
}

test('fit_a_line’s usage: perf charts grow live and zoom, quota in use rises and falls, CPU time is charged', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, problems } = await suite.signIn(t, USER);
  const id = await submitFitALine(page);

  // The dashboard row's Perf link (stop / log / perf) opens the job's perf page.
  await page.getByTestId('nav-jobs').click();
  await page.waitForURL(url('/dashboard'));
  const running = page.locator(`[data-testid="job-row"][data-job-name="${JOB_NAME}"][data-state="Running"]`);
  await expectVisible(running, JOB_TIMEOUT_MS);
  const perfLink = running.getByTestId('job-perf');
  assert.equal(await perfLink.getAttribute('href'), `/jobs/${id}/perf`);
  await perfLink.click();
  await page.waitForURL(url(`/jobs/${id}/perf`));
  await expectTitle(page, `Performance of ${JOB_NAME} · Jobs · PaddleCloud`);
  await expectVisible(page.locator('[data-testid="perf-live"][data-live="true"]'), JOB_TIMEOUT_MS);

  // The first samples draw the charts; live samples make them grow.
  await waitForMorePoints(page, 'cpu', 0);
  await waitForMorePoints(page, 'memory', 0);
  const cpuBefore = await chartPoints(page, 'cpu');
  const memoryBefore = await chartPoints(page, 'memory');
  await waitForMorePoints(page, 'cpu', cpuBefore);
  await waitForMorePoints(page, 'memory', memoryBefore);
  t.diagnostic(`CPU chart: ${cpuBefore} -> ${await chartPoints(page, 'cpu')} samples; memory: ${memoryBefore} -> ${await chartPoints(page, 'memory')}`);
  // The legend: the whole job and its three pods; the charts have a name and a text summary.
  await expectVisible(page.getByTestId('perf-legend').locator('input[type="checkbox"]').nth(3));
  assert.equal(await page.getByTestId('perf-legend').locator('input[type="checkbox"]').count(), 4);
  assert.match((await page.getByTestId('chart-cpu-plot').getAttribute('aria-label')) ?? '', /^CPU chart/);
  await expectText(page.getByTestId('chart-cpu-summary'), /trainer-0: latest [0-9.]+ cores?, peak/);
  await expectText(page.getByTestId('chart-memory-summary'), /trainer-0: latest [0-9.]+ (B|KiB|MiB|GiB), peak/);
  await expectVisible(page.getByTestId('chart-disk-read'));
  await page.screenshot({ path: path.join(artifactsDir, 'monitoring-perf.png'), fullPage: true });

  // Dragging across the CPU chart asks for that window at finer resolution; Reset zoom goes back.
  const over = page.getByTestId('chart-cpu-plot').locator('.u-over');
  const box = await over.boundingBox();
  assert.ok(box, 'the CPU chart has a plot area');
  const zoomAsked = page.waitForRequest((request) => {
    const asked = new URL(request.url());
    return asked.pathname === `/api/v1/jobs/${id}/usage` && asked.searchParams.has('from') && asked.searchParams.has('to');
  });
  await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 8 });
  await page.mouse.up();
  const zoomQuery = new URL((await zoomAsked).url()).searchParams;
  assert.ok(Number(zoomQuery.get('from')) < Number(zoomQuery.get('to')), `from ${zoomQuery.get('from')} to ${zoomQuery.get('to')}`);
  assert.ok(Number(zoomQuery.get('points')) >= 50, `points ${zoomQuery.get('points')}`);
  await expectVisible(page.locator('[data-testid="perf-charts"][data-zoomed="true"]'));
  await page.getByTestId('perf-zoom-reset').click();
  await expectVisible(page.locator('[data-testid="perf-charts"][data-zoomed="false"]'));

  // The quota page: the job's CPU is in use, refreshed live.
  await page.getByTestId('nav-quota').click();
  await page.waitForURL(url('/quota'));
  await expectTitle(page, 'Quota · PaddleCloud');
  await waitForInUse(page, 'cpu', 'some');
  await waitForInUse(page, 'running_jobs', 'some');
  const cpuInUse = Number(await page.getByTestId('quota-cpu').getAttribute('data-used'));
  assert.ok(Math.abs(cpuInUse - JOB_CPU_CORES) < 1e-6, `CPU in use: ${cpuInUse}`);
  await expectText(page.getByTestId('quota-cpu-text'), /^0\.6 cores/);
  await page.screenshot({ path: path.join(artifactsDir, 'monitoring-quota.png'), fullPage: true });

  // Stop the job without leaving the page (as the CLI would): the bars fall back to nothing in use.
  const stopStatus = await page.evaluate(async (jobId) => {
    const session = await (await fetch('/api/v1/session')).json();
    const answer = await fetch(`/api/v1/jobs/${jobId}/stop`, { method: 'POST', headers: { 'X-CSRF-Token': session.csrf_token } });
    return answer.status;
  }, id);
  assert.ok(stopStatus === 200 || stopStatus === 202, `stop answered ${stopStatus}`);
  await waitForInUse(page, 'cpu', 'none');
  await waitForInUse(page, 'running_jobs', 'none');

  // The CPU time it used is charged: over the last day, and to this user.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="usage-cpu-1d"]')?.getAttribute('data-seconds') ?? 0) > 0, undefined, {
    timeout: JOB_TIMEOUT_MS,
  });
  await expectVisible(page.locator(`[data-testid="usage-user"][data-user="${USER.email}"]`));
  assert.equal(await page.getByTestId('daily-bar').count(), 30);

  // The ended job's graphs stay viewable.
  await page.goto(url(`/jobs/${id}/perf`));
  await expectVisible(page.locator('[data-testid="perf-live"][data-live="false"]'), JOB_TIMEOUT_MS);
  await waitForMorePoints(page, 'cpu', 0);
  await expectVisible(page.getByTestId('chart-memory'));

  assert.deepEqual(problems, []);
});
