// Browser tests of the narrow layout (a 390 px wide phone) against the real server: the navigation
// folds behind a menu button and reaches every page; the Job Dashboard and the file browser keep each
// row's name, state (a file's size) and actions menu on screen without sideways scrolling, and the
// menus work there, also from the keyboard.
//
//   npm run build && PADDLECLOUD_WEB_DIR=dist PADDLECLOUD_BIN=/path/to/paddlecloud node --test e2e/layout.test.mjs
//
// Screenshots: e2e/artifacts/layout-nav-390.png, layout-dashboard-390.png, layout-files-390.png.

import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import {
  artifactsDir,
  expectHidden,
  expectText,
  expectVisible,
  openPage,
  signIn,
  useSuite,
} from './helpers.mjs';

const TEST_TIMEOUT_MS = 120_000;
const JOB_TIMEOUT_MS = 60_000;
const PHONE = { width: 390, height: 844 };

const USER = { email: 'lin.phone@example.com', password: 'small screens big models 9', accountId: 'lin-lab', displayName: 'Lin Phone' };

// Its users are registered through the API and verified with the links from the real mails.
const suite = useSuite('paddlecloud-e2e-layout-', [USER]);
const { url } = suite;

async function phonePage(t) {
  const opened = await openPage(suite.browser, t);
  await opened.page.setViewportSize(PHONE);
  return opened;
}

/** The page does not scroll sideways. */
async function assertNoSidewaysScroll(page) {
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  assert.ok(scrollWidth <= clientWidth, `the page scrolls sideways: scrollWidth ${scrollWidth} > clientWidth ${clientWidth}`);
}

/** Each locator's element is visible and wholly inside the window, and not cut off by a scrolling parent. */
async function assertOnScreen(page, locators) {
  const viewport = page.viewportSize();
  for (const locator of locators) {
    await expectVisible(locator);
    const box = await locator.boundingBox();
    assert.ok(box, `${locator} has no box`);
    assert.ok(
      box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width + 0.5,
      `${locator} is not inside the ${viewport.width} px window: ${JSON.stringify(box)}`,
    );
    const clipped = await locator.evaluate((el) => {
      const own = el.getBoundingClientRect();
      for (let parent = el.parentElement; parent; parent = parent.parentElement) {
        const style = getComputedStyle(parent);
        if (style.overflowX === 'visible') continue;
        const rect = parent.getBoundingClientRect();
        if (own.left < rect.left - 0.5 || own.right > rect.right + 0.5) return parent.className || parent.tagName;
        if (parent.scrollWidth > parent.clientWidth) return `${parent.className || parent.tagName} (scrolls sideways)`;
      }
      return null;
    });
    assert.equal(clipped, null, `${locator} is cut off by ${clipped}`);
  }
}

/** Submits a job through the API from the signed-in page (with the session's CSRF token). */
async function submitJob(page, spec) {
  const answer = await page.evaluate(async (body) => {
    const session = await (await fetch('/api/v1/session')).json();
    const res = await fetch('/api/v1/jobs', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf_token },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.text() };
  }, spec);
  assert.equal(answer.status, 201, answer.body);
}

const jobRow = (page, name) => page.locator(`[data-testid="job-row"][data-job-name="${name}"]`);
const fileRow = (page, name) => page.locator(`[data-testid="file-row"][data-name="${name}"]`);

test('at 390 px the navigation folds behind a menu button and reaches Settings and Status', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, problems } = await suite.signIn(t, USER);
  // Wide: the navigation is a column and the menu button is not shown.
  await expectVisible(page.getByTestId('nav-settings'));
  await expectHidden(page.getByTestId('nav-toggle'));

  await page.setViewportSize(PHONE);
  const toggle = page.getByTestId('nav-toggle');
  await expectVisible(toggle);
  await expectHidden(page.getByTestId('nav-settings'));
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  await assertOnScreen(page, [toggle, page.getByTestId('sign-out'), page.getByTestId('brand')]);
  await assertNoSidewaysScroll(page);

  // From the keyboard: Enter opens it, Tab goes on into the list, Escape folds it and returns.
  await toggle.focus();
  await page.keyboard.press('Enter');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  await assertOnScreen(page, [page.getByTestId('nav-jobs'), page.getByTestId('nav-settings'), page.getByTestId('nav-status')]);
  await page.screenshot({ path: path.join(artifactsDir, 'layout-nav-390.png') });
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'nav-jobs');
  await page.keyboard.press('Escape');
  await expectHidden(page.getByTestId('nav-settings'));
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'nav-toggle');

  // Following a link folds it again.
  await toggle.click();
  await page.getByTestId('nav-settings').click();
  await page.waitForURL(url('/settings'));
  await expectHidden(page.getByTestId('nav-settings'));
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  await assertNoSidewaysScroll(page);
  await toggle.click();
  await page.getByTestId('nav-status').click();
  await page.waitForURL(url('/status'));
  await expectVisible(page.getByTestId('status-page'));
  await assertNoSidewaysScroll(page);
  assert.deepEqual(problems, []);
});

