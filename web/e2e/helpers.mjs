// Shared by the browser tests: the real server, the real SMTP test server, Chromium, users that can
// sign in, and waiting helpers.
//
// Environment:
//   PADDLECLOUD_BIN      server binary (default <repo>/build/paddlecloud)
//   PADDLECLOUD_WEB_DIR  serve this directory with --web-dir instead of the UI embedded in the binary
//   CHROMIUM_PATH        browser (default /usr/bin/chromium, Debian's package; never a downloaded one)
//   PYTHON               interpreter for scripts/smtp_test_server.py (default /usr/bin/python3)

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repoDir = path.resolve(webDir, '..');
export const serverBin = process.env.PADDLECLOUD_BIN || path.join(repoDir, 'build', 'paddlecloud');
export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const pythonPath = process.env.PYTHON || '/usr/bin/python3';
export const artifactsDir = path.join(webDir, 'e2e', 'artifacts');

export const STARTUP_TIMEOUT_MS = 30_000;
export const UI_TIMEOUT_MS = 15_000;
export const MAIL_TIMEOUT_MS = 20_000;
export const TEST_TIMEOUT_MS = 90_000;
const POLL_MS = 50;

// ---- Child processes ------------------------------------------------------------------------

/** Spawns a child that keeps the tail of its output; `exited` resolves when it has stopped. */
function spawnKept(command, args) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const state = { spawnError: undefined };
  child.once('error', (err) => {
    state.spawnError = err;
  });
  const exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  return { child, exited, state, log: () => output };
}

/** Polls `read()` until it returns a value other than undefined; fails when the child dies or time runs out. */
async function waitForChild(proc, what, read, timeoutMs = STARTUP_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.state.spawnError) throw new Error(`cannot start ${what}: ${proc.state.spawnError.message}`);
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(
        `${what} exited early (code ${proc.child.exitCode}, signal ${proc.child.signalCode}):\n${proc.log()}`,
      );
    }
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms; output:\n${proc.log()}`);
    await delay(POLL_MS); // poll interval
  }
}

async function readIfExists(file) {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  }
}

/** SIGTERM, then SIGKILL if the process has not stopped within the grace period. */
export async function stopProcess(proc, graceMs = 10_000) {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGTERM');
  const result = await Promise.race([proc.exited, delay(graceMs).then(() => null)]);
  if (result === null) {
    proc.child.kill('SIGKILL');
    return { ...(await proc.exited), killed: true };
  }
  return { ...result, killed: false };
}

// ---- The PaddleCloud server ------------------------------------------------------------------

/**
 * Starts `paddlecloud server` on a free port. `dataDir` defaults to a new temporary directory;
 * `extraArgs` are appended (e.g. SMTP settings). Resolves once <data>/server.addr names the address.
 */
export async function startServer({ dataDir, extraArgs = [] } = {}) {
  const dir = dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'paddlecloud-e2e-')));
  const args = ['server', '--listen', '127.0.0.1:0', '--data-dir', dir, ...extraArgs];
  if (process.env.PADDLECLOUD_WEB_DIR) args.push('--web-dir', path.resolve(process.env.PADDLECLOUD_WEB_DIR));
  const proc = spawnKept(serverBin, args);
  const server = { ...proc, dataDir: dir, baseUrl: '' };
  const addrFile = path.join(dir, 'server.addr');
  try {
    const addr = await waitForChild(proc, `${serverBin} (build the server, or set PADDLECLOUD_BIN)`, async () => {
      const text = (await readIfExists(addrFile))?.trim();
      return text && (/^[0-9.]+:[0-9]+$/.test(text) || /^\[[0-9a-f:]+\]:[0-9]+$/i.test(text)) ? text : undefined;
    });
    server.baseUrl = `http://${addr}`;
  } catch (err) {
    await stopProcess(server, 2_000);
    throw err;
  }
  return server;
}

// ---- The SMTP test server (scripts/smtp_test_server.py, Debian's python3-aiosmtpd) -------------

/** Starts the SMTP test server writing into `maildir`; resolves with its port. */
export async function startSmtpServer(maildir) {
  const script = path.join(repoDir, 'scripts', 'smtp_test_server.py');
  const proc = spawnKept(pythonPath, [script, '--maildir', maildir, '--port', '0']);
  const smtp = { ...proc, maildir, port: 0 };
  try {
    smtp.port = await waitForChild(proc, `the SMTP test server (${script})`, async () => {
      const text = (await readIfExists(path.join(maildir, 'smtp.port')))?.trim();
      return text && /^[0-9]+$/.test(text) ? Number(text) : undefined;
    });
  } catch (err) {
    await stopProcess(smtp, 2_000);
    throw err;
  }
  return smtp;
}

/** Decodes a quoted-printable body: soft line breaks (`=` at a line end) and `=XX` bytes. */
export function decodeQuotedPrintable(text) {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < joined.length; i++) {
    const c = joined[i];
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(joined.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Decodes RFC 2047 encoded words (=?UTF-8?B?...?= and =?UTF-8?Q?...?=) in a header value. */
export function decodeHeader(value) {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, _charset, encoding, data) =>
      encoding.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : decodeQuotedPrintable(data.replaceAll('_', ' ')),
    );
}

