// Browser tests of the datasets and models pages against the real server (docs/files.md) and a real
// SMTP server (to verify the users): a folder uploaded with the folder picker (resumable, chunked,
// with progress) is listed; its CSV previews as a table and its PNG as an image; a dataset folder
// shared with a second account appears in that account's "Shared with me" and opens read-only; a
// public link works without signing in until it is revoked; a model folder published from the
// browser is found on the Public page by another account, browsed and copied into its space.
//
//   npm run build && PADDLECLOUD_WEB_DIR=dist PADDLECLOUD_BIN=/path/to/paddlecloud node --test e2e/files.test.mjs
//
// Screenshots: e2e/artifacts/files-upload.png (the browser with the uploads and the CSV preview),
// files-image.png, files-shared.png, files-public.png.

import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import zlib from 'node:zlib';
import {
  artifactsDir,
  expectHidden,
  expectText,
  expectVisible,
  openPage,
  useSuite,
} from './helpers.mjs';

const TEST_TIMEOUT_MS = 120_000;
const UPLOAD_TIMEOUT_MS = 60_000;

const ANN = { email: 'ann.data@example.com', password: 'tensors all the way 42', accountId: 'ann-lab', displayName: 'Ann Data' };
const BOB = { email: 'bob.model@example.com', password: 'gradients never lie 17', accountId: 'bob-lab', displayName: 'Bob Model' };

/** 20 MiB: three chunks of the browser's 8 MiB, so the progress has steps between 0 and 100%. */
const BIG_BYTES = 20 * 1024 * 1024;

const CSV = 'id,label,comment\n1,7,"seven, handwritten"\n2,2,"a ""two"""\n3,1,plain\n';

/** @type {string} */
let sampleDir;
/** @type {string} */
let modelDir;

/** A valid PNG of `size`×`size` pixels in one colour (IHDR, IDAT, IEND with their CRCs). */
function png(size, [r, g, b]) {
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body) >>> 0);
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(size * 3)]);
  for (let x = 0; x < size; x++) row.set([r, g, b], 1 + x * 3);
  const pixels = zlib.deflateSync(Buffer.concat(Array.from({ length: size }, () => row)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', pixels),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const suite = useSuite('paddlecloud-e2e-files-', [ANN, BOB], async ({ tmpDir }) => {
  // The folder to upload: a CSV, a PNG, a nested file and a file big enough for several chunks.
  sampleDir = path.join(tmpDir, 'upload', 'mnist-sample');
  await mkdir(path.join(sampleDir, 'nested', 'deep'), { recursive: true });
  await writeFile(path.join(sampleDir, 'train.csv'), CSV);
  await writeFile(path.join(sampleDir, 'digit.png'), png(16, [29, 78, 216]));
  await writeFile(path.join(sampleDir, 'nested', 'deep', 'notes.txt'), 'collected by hand\n<b>not bold</b>\n');
  const big = Buffer.alloc(BIG_BYTES);
  for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) % 251;
  await writeFile(path.join(sampleDir, 'big.bin'), big);
  // A model folder to publish.
  modelDir = path.join(tmpDir, 'upload', 'resnet-demo');
  await mkdir(modelDir, { recursive: true });
  await writeFile(path.join(modelDir, 'model.json'), JSON.stringify({ layers: 50, classes: 10 }));
  await writeFile(path.join(modelDir, 'weights.bin'), Buffer.from([0, 1, 2, 3, 250, 251, 252, 253]));
});
const { url } = suite;

const fileRow = (page, name) => page.locator(`[data-testid="file-row"][data-name="${name}"]`);

/** Chooses an action (its test id) from a row's actions menu. */
async function rowAction(row, testId) {
  await row.getByTestId('file-menu').click();
  await row.getByTestId(testId).click();
}

