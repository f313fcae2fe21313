// Browser test of the web UI served by the real `paddlecloud server`.
//
//   npm run build   (and build the server, which embeds web/dist)
//   npm run e2e
//
// Environment:
//   PADDLECLOUD_BIN      server binary (default <repo>/build/paddlecloud)
//   PADDLECLOUD_WEB_DIR  serve this directory with --web-dir instead of the UI embedded in the binary
//   CHROMIUM_PATH        browser (default /usr/bin/chromium, Debian's package; never a downloaded one)
//
// A screenshot of the status page is left in e2e/artifacts/status.png.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoDir = path.resolve(webDir, '..');
const serverBin = process.env.PADDLECLOUD_BIN || path.join(repoDir, 'build', 'paddlecloud');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const artifactsDir = path.join(webDir, 'e2e', 'artifacts');

const STARTUP_TIMEOUT_MS = 30_000;
const UI_TIMEOUT_MS = 15_000;
const TEST_TIMEOUT_MS = 90_000;

/** @type {{ child: import('node:child_process').ChildProcess, dataDir: string, baseUrl: string, exited: Promise<{code: number|null, signal: string|null}>, log: () => string } | undefined} */
let server;
/** @type {import('playwright-core').Browser | undefined} */
let browser;

// ---- Server ---------------------------------------------------------------------------------

async function startServer() {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'paddlecloud-e2e-'));
  const args = ['server', '--listen', '127.0.0.1:0', '--data-dir', dataDir];
  if (process.env.PADDLECLOUD_WEB_DIR) args.push('--web-dir', path.resolve(process.env.PADDLECLOUD_WEB_DIR));

  const child = spawn(serverBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let spawnError;
  child.once('error', (err) => {
    spawnError = err;
  });
  const exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  const started = { child, dataDir, baseUrl: '', exited, log: () => output };
  server = started;

  const addrFile = path.join(dataDir, 'server.addr');
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (spawnError) {
      throw new Error(
        `cannot start ${serverBin}: ${spawnError.message} (build the server, or set PADDLECLOUD_BIN)`,
      );
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `server exited before listening (code ${child.exitCode}, signal ${child.signalCode}):\n${output}`,
      );
    }
    try {
      const addr = (await readFile(addrFile, 'utf8')).trim();
      if (/^[0-9.]+:[0-9]+$/.test(addr) || /^\[[0-9a-f:]+\]:[0-9]+$/i.test(addr)) {
        started.baseUrl = `http://${addr}`;
        return started;
      }
    } catch (err) {
      if (err.code !== 'ENOENT') throw err;
    }
    if (Date.now() > deadline) {
      throw new Error(`no ${addrFile} after ${STARTUP_TIMEOUT_MS} ms; server output:\n${output}`);
    }
    await delay(50); // poll interval
  }
}

/** SIGTERM, then SIGKILL if the server has not stopped within the grace period. */
async function stopServer(s, graceMs = 10_000) {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
  const result = await Promise.race([s.exited, delay(graceMs).then(() => null)]);
  if (result === null) {
    s.child.kill('SIGKILL');
    return { ...(await s.exited), killed: true };
  }
  return { ...result, killed: false };
}

// ---- Browser helpers ------------------------------------------------------------------------

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Waits until the locator's element has this text (exact string, trimmed; or a RegExp). */
async function expectText(locator, expected, timeout = UI_TIMEOUT_MS) {
  const pattern = expected instanceof RegExp ? expected : new RegExp(`^\\s*${escapeRegExp(expected)}\\s*$`);
  try {
    await locator.filter({ hasText: pattern }).first().waitFor({ state: 'visible', timeout });
  } catch {
    const actual = await locator.allTextContents().catch(() => []);
    assert.fail(`${locator} should have text ${pattern}; it has ${JSON.stringify(actual)}`);
  }
}

async function expectVisible(locator, timeout = UI_TIMEOUT_MS) {
  await locator.waitFor({ state: 'visible', timeout });
}

/** A fresh page that records uncaught errors and console errors (CSP violations, failed loads). */
async function openPage(t) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  page.setDefaultNavigationTimeout(UI_TIMEOUT_MS);
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  t.after(() => context.close());
  return { page, problems };
}

async function expectTitle(page, title) {
  await page.waitForFunction((want) => document.title === want, title, { timeout: UI_TIMEOUT_MS });
}

async function expectStatusPage(page, version) {
  await expectVisible(page.getByTestId('status-page'));
  await expectText(page.getByTestId('version'), version);
  await expectText(page.getByTestId('readiness-state'), 'Ready');
  await expectTitle(page, 'Status · PaddleCloud');
}

async function fetchJson(url) {
  const res = await fetch(url);
  return { status: res.status, headers: res.headers, body: await res.json() };
}

// ---- Suite ----------------------------------------------------------------------------------