/** Parses one stored message: unfolded headers (lower-case names), the decoded text body. */
export function parseMessage(raw) {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split === -1 ? raw : raw.slice(0, split);
  const rest = split === -1 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = decodeHeader(line.slice(colon + 1).trim());
  }
  const encoding = (headers['content-transfer-encoding'] ?? '').toLowerCase();
  let body = rest;
  if (encoding === 'quoted-printable') body = decodeQuotedPrintable(rest);
  else if (encoding === 'base64') body = Buffer.from(rest.replace(/\s+/g, ''), 'base64').toString('utf8');
  return { headers, subject: headers['subject'] ?? '', body: body.replace(/\r\n/g, '\n') };
}

/** Every message the SMTP test server has stored so far, in arrival order. */
export async function readMails(maildir) {
  const names = (await readdir(maildir)).filter((name) => /^\d+\.eml$/.test(name));
  names.sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
  const mails = [];
  for (const name of names) {
    const n = Number.parseInt(name, 10);
    // The .json is written before the .eml: when the .eml exists, both are complete.
    const envelope = JSON.parse(await readFile(path.join(maildir, `${n}.json`), 'utf8'));
    const message = parseMessage(await readFile(path.join(maildir, name), 'utf8'));
    mails.push({ n, envelope, ...message });
  }
  return mails;
}

/** Waits for the first message (after `afterN`) that `match` accepts; fails after the deadline. */
export async function waitForMail(maildir, match, { afterN = 0, timeoutMs = MAIL_TIMEOUT_MS } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mails = await readMails(maildir);
    const found = mails.find((mail) => mail.n > afterN && match(mail));
    if (found) return found;
    if (Date.now() > deadline) {
      const seen = mails.map((m) => `#${m.n} to ${m.envelope.rcpt_tos.join(',')}: ${m.subject}`);
      assert.fail(`no matching mail within ${timeoutMs} ms; received: ${JSON.stringify(seen)}`);
    }
    await delay(100); // poll interval of the maildir
  }
}

/** The first link in a mail body that starts with `prefix` (e.g. "http://127.0.0.1:1234/verify?token="). */
export function linkIn(mail, prefix) {
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`${escaped}[A-Za-z0-9_%.~-]+`).exec(mail.body);
  assert.ok(match, `mail "${mail.subject}" has no link starting with ${prefix}:\n${mail.body}`);
  return match[0];
}

// ---- Browser ----------------------------------------------------------------------------------

export function launchBrowser() {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-quic',
      '--disable-sync',
    ],
  });
}

/**
 * A fresh page (own cookies) that records uncaught errors and console errors (CSP violations, failed
 * loads). Console errors are matched as "<text> @ <url>"; `allowConsole` lists the patterns a test
 * expects (e.g. the 401 of a wrong password at /api/v1/auth/login).
 */
export async function openPage(browser, t, { allowConsole = [] } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  page.setDefaultNavigationTimeout(UI_TIMEOUT_MS);
  const problems = [];
  const allowed = [...allowConsole];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const line = `${msg.text()} @ ${msg.location()?.url ?? ''}`;
    if (allowed.some((pattern) => pattern.test(line))) return;
    problems.push(`console error: ${line}`);
  });
  t.after(() => context.close());
  return { page, context, problems };
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Waits until the locator's element has this text (exact string, trimmed; or a RegExp). */
export async function expectText(locator, expected, timeout = UI_TIMEOUT_MS) {
  const pattern = expected instanceof RegExp ? expected : new RegExp(`^\\s*${escapeRegExp(expected)}\\s*$`);
  try {
    await locator.filter({ hasText: pattern }).first().waitFor({ state: 'visible', timeout });
  } catch {
    const actual = await locator.allTextContents().catch(() => []);
    assert.fail(`${locator} should have text ${pattern}; it has ${JSON.stringify(actual)}`);
  }
}

export async function expectVisible(locator, timeout = UI_TIMEOUT_MS) {
  await locator.waitFor({ state: 'visible', timeout });
}

export async function expectHidden(locator, timeout = UI_TIMEOUT_MS) {
  await locator.waitFor({ state: 'hidden', timeout });
}

export async function expectTitle(page, title) {
  await page.waitForFunction((want) => document.title === want, title, { timeout: UI_TIMEOUT_MS });
}

