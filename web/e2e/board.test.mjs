// Browser test of the Paddle Board against the real server (local cluster backend: real processes): the
// examples/fit_a_line job, submitted with its code from the UI, draws its cost with draw_board at every
// step; its board (opened from the dashboard row's Board link) shows the graph "cost" growing live
// without a reload; the smoothing slider, the wall-time x axis and a drag to zoom ask the server again;
// a double-click resets the zoom. A second fit_a_line job is then compared with the first on /board.
//
//   npm run build && PADDLECLOUD_WEB_DIR=dist PADDLECLOUD_BIN=/path/to/paddlecloud npm run e2e
//
// The jobs train for many passes and are stopped by the test, so that they surely still draw while the
// board is looked at, whatever the machine's speed. The SDK is put on the pods' PYTHONPATH (train.py
// draws only where `paddlecloud` imports).
//
// Screenshots: e2e/artifacts/board-job.png (the running job's board), board-compare.png (two jobs).

import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { artifactsDir, expectText, expectTitle, expectVisible, fillFitALineForm, repoDir, useSuite } from './helpers.mjs';

/** Jobs start real processes and take seconds: wait generously for them. */
const JOB_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT_MS = 300_000;

const USER = {
  email: 'bob.board@example.com',
  password: 'curves all the way down 7',
  accountId: 'bob-lab',
  displayName: 'Bob Board',
};

const JOB_NAME = 'fit-a-line-board';
const SECOND_NAME = 'fit-a-line-board-2';
/** Far more passes than the test waits for: the jobs train until the test stops them. */
const FIT_ENV = { FIT_PASSES: '1000000', FIT_LR: '0.002', PYTHONPATH: path.join(repoDir, 'sdk', 'python') };

const suite = useSuite('paddlecloud-e2e-board-', [USER]);
const { url } = suite;

/** Submits examples/fit_a_line with its code from the form (as e2e/monitoring.test.mjs does); resolves with the job's id. */
async function submitFitALine(page, name) {
  await page.getByTestId('new-job').click();
  await page.waitForURL(url('/jobs/new'));
  await fillFitALineForm(page, name, FIT_ENV);
  await expectText(page.getByTestId('job-code-folder'), 'fit_a_line');
  await page.getByTestId('job-submit').click();
  await page.waitForURL(/\/jobs\/\d+$/, { timeout: JOB_TIMEOUT_MS });
  return Number(new URL(page.url()).pathname.split('/').pop());
}

/** Stops a job without leaving the page (as the CLI would). */
async function stopJob(page, id) {
  const status = await page.evaluate(async (jobId) => {
    const session = await (await fetch('/api/v1/session')).json();
    const answer = await fetch(`/api/v1/jobs/${jobId}/stop`, { method: 'POST', headers: { 'X-CSRF-Token': session.csrf_token } });
    return answer.status;
  }, id);
  assert.ok(status === 200 || status === 202, `stop answered ${status}`);
}

const chartSelector = (graph) => `[data-testid="board-chart"][data-graph="${graph}"]`;

/** The raw points the board's chart of `graph` stands for now (its figure's data-points). */
async function chartPoints(page, graph) {
  return Number((await page.locator(chartSelector(graph)).getAttribute('data-points')) ?? 0);
}

/** Waits until the board's chart of `graph` stands for more than `than` points. */
async function waitForMorePoints(page, graph, than) {
  await page.waitForFunction(
    ([selector, n]) => Number(document.querySelector(selector)?.getAttribute('data-points') ?? 0) > n,
    [chartSelector(graph), than],
    { timeout: JOB_TIMEOUT_MS },
  );
}

/** Waits until the job's board (GET /api/v1/jobs/{id}/board) has the graph "cost". */
async function waitForCostGraph(page, id) {
  await page.waitForFunction(
    async (jobId) => {
      const answer = await fetch(`/api/v1/jobs/${jobId}/board`);
      if (!answer.ok) return false;
      const board = await answer.json();
      return board.graphs.some((graph) => graph.name === 'cost');
    },
    id,
    { timeout: JOB_TIMEOUT_MS, polling: 500 },
  );
}

/** A request for the data of the graph "cost" whose query `accept`s. */
function costDataRequest(page, accept) {
  return page.waitForRequest(
    (request) => {
      const asked = new URL(request.url());
      return asked.pathname === '/api/v1/board/data' && asked.searchParams.get('graph') === 'cost' && accept(asked.searchParams);
    },
    { timeout: JOB_TIMEOUT_MS },
  );
}