test('at 390 px every job row shows its name, state and actions without sideways scrolling', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, problems } = await phonePage(t);
  await signIn(page, suite.server, USER);
  const long = 'long-named-job-for-a-small-phone-screen';
  await submitJob(page, { name: long, entry: 'sleep 600', num_trainer: 1, num_ps: 1, cpu_per_trainer: '100m', mem_per_trainer: '64Mi', cpu_per_ps: '100m', mem_per_ps: '64Mi' });
  await submitJob(page, { name: 'quick', entry: 'true', num_trainer: 1, cpu_per_trainer: '100m', mem_per_trainer: '64Mi' });
  await page.reload();
  await expectVisible(page.locator(`[data-testid="job-row"][data-job-name="${long}"][data-state="Running"]`), JOB_TIMEOUT_MS);
  await expectVisible(page.locator('[data-testid="job-row"][data-job-name="quick"][data-state="Succeeded"]'), JOB_TIMEOUT_MS);
  await expectText(page.locator('h1'), 'Job Dashboard');

  await assertNoSidewaysScroll(page);
  // Every status filter is whole, "Stopped" too.
  await assertOnScreen(page, ['all', 'running', 'succeeded', 'failed', 'stopped'].map((s) => page.getByTestId(`filter-status-${s}`)));
  for (const name of [long, 'quick']) {
    const row = jobRow(page, name);
    await assertOnScreen(page, [row.getByTestId('job-link'), row.getByTestId('job-state'), row.getByTestId('job-log'), row.getByTestId('job-menu')]);
  }
  await page.screenshot({ path: path.join(artifactsDir, 'layout-dashboard-390.png'), fullPage: true });

  // The menu opens on screen; Stop works through it.
  const row = jobRow(page, long);
  await row.getByTestId('job-menu').click();
  await assertOnScreen(page, [row.getByTestId('job-details'), row.getByTestId('job-again'), row.getByTestId('job-stop')]);
  await row.getByTestId('job-stop').click();
  await page.getByTestId('stop-dialog-confirm').click();
  await expectVisible(page.locator(`[data-testid="job-row"][data-job-name="${long}"][data-state="Stopped"]`), JOB_TIMEOUT_MS);
  await assertNoSidewaysScroll(page);
  assert.deepEqual(problems, []);
});

test('at 390 px every file row shows its name, size and actions menu; a file is renamed through the menu by keyboard', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const dir = path.join(suite.tmpDir, 'phone-upload');
  await mkdir(dir, { recursive: true });
  const longName = 'validation-images-of-handwritten-digits-collected-2026.csv';
  await writeFile(path.join(dir, longName), 'id,label\n1,7\n');
  await writeFile(path.join(dir, 'labels.txt'), 'seven\n');
  const { page, problems } = await phonePage(t);
  await signIn(page, suite.server, USER);
  await page.goto(url('/datasets'));
  await page.getByTestId('upload-files-input').setInputFiles([path.join(dir, longName), path.join(dir, 'labels.txt')]);
  await expectVisible(fileRow(page, longName));
  await expectVisible(fileRow(page, 'labels.txt'));
  await page.getByTestId('new-folder').click();
  await page.getByTestId('folder-path').fill('raw');
  await page.getByTestId('folder-dialog-submit').click();
  await expectVisible(fileRow(page, 'raw'));

  await assertNoSidewaysScroll(page);
  for (const name of [longName, 'labels.txt', 'raw']) {
    const row = fileRow(page, name);
    await assertOnScreen(page, [row.getByTestId('file-link'), row.getByTestId('file-size'), row.getByTestId('file-menu')]);
  }
  await page.screenshot({ path: path.join(artifactsDir, 'layout-files-390.png'), fullPage: true });

  // Files and folders have their actions in the same place: one menu, opened and used by keyboard.
  const row = fileRow(page, 'labels.txt');
  await row.getByTestId('file-menu').focus();
  await page.keyboard.press('Enter');
  assert.equal(await row.getByTestId('file-menu').getAttribute('aria-expanded'), 'true');
  await assertOnScreen(page, [row.getByTestId('file-download'), row.getByTestId('file-move'), row.getByTestId('file-delete')]);
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'file-download');
  const focusedAfter = async (key) => {
    await page.keyboard.press(key);
    return page.evaluate(() => document.activeElement?.getAttribute('data-testid'));
  };
  assert.equal(await focusedAfter('End'), 'file-delete');
  assert.equal(await focusedAfter('ArrowUp'), 'file-move');
  await page.keyboard.press('Enter');
  await expectVisible(page.getByTestId('move-dialog'));
  await page.getByTestId('move-path').fill('datasets/raw/labels.txt');
  await page.getByTestId('move-dialog-submit').click();
  await expectHidden(page.getByTestId('move-dialog'));
  await expectHidden(fileRow(page, 'labels.txt'));
  await fileRow(page, 'raw').getByTestId('file-link').click();
  await page.waitForURL(url('/datasets/raw'));
  await expectVisible(fileRow(page, 'labels.txt'));
  await assertNoSidewaysScroll(page);
  assert.deepEqual(problems, []);
});