export async function fetchJson(url, init) {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

// ---- Suites with users -----------------------------------------------------------------------

/**
 * Starts what a suite with users needs: a temporary directory named `<prefix>…`, the SMTP test server
 * (mail in <dir>/mail), the server sending its mail there (data in <dir>/data; `serverArgs` appended to
 * its command line) and Chromium. When one of them fails to start, the others are stopped again.
 */
export async function startSuite(prefix, { serverArgs = [] } = {}) {
  const suite = { tmpDir: await mkdtemp(path.join(os.tmpdir(), prefix)) };
  try {
    suite.smtp = await startSmtpServer(path.join(suite.tmpDir, 'mail'));
    suite.server = await startServer({
      dataDir: path.join(suite.tmpDir, 'data'),
      extraArgs: ['--smtp-host', '127.0.0.1', '--smtp-port', String(suite.smtp.port), '--smtp-security', 'none', ...serverArgs],
    });
    suite.browser = await launchBrowser();
    await mkdir(artifactsDir, { recursive: true });
  } catch (err) {
    await stopSuite(suite);
    throw err;
  }
  return suite;
}

/** Stops whatever `startSuite` started and removes its directory. */
export async function stopSuite({ tmpDir, smtp, server, browser }) {
  await browser?.close();
  const stopped = [];
  if (server) stopped.push(stopProcess(server));
  if (smtp) stopped.push(stopProcess(smtp));
  await Promise.all(stopped);
  // Pods outlive the server by design; a test that failed before stopping its jobs leaves them
  // running. Their supervisors, named by the suite's data dir, end them (bwrap dies with its parent).
  // `--` ends pkill's options: without it the pattern, which starts with "--", is taken for one.
  if (tmpDir) spawnSync('pkill', ['-KILL', '-f', '--', `--pod-dir ${tmpDir}/`]);
  if (tmpDir) await rm(tmpDir, { recursive: true, force: true });
}

/**
 * A suite's `before` and `after`: startSuite(prefix, startOptions), each of `users` registered and
 * verified, then `setup(suite)` when given; stopSuite afterwards. Returns the suite, whose tmpDir, smtp, server and
 * browser are there from the first test on; `suite.url(path)` is the server's URL of `path`, and
 * `suite.signIn(t, user)` opens a page signed in as `user`.
 */
export function useSuite(prefix, users = [], setup = undefined, startOptions = {}) {
  const suite = {
    url: (p) => `${suite.server.baseUrl}${p}`,
    /** A new page (see openPage) signed in as `user`. */
    signIn: async (t, user, openOptions = undefined) => {
      const opened = await openPage(suite.browser, t, openOptions);
      await signIn(opened.page, suite.server, user);
      return opened;
    },
  };
  before(async () => {
    Object.assign(suite, await startSuite(prefix, startOptions));
    for (const user of users) await registerVerified(suite.server, suite.smtp, user);
    await setup?.(suite);
  });
  after(() => stopSuite(suite));
  return suite;
}

/**
 * Registers `user` ({ email, password, accountId, displayName? }) through the API and verifies it with
 * the link from its mail; resolves with that mail.
 */
export async function registerVerified(server, smtp, user) {
  const registered = await fetchJson(`${server.baseUrl}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: user.email, password: user.password, account_id: user.accountId, display_name: user.displayName }),
  });
  assert.equal(registered.status, 201, JSON.stringify(registered.body));
  const mail = await waitForMail(smtp.maildir, (m) => m.envelope.rcpt_tos.includes(user.email) && /verify your email/i.test(m.subject));
  const token = new URL(linkIn(mail, `${server.baseUrl}/verify?token=`)).searchParams.get('token');
  const verified = await fetchJson(`${server.baseUrl}/api/v1/auth/verify`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  assert.equal(verified.status, 200, JSON.stringify(verified.body));
  return mail;
}

/**
 * Signs in through the form at /login (with ?next= when given) and waits to land on `expectPath`; on
 * the dashboard, also until it shows.
 */
export async function signIn(page, server, { email, password }, { next, expectPath = next ?? '/dashboard' } = {}) {
  await page.goto(`${server.baseUrl}${next ? `/login?next=${encodeURIComponent(next)}` : '/login'}`);
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.waitForURL(`${server.baseUrl}${expectPath}`);
  if (expectPath === '/dashboard') await expectVisible(page.getByTestId('dashboard-page'));
}

/** The folder of the distributed example job. */
export const fitALineDir = path.join(repoDir, 'examples', 'fit_a_line');

/**
 * On /jobs/new: fills the form for examples/fit_a_line (2 trainers and 1 parameter server of 200m and
 * 256Mi each, `env` as its variables) and chooses the example's folder as its code.
 */
export async function fillFitALineForm(page, name, env) {
  await page.getByTestId('job-name').fill(name);
  await page.getByTestId('job-entry').fill('python3 train.py');
  await page.getByTestId('job-num_trainer').fill('2');
  await page.getByTestId('job-cpu_per_trainer').fill('200m');
  await page.getByTestId('job-mem_per_trainer').fill('256Mi');
  await page.getByTestId('job-num_ps').fill('1');
  await page.getByTestId('job-cpu_per_ps').fill('200m');
  await page.getByTestId('job-mem_per_ps').fill('256Mi');
  for (const [index, [key, value]] of Object.entries(env).entries()) {
    await page.getByTestId('job-env-add').click();
    await page.getByTestId(`job-env-key-${index}`).fill(key);
    await page.getByTestId(`job-env-value-${index}`).fill(value);
  }
  await page.getByTestId('job-package-input').setInputFiles(fitALineDir);
}