/** Records every state and progress each upload item shows (they change faster than polling sees). */
async function recordUploads(page) {
  await page.evaluate(() => {
    window.__uploads = {};
    const seen = (li) => {
      const key = li.getAttribute('data-path');
      const entry = `${li.getAttribute('data-state')}:${li.getAttribute('data-progress')}`;
      const list = (window.__uploads[key] ??= []);
      if (list.at(-1) !== entry) list.push(entry);
    };
    new MutationObserver((mutations) => {
      for (const m of mutations) {
        const nodes = m.type === 'attributes' ? [m.target] : [...m.addedNodes];
        for (const node of nodes) {
          if (!(node instanceof Element)) continue;
          if (node.matches('[data-testid="upload-item"]')) seen(node);
          node.querySelectorAll?.('[data-testid="upload-item"]').forEach(seen);
        }
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state', 'data-progress'] });
  });
}

/** Uploads a folder from disk with the "Upload folder" picker and waits until every file is done. */
async function uploadFolder(page, dir, count) {
  await page.getByTestId('upload-folder-input').setInputFiles(dir);
  const items = page.getByTestId('upload-item');
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="upload-item"]').length >= n, count);
  await page.waitForFunction(
    () => [...document.querySelectorAll('[data-testid="upload-item"]')].every((li) => li.getAttribute('data-state') === 'done'),
    undefined,
    { timeout: UPLOAD_TIMEOUT_MS },
  ).catch(async (err) => {
    const states = await items.evaluateAll((lis) => lis.map((li) => `${li.dataset.path}: ${li.dataset.state} ${li.textContent}`));
    throw new Error(`uploads did not finish: ${JSON.stringify(states)}\n${err.message}`);
  });
}

test('a folder uploaded with the folder picker is listed; its CSV and image preview', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { page, problems } = await suite.signIn(t, ANN);
  const navLinks = await page.getByTestId('nav').getByRole('link').allTextContents();
  assert.deepEqual(navLinks.map((text) => text.replace(/ \(.*\)$/, '')), ['Jobs', 'Board', 'Notebook', 'Serving', 'Quota', 'Datasets', 'Models', 'Public', 'Shared with me', 'Settings', 'Status']); // the notebook's state follows its name
  await page.getByTestId('nav-datasets').click();
  await page.waitForURL(url('/datasets'));
  await expectText(page.getByTestId('files-title'), 'Datasets');
  await expectVisible(page.getByTestId('files-empty'));
  await expectText(page.getByTestId('storage-text'), /^0 B( of .+| used)$/);
  await page.evaluate(() => {
    window.__sameDocument = true;
  });

  await recordUploads(page);
  await uploadFolder(page, sampleDir, 4);
  const seen = await page.evaluate(() => window.__uploads);
  t.diagnostic(`upload states: ${JSON.stringify(seen)}`);
  assert.deepEqual(Object.keys(seen).sort(), [
    'datasets/mnist-sample/big.bin',
    'datasets/mnist-sample/digit.png',
    'datasets/mnist-sample/nested/deep/notes.txt',
    'datasets/mnist-sample/train.csv',
  ]);
  const big = seen['datasets/mnist-sample/big.bin'];
  assert.ok(
    big.some((s) => /^uploading:([1-9]|[1-9]\d)$/.test(s)),
    `the big file showed progress between 0 and 100%: ${big.join(' ')}`,
  );
  assert.equal(big.at(-1), 'done:100');
  await expectText(page.locator('[data-testid="upload-item"][data-path="datasets/mnist-sample/big.bin"] [data-testid="upload-status"]'), 'Done · 20 MiB');

  // The listing refreshed by itself: the uploaded folder, then its files.
  await expectVisible(fileRow(page, 'mnist-sample'));
  await fileRow(page, 'mnist-sample').getByTestId('file-link').click();
  await page.waitForURL(url('/datasets/mnist-sample'));
  for (const name of ['big.bin', 'digit.png', 'nested', 'train.csv']) await expectVisible(fileRow(page, name));
  assert.deepEqual(
    await page.getByTestId('file-row').evaluateAll((rows) => rows.map((r) => r.dataset.name)),
    ['nested', 'big.bin', 'digit.png', 'train.csv'],
    'folders first, then by name',
  );
  await expectText(fileRow(page, 'big.bin').getByTestId('file-size'), '20 MiB');
  await expectText(fileRow(page, 'train.csv').getByTestId('file-uploaded-by'), ANN.email);
  await expectText(page.getByTestId('storage-text'), /^20 MiB( of .+| used)$/);

  // Sorting by size: the biggest file first.
  await page.getByTestId('sort-size').click();
  await page.waitForFunction(
    () => document.querySelector('[data-testid="file-row"][data-kind="file"]')?.getAttribute('data-name') === 'big.bin',
  );
  await page.getByTestId('sort-size').click();
  await page.waitForFunction(
    () => document.querySelector('[data-testid="file-row"][data-kind="file"]')?.getAttribute('data-name') !== 'big.bin',
  );

  // The CSV previews as a table, quoted fields intact.
  await fileRow(page, 'train.csv').getByTestId('file-link').click();
  const table = page.getByTestId('preview-table');
  await expectVisible(table);
  assert.deepEqual(await table.locator('thead th').allTextContents(), ['id', 'label', 'comment']);
  assert.deepEqual(
    await table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent))),
    [
      ['1', '7', 'seven, handwritten'],
      ['2', '2', 'a "two"'],
      ['3', '1', 'plain'],
    ],
  );
  assert.equal(new URL(page.url()).search, '?file=train.csv');
  await page.screenshot({ path: path.join(artifactsDir, 'files-upload.png'), fullPage: true });

  // The image shows (loaded from /api/v1/download/...?inline=1).
  await fileRow(page, 'digit.png').getByTestId('file-link').click();
  const image = page.getByTestId('preview-image');
  await expectVisible(image);
  await page.waitForFunction(() => {
    const img = document.querySelector('[data-testid="preview-image"]');
    return img instanceof HTMLImageElement && img.complete && img.naturalWidth === 16;
  });
  assert.equal(await image.getAttribute('src'), '/api/v1/download/datasets/mnist-sample/digit.png?inline=1');
  await page.screenshot({ path: path.join(artifactsDir, 'files-image.png') });

  // Binary: a hex dump.
  await fileRow(page, 'big.bin').getByTestId('file-link').click();
  await expectText(page.getByTestId('preview-hex'), /^00000000  00 00 00 00/);

  // The nested file kept its place, and text stays text.
  await fileRow(page, 'nested').getByTestId('file-link').click();
  await page.waitForURL(url('/datasets/mnist-sample/nested'));
  await fileRow(page, 'deep').getByTestId('file-link').click();
  await page.waitForURL(url('/datasets/mnist-sample/nested/deep'));
  await fileRow(page, 'notes.txt').getByTestId('file-link').click();
  await expectText(page.getByTestId('preview-text'), 'collected by hand\n<b>not bold</b>');
  assert.equal(await page.getByTestId('preview-text').locator('b').count(), 0);

  // Breadcrumbs lead back; the file downloads with its bytes.
  await page.getByTestId('crumb').filter({ hasText: 'mnist-sample' }).click();
  await page.waitForURL(url('/datasets/mnist-sample'));
  await fileRow(page, 'train.csv').getByTestId('file-menu').click();
  await expectVisible(fileRow(page, 'train.csv').getByTestId('file-download'));
  const csvHref = await fileRow(page, 'train.csv').getByTestId('file-download').getAttribute('href');
  await page.keyboard.press('Escape');
  await expectHidden(fileRow(page, 'train.csv').getByTestId('file-download'));
  assert.equal(await page.evaluate(async (u) => (await fetch(u)).text(), csvHref), CSV);

  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was never reloaded');
  assert.deepEqual(problems, []);
});

