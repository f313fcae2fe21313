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
// A screenshot of the status page is left in e2e/artifacts/status.png. Helpers: e2e/helpers.mjs.

import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  artifactsDir,
  expectText,
  expectTitle,
  expectVisible,
  fetchJson,
  launchBrowser,
  openPage as openPageIn,
  startServer,
  stopProcess as stopServer,
  TEST_TIMEOUT_MS,
} from './helpers.mjs';

/** @type {Awaited<ReturnType<typeof startServer>> | undefined} */
let server;
/** @type {import('playwright-core').Browser | undefined} */
let browser;

const openPage = (t) => openPageIn(browser, t);

async function expectStatusPage(page, version) {
  await expectVisible(page.getByTestId('status-page'));
  await expectText(page.getByTestId('version'), version);
  await expectText(page.getByTestId('readiness-state'), 'Ready');
  await expectTitle(page, 'Status · PaddleCloud');
}

// ---- Suite ----------------------------------------------------------------------------------

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (server) {
    await stopServer(server);
    await rm(server.dataDir, { recursive: true, force: true });
  }
});

test('/status shows version, health and readiness', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const version = await fetchJson(`${server.baseUrl}/api/v1/version`);
  assert.equal(version.status, 200);
  assert.equal(version.body.name, 'paddlecloud');

  const { page, problems } = await openPage(t);
  const response = await page.goto(`${server.baseUrl}/status`);
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

  // Signed out, the navigation links only to pages that exist for a visitor.
  await expectVisible(page.getByTestId('nav-sign-in'));
  const navLinks = page.getByTestId('nav').getByRole('link');
  assert.deepEqual(await navLinks.allTextContents(), ['Sign in', 'Register', 'Status']);
  assert.equal(await page.getByTestId('nav-status').getAttribute('aria-current'), 'page');

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