test('fit_a_line’s board: the cost curve grows live, smooths, shows wall time, zooms, and compares with a second job', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, problems } = await suite.signIn(t, USER);
  const first = await submitFitALine(page, JOB_NAME);
  assert.equal(await page.getByTestId('job-board').getAttribute('href'), `/jobs/${first}/board`);

  // The dashboard row's Board link opens the job's board.
  await page.getByTestId('nav-jobs').click();
  await page.waitForURL(url('/dashboard'));
  const running = page.locator(`[data-testid="job-row"][data-job-name="${JOB_NAME}"][data-state="Running"]`);
  await expectVisible(running, JOB_TIMEOUT_MS);
  const boardLink = running.getByTestId('job-board');
  assert.equal(await boardLink.getAttribute('href'), `/jobs/${first}/board`);
  await boardLink.click();
  await page.waitForURL(url(`/jobs/${first}/board`));
  await expectTitle(page, `Board of ${JOB_NAME} · Jobs · PaddleCloud`);

  // The cost graph appears with the first points and grows live, without a reload.
  await page.evaluate(() => {
    window.boardNotReloaded = true;
  });
  await waitForMorePoints(page, 'cost', 0);
  const before = await chartPoints(page, 'cost');
  await waitForMorePoints(page, 'cost', before);
  t.diagnostic(`cost chart: ${before} -> ${await chartPoints(page, 'cost')} points`);
  assert.equal(await page.evaluate(() => window.boardNotReloaded), true, 'the board page was reloaded');
  await expectVisible(page.locator('[data-testid="board-live"][data-live="true"]'));
  const cost = page.locator(chartSelector('cost'));
  assert.deepEqual(await cost.getByTestId('board-legend-item').allTextContents(), ['cost']);
  assert.equal(await cost.getByTestId('board-plot').getAttribute('role'), 'img');
  await expectText(cost.getByTestId('board-summary'), /^cost: last [-0-9.e+]+ (at step|in steps) \d+/);
  assert.equal(await page.getByTestId('board-export-csv').getAttribute('href'), `/api/v1/jobs/${first}/board/export?format=csv`);
  await page.screenshot({ path: path.join(artifactsDir, 'board-job.png'), fullPage: true });

  // The smoothing slider asks for the data smoothed with its weight; the address keeps it.
  const smoothAsked = costDataRequest(page, (query) => query.get('smoothing') === '0.9');
  await page.getByTestId('board-smoothing').fill('0.9');
  await smoothAsked;
  await page.waitForURL((address) => address.searchParams.get('smoothing') === '0.9');
  await expectText(page.getByTestId('board-smoothing-value'), '0.90');

  // Wall time on the x axis.
  await page.getByTestId('board-x-wall').click();
  await page.waitForURL((address) => address.searchParams.get('x') === 'wall');
  await expectVisible(page.locator('[data-testid="board-x-wall"][aria-pressed="true"]'));
  await waitForMorePoints(page, 'cost', 0);

  // Dragging across the cost chart asks for that range of steps at full resolution; a double-click resets.
  const over = cost.getByTestId('board-plot').locator('.u-over');
  const box = await over.boundingBox();
  assert.ok(box, 'the cost chart has a plot area');
  const zoomAsked = costDataRequest(page, (query) => query.has('from_step') && query.has('to_step'));
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 8 });
  await page.mouse.up();
  const zoomQuery = new URL((await zoomAsked).url()).searchParams;
  assert.ok(Number(zoomQuery.get('from_step')) <= Number(zoomQuery.get('to_step')), `steps ${zoomQuery.get('from_step')} to ${zoomQuery.get('to_step')}`);
  assert.equal(zoomQuery.get('smoothing'), '0.9');
  await expectVisible(page.locator(`${chartSelector('cost')}[data-zoomed="true"]`));
  await expectText(cost.getByTestId('board-zoom'), /^steps \d+–\d+$/);
  await over.dblclick({ position: { x: box.width / 2, y: box.height / 2 } });
  await expectVisible(page.locator(`${chartSelector('cost')}[data-zoomed="false"]`));

  // A second job, compared with the first (stopped by then: its graphs stay) on /board.
  await stopJob(page, first);
  await page.getByTestId('nav-jobs').click();
  await page.waitForURL(url('/dashboard'));
  const second = await submitFitALine(page, SECOND_NAME);
  await waitForCostGraph(page, second);
  await page.getByTestId('nav-board').click();
  await page.waitForURL(url('/board'));
  await expectTitle(page, 'Board · PaddleCloud');
  for (const id of [first, second]) {
    const row = page.locator(`[data-testid="board-source"][data-source="job:${id}"]`);
    await expectVisible(row);
    await row.getByTestId('board-source-check').check();
  }
  await expectText(page.getByTestId('board-compare'), 'Compare 2 boards');
  await page.getByTestId('board-compare').click();
  await page.waitForURL((address) => address.pathname === '/board' && address.searchParams.getAll('source').length === 2);
  assert.deepEqual(new URL(page.url()).searchParams.getAll('source'), [`job:${first}`, `job:${second}`]);
  const compared = page.locator(chartSelector('cost'));
  await expectVisible(compared, JOB_TIMEOUT_MS);
  await expectText(compared.getByTestId('board-legend-item').nth(1), `cost · ${SECOND_NAME}`);
  assert.deepEqual(await compared.getByTestId('board-legend-item').allTextContents(), [`cost · ${JOB_NAME}`, `cost · ${SECOND_NAME}`]);
  const comparedBefore = await chartPoints(page, 'cost');
  await waitForMorePoints(page, 'cost', comparedBefore);
  await page.screenshot({ path: path.join(artifactsDir, 'board-compare.png'), fullPage: true });

  // Both jobs ended: the stream says so, and the graphs stay.
  await stopJob(page, second);
  await expectVisible(page.locator('[data-testid="board-live"][data-live="false"]'), JOB_TIMEOUT_MS);
  await expectText(page.getByTestId('board-live'), /^Finished/, JOB_TIMEOUT_MS);
  assert.ok((await chartPoints(page, 'cost')) > 0);

  // The export has every raw point as CSV.
  const exported = await page.evaluate(async (jobId) => (await fetch(`/api/v1/jobs/${jobId}/board/export?format=csv`)).text(), first);
  assert.equal(exported.split('\n')[0]?.trim(), 'graph,curve,pod,step,wall_time,value');
  assert.match(exported, /\ncost,cost,[^,\n]*trainer-0[^,\n]*,\d+,/);

  assert.deepEqual(problems, []);
});
