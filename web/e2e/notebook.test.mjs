// Browser test of the notebooks (docs/notebooks.md) against the real server (local cluster backend:
// real processes) and Debian's python3-notebook: /notebook starts the user's Jupyter and hands the
// browser over to it on the notebook origin (the other loopback name); a cell runs through the
// kernel's WebSocket behind the proxy, the saved notebook is in the workspace, and a cell submits a job
// that succeeds on the Job Dashboard. Another member of the account gets 404 for the first user's
// Jupyter, a signed-out browser is sent to sign in, the platform's session cookie never reaches the
// notebook origin, and Stop on the page stops it with its files kept.
//
//   npm run build && PADDLECLOUD_WEB_DIR=dist PADDLECLOUD_BIN=/path/to/paddlecloud node --test e2e/notebook.test.mjs
//
// One server and one Jupyter for the whole file; the tests run in order and share them.
// Screenshots: e2e/artifacts/notebook-running.png (the page's card of a running notebook),
// notebook-stopped.png (stopped by its user: the Start form).

import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { artifactsDir, expectText, expectVisible, fetchJson, linkIn, openPage, useSuite, waitForMail } from './helpers.mjs';

/** Jupyter and jobs start real processes: wait generously for them. */
const JUPYTER_TIMEOUT_MS = 120_000;
const JOB_TIMEOUT_MS = 90_000;
const TEST_TIMEOUT_MS = 300_000;

const USER = {
  email: 'nora.notebook@example.com',
  password: 'kernels hum in the dark 5',
  accountId: 'nora-lab',
  displayName: 'Nora Notebook',
};
const MEMBER = { email: 'max.member@example.com', password: 'two origins are safer 8', name: 'Max' };

const NOTEBOOK_NAME = 'two-plus-two.ipynb';
const JOB_NAME = 'nb-job';
const TRAIN_PY = 'import sys\nprint("training from the notebook")\nsys.exit(0)\n';

const suite = useSuite('paddlecloud-e2e-notebook-', [USER]);
const { url } = suite;

/** What the tests learn as they go: the first user's Jupyter and where it lives. */
const shared = { userId: 0, notebookOrigin: '', treePath: '' };

/** The JSON of an API call made by the signed-in page (CSRF token included for unsafe methods). */
async function api(page, method, apiPath, body) {
  return page.evaluate(
    async ([m, p, b]) => {
      const session = await (await fetch('/api/v1/session')).json();
      const headers = { 'X-CSRF-Token': session.csrf_token };
      if (b !== undefined) headers['Content-Type'] = 'application/json';
      const answer = await fetch(p, { method: m, headers, body: b === undefined ? undefined : JSON.stringify(b) });
      const text = await answer.text();
      return { status: answer.status, body: text ? JSON.parse(text) : undefined };
    },
    [method, apiPath, body],
  );
}

/** Waits for the notebook page (Jupyter) to have a kernel whose WebSocket is connected. */
async function waitForKernel(nb) {
  await nb.waitForFunction(() => window.Jupyter?.notebook?.kernel?.is_connected?.() === true, null, { timeout: JUPYTER_TIMEOUT_MS });
}

/**
 * Appends a code cell holding `source` to the open notebook and runs it; resolves with its output once
 * the output matches `expect`, fails at once when the cell raised.
 */
async function runCell(nb, source, expect) {
  const index = await nb.evaluate((text) => {
    const cell = window.Jupyter.notebook.insert_cell_at_bottom('code');
    cell.set_text(text);
    cell.execute();
    return window.Jupyter.notebook.find_cell_index(cell);
  }, source);
  const output = () => nb.locator('.cell').nth(index).locator('.output_area').allTextContents().then((texts) => texts.join('\n'));
  await nb.waitForFunction(
    ([i, pattern]) => {
      const cell = document.querySelectorAll('.cell')[i];
      return cell?.querySelector('.output_error') || new RegExp(pattern).test(cell?.querySelector('.output')?.textContent ?? '');
    },
    [index, expect.source],
    { timeout: JOB_TIMEOUT_MS },
  );
  const text = await output();
  assert.match(text, expect, `the cell ${JSON.stringify(source)} printed:\n${text}`);
  return text;
}