before(async () => {
  await startServer();
  browser = await chromium.launch({
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
});

after(async () => {
  await browser?.close();
  if (server) {
    await stopServer(server);
    await rm(server.dataDir, { recursive: true, force: true });
  }
});

test('/ shows the status page with version, health and readiness', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const version = await fetchJson(`${server.baseUrl}/api/v1/version`);
  assert.equal(version.status, 200);
  assert.equal(version.body.name, 'paddlecloud');

  const { page, problems } = await openPage(t);
  const response = await page.goto(`${server.baseUrl}/`);
  assert.equal(response?.status(), 200);

  await expectText(page.getByTestId('brand'), 'PaddleCloud');
  await expectStatusPage(page, version.body.version);
  await expectVisible(page.getByTestId('commit'));
  await expectText(page.getByTestId('health-state'), 'Up');
  await expectText(page.getByTestId('uptime'), /^\s*\d+[smhd]( \d+[smhd])?\s*$/);
  await expectVisible(page.getByTestId('started-at'));
  await expectText(page.getByTestId('check-database-state'), 'ok');
  await expectText(page.getByTestId('last-updated'), /refreshes every 5 s/);
  assert.equal(await page.getByTestId('status-error').count(), 0);

  // The navigation links only to pages that exist.
  const navLinks = page.getByTestId('nav').getByRole('link');
  assert.deepEqual(await navLinks.allTextContents(), ['Status']);

  await mkdir(artifactsDir, { recursive: true });
  await page.screenshot({ path: path.join(artifactsDir, 'status.png'), fullPage: true });
  assert.deepEqual(problems, []);
});

test('the nav link and back/forward navigate without reloading', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, problems } = await openPage(t);
  await page.goto(`${server.baseUrl}/no/such/page`);
  await expectVisible(page.getByTestId('not-found'));
  await page.evaluate(() => {
    window.__e2eSamePage = true;
  });

  await page.getByTestId('nav-status').click();
  await page.waitForURL(`${server.baseUrl}/status`);
  await expectVisible(page.getByTestId('status-page'));
  await expectText(page.getByTestId('readiness-state'), 'Ready');
  assert.equal(await page.getByTestId('nav-status').getAttribute('aria-current'), 'page');

  await page.goBack();
  await page.waitForURL(`${server.baseUrl}/no/such/page`);
  await expectVisible(page.getByTestId('not-found'));
  await page.goForward();
  await page.waitForURL(`${server.baseUrl}/status`);
  await expectVisible(page.getByTestId('status-page'));

  assert.equal(await page.evaluate(() => window.__e2eSamePage), true, 'the page must not have reloaded');
  assert.deepEqual(problems, []);
});

test('the deep link /status loads directly and survives a reload', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const version = await fetchJson(`${server.baseUrl}/api/v1/version`);
  const { page, problems } = await openPage(t);

  const response = await page.goto(`${server.baseUrl}/status`);
  assert.equal(response?.status(), 200);
  assert.match(response?.headers()['content-type'] ?? '', /^text\/html/);
  await expectStatusPage(page, version.body.version);

  await page.reload();
  assert.equal(new URL(page.url()).pathname, '/status');
  await expectStatusPage(page, version.body.version);
  assert.deepEqual(problems, []);
});

test('an unknown deep link shows the in-app not-found page', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, problems } = await openPage(t);
  const response = await page.goto(`${server.baseUrl}/no/such/page`);
  assert.equal(response?.status(), 200, 'the server answers in-app paths with index.html');

  await expectVisible(page.getByTestId('not-found'));
  await expectText(page.getByRole('heading', { level: 1 }), 'Page not found');
  await expectText(page.getByTestId('not-found-path'), '/no/such/page');
  await expectTitle(page, 'Page not found · PaddleCloud');

  await page.getByTestId('not-found-home').click();
  await page.waitForURL(`${server.baseUrl}/status`);
  await expectVisible(page.getByTestId('status-page'));
  assert.deepEqual(problems, []);
});

test('the server keeps the contract the UI relies on', { timeout: TEST_TIMEOUT_MS }, async () => {
  const health = await fetchJson(`${server.baseUrl}/healthz`);
  assert.equal(health.status, 200);
  assert.equal(health.body.status, 'ok');
  assert.equal(typeof health.body.uptime_seconds, 'number');
  assert.ok(!Number.isNaN(Date.parse(health.body.started_at)), 'started_at is a timestamp');

  const ready = await fetchJson(`${server.baseUrl}/readyz`);
  assert.equal(ready.status, 200);
  assert.equal(ready.body.status, 'ready');
  assert.equal(typeof ready.body.checks, 'object');

  // Unknown API paths are JSON errors, never the app's index.html.
  const missing = await fetchJson(`${server.baseUrl}/api/v1/no-such-endpoint`);
  assert.equal(missing.status, 404);
  assert.equal(typeof missing.body.error?.code, 'string');
  assert.equal(typeof missing.body.error?.message, 'string');

  // index.html is not cached; hashed assets are.
  const index = await fetch(`${server.baseUrl}/status`);
  const html = await index.text();
  assert.match(index.headers.get('cache-control') ?? '', /no-cache|no-store|max-age=0/);
  const asset = html.match(/\/assets\/[^"']+\.js/)?.[0];
  assert.ok(asset, 'index.html references a hashed script under /assets/');
  const script = await fetch(`${server.baseUrl}${asset}`);
  await script.arrayBuffer();
  assert.equal(script.status, 200);
  assert.match(script.headers.get('content-type') ?? '', /javascript/);
  assert.match(script.headers.get('cache-control') ?? '', /max-age=\d{5,}|immutable/);
});

test('the server stops on SIGTERM', { timeout: TEST_TIMEOUT_MS }, async () => {
  const result = await stopServer(server);
  assert.equal(result.killed, false, `the server ignored SIGTERM; output:\n${server.log()}`);
});