test('a dataset folder shared with another account shows in its Shared with me; a public link works until revoked', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const ann = await suite.signIn(t, ANN);
  await ann.page.goto(url('/datasets'));
  await rowAction(fileRow(ann.page, 'mnist-sample'), 'file-share');
  const dialog = ann.page.getByTestId('share-dialog');
  await expectVisible(dialog);
  await expectVisible(ann.page.getByTestId('share-none'));
  await ann.page.getByTestId('share-account').fill(BOB.accountId);
  await ann.page.getByTestId('share-dialog-submit').click();
  await expectText(ann.page.getByTestId('share-created'), `Shared with ${BOB.accountId}.`);
  await expectText(dialog.getByTestId('share-item').getByTestId('share-account'), BOB.accountId);

  // A public link too: its URL is shown to copy.
  await ann.page.getByTestId('share-mode-link').click();
  await ann.page.getByTestId('share-dialog-submit').click();
  const linkUrl = (await ann.page.getByTestId('share-created').getByTestId('share-link-url').textContent()).trim();
  assert.match(linkUrl, new RegExp(`^${suite.server.baseUrl}/s/[^/]+$`));
  await expectVisible(dialog.getByTestId('share-item').nth(1));
  assert.equal(await dialog.getByTestId('share-item').count(), 2);
  await ann.page.getByTestId('share-dialog-cancel').click();
  await expectHidden(dialog);

  // Bob's account sees it under Shared with me and opens it, read-only.
  const bob = await suite.signIn(t, BOB);
  await bob.page.getByTestId('nav-shared-with-me').click();
  await bob.page.waitForURL(url('/shared'));
  const shared = bob.page.locator(`[data-testid="shared-row"][data-owner="${ANN.accountId}"]`);
  await expectVisible(shared);
  await expectText(shared.getByTestId('shared-open'), 'datasets/mnist-sample');
  await bob.page.screenshot({ path: path.join(artifactsDir, 'files-shared.png') });
  await shared.getByTestId('shared-open').click();
  await bob.page.waitForURL(url(`/files/shared/${ANN.accountId}/datasets/mnist-sample`));
  await expectVisible(fileRow(bob.page, 'train.csv'));
  await expectText(bob.page.getByTestId('files-readonly'), /Read-only/);
  assert.equal(await bob.page.getByTestId('new-folder').count(), 0);
  assert.equal(await bob.page.getByTestId('upload-drop').count(), 0);
  assert.equal(await fileRow(bob.page, 'train.csv').getByTestId('file-delete').count(), 0);
  await fileRow(bob.page, 'train.csv').getByTestId('file-link').click();
  await expectVisible(bob.page.getByTestId('preview-table'));
  assert.equal(await bob.page.getByTestId('nav-shared-with-me').getAttribute('aria-current'), 'page');

  // The public link: no sign-in needed.
  const visitor = await openPage(suite.browser, t, { allowConsole: [/status of 404 .* @ \S+\/api\/v1\/links\//] });
  await visitor.page.goto(linkUrl);
  await expectVisible(visitor.page.getByTestId('link-page'));
  await expectVisible(fileRow(visitor.page, 'train.csv'));
  await fileRow(visitor.page, 'nested').getByTestId('file-link').click();
  await expectVisible(fileRow(visitor.page, 'deep'));
  assert.match(new URL(visitor.page.url()).pathname, /^\/s\/[^/]+\/nested$/);
  await visitor.page.getByTestId('crumb').first().click();
  const href = await fileRow(visitor.page, 'train.csv').getByTestId('file-link').getAttribute('href');
  assert.match(href, /^\/api\/v1\/links\/[^/]+\/download\/train\.csv$/);
  assert.equal(await visitor.page.evaluate(async (u) => (await fetch(u)).text(), href), CSV);

  // Revoked from the Shared page: the link says so.
  await ann.page.goto(url('/shared'));
  const linkRow = ann.page.locator('[data-testid="share-row"]').filter({ has: ann.page.getByTestId('share-link-url') });
  await expectVisible(linkRow);
  await linkRow.getByTestId('share-row-revoke').click();
  await ann.page.getByTestId('revoke-dialog-confirm').click();
  await expectHidden(linkRow);
  await visitor.page.goto(linkUrl);
  await expectText(visitor.page.getByTestId('link-gone'), /This link has expired or was revoked\./);

  assert.deepEqual(ann.problems, []);
  assert.deepEqual(bob.problems, []);
  assert.deepEqual(visitor.problems, []);
});

test('a model folder published from the browser is found on the Public page, browsed and copied', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const ann = await suite.signIn(t, ANN);
  await ann.page.getByTestId('nav-models').click();
  await ann.page.waitForURL(url('/models'));
  await uploadFolder(ann.page, modelDir, 2);
  await expectVisible(fileRow(ann.page, 'resnet-demo'));

  await rowAction(fileRow(ann.page, 'resnet-demo'), 'file-publish');
  await expectVisible(ann.page.getByTestId('publish-dialog'));
  assert.equal(await ann.page.getByTestId('publish-kind').inputValue(), 'model');
  assert.equal(await ann.page.getByTestId('publish-name').inputValue(), 'resnet-demo');
  await ann.page.getByTestId('publish-version').fill('1.0');
  await ann.page.getByTestId('publish-description').fill('A demo ResNet for the e2e test');
  await ann.page.getByTestId('publish-dialog-submit').click();
  await expectText(ann.page.getByTestId('publish-done'), new RegExp(`${ANN.accountId}/resnet-demo`));
  await ann.page.getByTestId('publish-public').click();
  await ann.page.waitForURL(url('/public?kind=model'));
  const mine = ann.page.locator('[data-testid="publication"][data-name="resnet-demo"]');
  await expectVisible(mine);
  await expectText(mine.getByTestId('publication-version'), '1.0');
  await expectText(mine.getByTestId('publication-files'), '2');
  await expectVisible(mine.getByTestId('publication-delete'));

  // Another account finds it by searching, browses its files and copies it.
  const bob = await suite.signIn(t, BOB);
  await bob.page.getByTestId('nav-public').click();
  await bob.page.waitForURL(url('/public'));
  await bob.page.getByTestId('public-search').fill('resnet');
  await bob.page.waitForURL(url('/public?q=resnet'));
  const found = bob.page.locator('[data-testid="publication"][data-name="resnet-demo"]');
  await expectVisible(found);
  await expectText(found.getByTestId('publication-account'), new RegExp(`^${ANN.accountId}`));
  await expectText(found.getByTestId('publication-description'), 'A demo ResNet for the e2e test');
  assert.equal(await found.getByTestId('publication-delete').count(), 0, 'only the publishing account may delete');
  await bob.page.getByTestId('public-kind-dataset').click();
  await expectVisible(bob.page.getByTestId('public-empty'));
  await bob.page.getByTestId('public-kind-model').click();
  await expectVisible(found);
  await bob.page.screenshot({ path: path.join(artifactsDir, 'files-public.png') });

  await found.getByTestId('publication-browse').click();
  await bob.page.waitForURL(url(`/files/public/models/${ANN.accountId}/resnet-demo/1.0`));
  await expectVisible(fileRow(bob.page, 'model.json'));
  await fileRow(bob.page, 'model.json').getByTestId('file-link').click();
  await expectText(bob.page.getByTestId('preview-json'), /"layers": 50/);

  await bob.page.getByTestId('copy-folder').click();
  assert.equal(await bob.page.getByTestId('copy-to').inputValue(), 'models/resnet-demo');
  await bob.page.getByTestId('copy-dialog-submit').click();
  await expectVisible(bob.page.getByTestId('copy-done'));
  await bob.page.getByTestId('copy-open').click();
  await bob.page.waitForURL(url('/models/resnet-demo'));
  await expectVisible(fileRow(bob.page, 'weights.bin'));
  await fileRow(bob.page, 'weights.bin').getByTestId('file-menu').click();
  await expectVisible(fileRow(bob.page, 'weights.bin').getByTestId('file-delete'));

  assert.deepEqual(ann.problems, []);
  assert.deepEqual(bob.problems, []);
});

test('a single model file is published from its row menu and browsed by another account', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const weights = path.join(suite.tmpDir, 'upload', 'digits.pdparams');
  await writeFile(weights, Buffer.from([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]));
  const ann = await suite.signIn(t, ANN);
  await ann.page.goto(url('/models'));
  await ann.page.getByTestId('upload-files-input').setInputFiles(weights);
  await expectVisible(fileRow(ann.page, 'digits.pdparams'));

  await rowAction(fileRow(ann.page, 'digits.pdparams'), 'file-publish');
  await expectVisible(ann.page.getByTestId('publish-dialog'));
  assert.equal(await ann.page.getByTestId('publish-name').inputValue(), 'digits');
  await expectText(ann.page.getByTestId('publish-dialog').locator('.dialog__lead'), /The file is published on its own/);
  await ann.page.getByTestId('publish-dialog-submit').click();
  await expectText(ann.page.getByTestId('publish-done'), new RegExp(`${ANN.accountId}/digits`));

  const bob = await suite.signIn(t, BOB);
  await bob.page.goto(url('/public?kind=model&q=digits'));
  const found = bob.page.locator('[data-testid="publication"][data-name="digits"]');
  await expectVisible(found);
  await expectText(found.getByTestId('publication-files'), '1');
  await found.getByTestId('publication-browse').click();
  await bob.page.waitForURL(url(`/files/public/models/${ANN.accountId}/digits/1.0`));
  await expectText(fileRow(bob.page, 'digits.pdparams').getByTestId('file-size'), '10 B');

  assert.deepEqual(ann.problems, []);
  assert.deepEqual(bob.problems, []);
});