test('/notebook starts Jupyter on the notebook origin; a cell runs, the notebook is saved to the workspace, a cell submits a job', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, context, problems } = await suite.signIn(t, USER);
  const platform = new URL(suite.server.baseUrl);
  // The Cookie header of every request the browser sends to another origin than the platform's.
  const cookieHeaders = [];
  context.on('request', (request) => {
    if (new URL(request.url()).host !== platform.host) cookieHeaders.push(request.headerValue('cookie').catch(() => null));
  });

  await page.getByTestId('nav-notebook').click();
  await page.waitForURL(url('/notebook'));
  // The page starts the notebook, shows its progress, and hands the browser over to Jupyter.
  await expectText(page.getByTestId('notebook-progress').getByRole('heading'), 'Starting your notebook…');
  await page.waitForURL((address) => address.pathname.endsWith('/tree'), { timeout: JUPYTER_TIMEOUT_MS });
  const tree = new URL(page.url());
  assert.equal(platform.hostname, '127.0.0.1');
  assert.equal(tree.hostname, 'localhost', `Jupyter opens on the other loopback name: ${tree}`);
  assert.notEqual(tree.port, platform.port);
  const match = /^\/user\/(\d+)\/tree$/.exec(tree.pathname);
  assert.ok(match, `Jupyter's tree is under /user/<id>/: ${tree.pathname}`);
  Object.assign(shared, { userId: Number(match[1]), notebookOrigin: tree.origin, treePath: tree.pathname });
  await expectVisible(page.locator('#notebook_list'), JUPYTER_TIMEOUT_MS);

  // A new Python 3 notebook opens in a new tab; a typed cell runs through the kernel's WebSocket.
  await page.locator('#new-dropdown-button').click();
  const [nb] = await Promise.all([context.waitForEvent('page'), page.locator('#kernel-python3 a').click()]);
  nb.setDefaultTimeout(JUPYTER_TIMEOUT_MS);
  await nb.waitForURL((a) => /\/notebooks\/Untitled[^/]*\.ipynb$/.test(a.pathname));
  await waitForKernel(nb);
  await nb.locator('.cell .CodeMirror').first().click();
  await nb.keyboard.type('print(2+2)');
  await nb.keyboard.press('Shift+Enter');
  await expectText(nb.locator('.cell').first().locator('.output_area'), '4', JUPYTER_TIMEOUT_MS);
  await nb.evaluate(async (name) => {
    await window.Jupyter.notebook.rename(name);
    await window.Jupyter.notebook.save_notebook();
  }, NOTEBOOK_NAME);
  await nb.waitForURL((address) => address.pathname.endsWith(`/notebooks/${NOTEBOOK_NAME}`));

  // train.py beside the notebook (its folder is the job's code), then the SDK from a cell.
  await runCell(nb, `%%writefile train.py\n${TRAIN_PY}`, /Writing train\.py|Overwriting train\.py/);
  const submitted = await runCell(
    nb,
    // In a notebook the job runs `python3 train.py` in the notebook's own folder (docs/notebooks.md).
    `from paddlecloud import create_cloud_job\njob = create_cloud_job("${JOB_NAME}", 1, "256Mi", 0, "500m", 0, "256Mi", "500m")\nprint("job id", job.id)`,
    /job id \d+/,
  );
  const jobId = Number(/job id (\d+)/.exec(submitted)[1]);

  // The platform's file browser shows the saved notebook and train.py in the workspace.
  await page.goto(url('/workspace'));
  await expectVisible(page.locator(`[data-testid="file-row"][data-name="${NOTEBOOK_NAME}"]`));
  await expectVisible(page.locator('[data-testid="file-row"][data-name="train.py"]'));

  // The job reaches Succeeded on the Job Dashboard.
  await page.getByTestId('nav-jobs').click();
  await page.waitForURL(url('/dashboard'));
  await expectVisible(page.locator(`[data-testid="job-row"][data-job-name="${JOB_NAME}"][data-state="Succeeded"]`), JOB_TIMEOUT_MS);
  const job = await api(page, 'GET', `/api/v1/jobs/${jobId}`);
  assert.equal(job.body.state, 'Succeeded', JSON.stringify(job.body));

  // The platform's session cookie never went to the notebook origin.
  assert.ok((await context.cookies(suite.server.baseUrl)).some((c) => c.name === 'pc_session'));
  const nbCookies = await context.cookies(shared.notebookOrigin);
  const names = nbCookies.map((c) => c.name);
  assert.ok(names.includes('pc_user_content') && !names.includes('pc_session'), JSON.stringify(nbCookies));
  const userContent = nbCookies.find((c) => c.name === 'pc_user_content');
  assert.deepEqual([userContent.domain, userContent.httpOnly, userContent.sameSite], ['localhost', true, 'Lax']);
  assert.ok(cookieHeaders.length > 0);
  for (const header of await Promise.all(cookieHeaders)) assert.ok(!/\bpc_session=/.test(header ?? ''), `a request to the notebook origin sent: ${header}`);
  await nb.close();
  // Jupyter's own pages log what they like; the platform's must not.
  assert.deepEqual(problems.filter((line) => line.includes(suite.server.baseUrl)), []);
});

test('another member of the account gets 404 for the first user’s Jupyter; a signed-out browser is sent to sign in', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  assert.ok(shared.userId > 0, 'the first test opened Jupyter');
  const master = await suite.signIn(t, USER);
  const invited = await api(master.page, 'POST', '/api/v1/account/invitations', { email: MEMBER.email });
  assert.ok(invited.status === 200 || invited.status === 201, JSON.stringify(invited));
  const mail = await waitForMail(suite.smtp.maildir, (m) => m.envelope.rcpt_tos.includes(MEMBER.email) && /invited you/i.test(m.subject));
  const token = new URL(linkIn(mail, url('/invite?token='))).searchParams.get('token');
  const accepted = await fetchJson(url('/api/v1/auth/invitation/accept'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token, password: MEMBER.password, display_name: MEMBER.name }),
  });
  assert.ok(accepted.status === 200 || accepted.status === 201, JSON.stringify(accepted.body));
  const memberId = accepted.body.user.id;
  assert.notEqual(memberId, shared.userId);

  // The member goes through their own handoff, then asks for the first user's tree. Their own
  // notebook is not running, so its tree sends them to the platform's notebook page (whose
  // automatic start is held back here: this test needs no second Jupyter).
  const member = await suite.signIn(t, { email: MEMBER.email, password: MEMBER.password });
  await member.page.route('**/api/v1/notebook/start', (route) => route.abort());
  const handedOff = await member.page.goto(url(`/api/v1/notebook/handoff?next=${encodeURIComponent(`/user/${memberId}/tree`)}`));
  assert.equal(member.page.url(), url('/notebook'), `handoff ended at ${member.page.url()} (${handedOff?.status()})`);
  assert.ok((await member.context.cookies(shared.notebookOrigin)).some((c) => c.name === 'pc_user_content'));
  const other = await member.page.goto(`${shared.notebookOrigin}${shared.treePath}`);
  assert.equal(other.status(), 404);
  const api404 = await member.page.goto(`${shared.notebookOrigin}/user/${shared.userId}/api/contents`);
  assert.equal(api404.status(), 404);

  // Without the notebook origin's cookie and signed out: through the handoff to the sign-in page.
  const stranger = await openPage(suite.browser, t);
  await stranger.page.goto(`${shared.notebookOrigin}${shared.treePath}`);
  await stranger.page.waitForURL((address) => address.origin === suite.server.baseUrl && address.pathname === '/login');
  await expectVisible(stranger.page.getByTestId('login-email'));
});

test('the page shows the running notebook; Stop stops it and its files stay', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  assert.ok(shared.userId > 0, 'the first test opened Jupyter');
  const { page, problems } = await suite.signIn(t, USER);
  await page.getByTestId('nav-notebook').click();
  await page.waitForURL(url('/notebook'));
  // Already running: the card, not a new handoff.
  await expectVisible(page.getByTestId('notebook-running'));
  await expectVisible(page.locator('[data-testid="nav-notebook-status"][data-state="running"]'));
  const open = page.getByTestId('notebook-open');
  assert.equal(await open.getAttribute('href'), `/api/v1/notebook/handoff?next=${encodeURIComponent(shared.treePath)}`);
  await expectText(page.getByTestId('notebook-resources'), /CPU, .* memory, \d+ GPUs?/);
  await page.screenshot({ path: path.join(artifactsDir, 'notebook-running.png'), fullPage: true });

  await page.getByTestId('notebook-stop').click();
  await page.getByTestId('notebook-stop-dialog-confirm').click();
  await expectVisible(page.getByTestId('notebook-stopped'), JUPYTER_TIMEOUT_MS);
  await expectText(page.getByTestId('notebook-stop-notice'), 'You stopped your notebook; your files are kept.');
  await expectVisible(page.locator('[data-testid="nav-notebook-status"][data-state="stopped"]'));
  const status = await api(page, 'GET', '/api/v1/notebook');
  assert.deepEqual([status.body.state, status.body.reason], ['stopped', 'user']);

  // Reopening the page does not start a notebook its user stopped.
  await page.reload();
  await expectVisible(page.getByTestId('notebook-start-form'));
  await expectVisible(page.getByTestId('notebook-quota'));
  await page.screenshot({ path: path.join(artifactsDir, 'notebook-stopped.png'), fullPage: true });
  assert.equal((await api(page, 'GET', '/api/v1/notebook')).body.state, 'stopped');

  await page.goto(url('/workspace'));
  await expectVisible(page.locator(`[data-testid="file-row"][data-name="${NOTEBOOK_NAME}"]`));
  assert.deepEqual(problems, []);
});
