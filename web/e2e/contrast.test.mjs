// Colour contrast of both colour schemes (WCAG AA: 4.5:1 for text, 3:1 for large text), checked by
// axe-core's color-contrast rule in Chromium with `prefers-color-scheme` emulated light and dark:
// on the real pages with real content (jobs that ran, failed and run; a file with its preview; the
// settings; forms showing errors; open menus and the log console), and on a specimen of every themed
// text style of styles.css (every button, badge, tag, banner, state...), also while hovered.
//
//   npm run build && PADDLECLOUD_WEB_DIR=dist PADDLECLOUD_BIN=/path/to/paddlecloud node --test e2e/contrast.test.mjs

import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { expectVisible, openPage, signIn, useSuite } from './helpers.mjs';

const TEST_TIMEOUT_MS = 180_000;
const JOB_TIMEOUT_MS = 60_000;
const SCHEMES = ['light', 'dark'];

const USER = { email: 'iris.colour@example.com', password: 'contrast matters a lot 4', accountId: 'iris-lab', displayName: 'Iris Colour' };

const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// Its users are registered through the API and verified with the links from the real mails.
const suite = useSuite('paddlecloud-e2e-contrast-', [USER]);
const { url } = suite;

/**
 * Runs axe's color-contrast rule on `selector` (the whole document by default) and returns its
 * findings as lines: "<where>: <summary>". The page's CSP does not apply to evaluate(), so axe is
 * injected that way.
 */
async function contrastProblems(page, selector = null) {
  await page.evaluate(axeSource);
  return page.evaluate(async (scope) => {
    const context = scope ? document.querySelector(scope) : document;
    const result = await window.axe.run(context, { runOnly: { type: 'rule', values: ['color-contrast'] }, resultTypes: ['violations'] });
    const lines = [];
    for (const violation of result.violations) {
      for (const node of violation.nodes) {
        const data = node.any[0]?.data ?? {};
        lines.push(
          `${node.target.join(' ')} "${(node.html ?? '').slice(0, 80)}": ${data.fgColor} on ${data.bgColor} = ${data.contrastRatio}:1, needs ${data.expectedContrastRatio}`,
        );
      }
    }
    // What axe could not decide (e.g. text over an image) is listed too, to be looked at.
    const unsure = result.incomplete.flatMap((r) => r.nodes.map((n) => `${n.target.join(' ')}: ${n.any[0]?.message ?? ''}`));
    return { lines, unsure };
  }, selector);
}

/** Checks the current page in both schemes; adds what fails to `failures` under `label`. */
async function checkBothSchemes(t, page, label, failures, selector = null) {
  for (const scheme of SCHEMES) {
    await page.emulateMedia({ colorScheme: scheme });
    const { lines, unsure } = await contrastProblems(page, selector);
    for (const line of lines) failures.push(`[${scheme}] ${label}: ${line}`);
    if (unsure.length > 0) t.diagnostic(`[${scheme}] ${label}: axe could not decide ${unsure.length}: ${unsure.slice(0, 5).join(' | ')}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

async function api(page, method, p, body) {
  return page.evaluate(
    async ({ method, p, body }) => {
      const session = await (await fetch('/api/v1/session')).json();
      const res = await fetch(p, {
        method,
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf_token },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: await res.text() };
    },
    { method, p, body },
  );
}

/** Every themed text style of styles.css, as the app's components write them. */
const SPECIMEN = `
<div class="page">
  <p>Body text, <a href="#specimen">a link</a>, <span class="muted">muted</span>, <code>code</code>.</p>
  <h1 class="page__title">Title</h1>
  <p class="page__subtitle">Subtitle</p>
  <p class="page__meta">Meta</p>
  <p class="loading">Loading…</p>
  <div class="banner banner--error">Error banner</div>
  <div class="banner banner--ok">Done banner</div>
  <div class="banner banner--info">Info banner<div class="banner__actions">Banner actions</div></div>
  <p class="actions" data-specimen="buttons">
    <button type="button" class="button">Primary</button>
    <a class="button" href="#specimen">Primary link</a>
    <button type="button" class="button button--secondary">Secondary</button>
    <button type="button" class="button button--danger">Danger</button>
    <button type="button" class="button button--danger-outline">Danger outline</button>
    <button type="button" class="button button--small">Small</button>
    <button type="button" class="button button--small button--secondary">Small secondary</button>
    <button type="button" class="link-button">Link button</button>
  </p>
  <p>
    <span class="badge badge--pending"><span class="badge__dot"></span>Pending</span>
    <span class="badge badge--running"><span class="badge__dot"></span>Running</span>
    <span class="badge badge--ok"><span class="badge__dot"></span>Succeeded</span>
    <span class="badge badge--bad"><span class="badge__dot"></span>Failed</span>
    <span class="badge badge--neutral"><span class="badge__dot"></span>Stopped</span>
    <span class="state__reason">a reason</span>
  </p>
  <p>
    <span class="tag">Tag</span> <span class="tag tag--primary">Primary tag</span>
    <span class="tag tag--ok">Ok tag</span> <span class="tag tag--bad">Bad tag</span>
  </p>
  <p>
    <span class="indicator indicator--ok"><span class="indicator__dot"></span>ok</span>
    <span class="indicator indicator--bad"><span class="indicator__dot"></span>failing</span>
    <span class="indicator"><span class="indicator__dot"></span>unknown</span>
  </p>
  <div class="filters">
    <div class="segmented" data-specimen="segmented">
      <button type="button" class="segmented__item segmented__item--on">On</button>
      <button type="button" class="segmented__item">Off</button>
    </div>
    <label class="filters__field"><span class="filters__label">Filter label</span><input class="field__input" value="value"></label>
    <button type="button" class="link-button filters__clear">Clear filters</button>
  </div>
  <div class="field field--invalid">
    <label class="field__label" for="specimen-input">Field label <span class="field__note">(note)</span></label>
    <input id="specimen-input" class="field__input" value="Typed value">
    <input class="field__input" readonly value="Read-only value" aria-label="read-only">
    <p class="field__hint">Hint</p>
    <p class="field__error">Error</p>
  </div>
  <div class="card">
    <h2 class="card__title">Card title</h2>
    <dl class="facts"><dt>Term</dt><dd>Definition <span class="facts__big">42</span></dd></dl>
    <p class="card__muted">Card muted</p>
    <p class="card__error">Card error</p>
    <ul class="checks"><li class="checks__item"><span class="checks__name">check</span></li></ul>
  </div>
  <table class="table jobs-table">
    <thead><tr><th>Head</th><th class="num">Num</th></tr></thead>
    <tbody>
      <tr><td>Cell<span class="table__sub">Sub</span></td><td class="num num--bad">3</td></tr>
      <tr class="jobs-table__row--selected"><td><a href="#specimen">Selected job</a><span class="table__sub">Sub</span></td><td>1</td></tr>
    </tbody>
  </table>
  <table class="table files-table">
    <tbody>
      <tr class="files-table__row--selected"><td class="files-table__name"><button type="button" class="link-button files-table__file">selected.csv</button></td><td class="files-table__by">ann@example.com</td></tr>
    </tbody>
  </table>
  <p class="summary">
    <span>Account <code class="code--plain">acme</code></span>
    <a href="#specimen" class="summary__server summary__server--ok">Server <span>Ready</span></a>
    <a href="#specimen" class="summary__server summary__server--bad">Server <span>Unreachable</span></a>
  </p>
  <ul class="tabs__list">
    <li><a class="tabs__link tabs__link--active" href="#specimen">Active tab</a></li>
    <li><a class="tabs__link" href="#specimen">Tab</a></li>
  </ul>
  <div class="settings-section"><h2 class="settings-section__title">Section</h2><p class="settings-section__description">Description</p><h3 class="panel__title">Panel</h3></div>
  <nav class="crumbs" aria-label="Specimen"><ol class="crumbs__list"><li class="crumbs__item"><a href="#specimen">Up</a></li><li class="crumbs__item"><span aria-current="page">Here</span></li></ol></nav>
  <div class="files-toolbar"><span class="files-toolbar__count muted">3 items</span></div>
  <div class="storage"><span>Storage: 1 GiB of 10 GiB</span></div>
  <div class="upload-drop"><p class="upload-drop__text">Drop files</p></div>
  <ul class="uploads__list">
    <li class="upload"><span class="upload__name">a.csv</span><span class="upload__status">Uploading</span></li>
    <li class="upload upload--failed"><span class="upload__name">b.csv</span><span class="upload__status">Failed</span></li>
    <li class="upload upload--done"><span class="upload__name">c.csv</span><span class="upload__status">Done</span></li>
  </ul>
  <div class="preview"><h2 class="preview__title">preview.txt</h2><p class="preview__meta">12 B</p><pre class="preview__text">text</pre><p class="preview__note">Note</p></div>
  <div class="secret"><h2 class="secret__title">Secret</h2><p class="secret__warning">Copy it now</p><code class="secret__value">pc_abc</code><p class="secret__meta">Meta</p></div>
  <div class="empty"><p class="empty__title">Empty</p><p class="empty__text">Nothing here</p></div>
  <pre class="snippet"><code>snippet</code></pre>
  <ol class="timeline"><li class="timeline__item"><span class="timeline__time">12:00</span><span class="timeline__type">Started</span><span class="timeline__pod">trainer-0</span><span class="timeline__message">message</span></li></ol>
  <div class="code-drop"><p class="code-drop__text">Drop a folder</p><p class="code-upload__label">50%</p></div>
  <p class="not-found__text">Not found</p>
  <p class="auth__intro">Intro</p>
  <ul class="share-list"><li class="share-list__item"><span class="share-list__meta">Meta</span></li></ul>
  <div class="card notebook-card"><h2 class="notebook-card__title">Notebook</h2><h3 class="notebook-card__subtitle">Log</h3>
    <ol class="notebook-steps"><li class="notebook-steps__step notebook-steps__step--done">Done</li><li class="notebook-steps__step notebook-steps__step--current">Current</li><li class="notebook-steps__step notebook-steps__step--todo">To do</li></ol>
    <pre class="notebook-log">Traceback</pre></div>
  <div class="menu" data-specimen="menu">
    <button type="button" class="menu__button" aria-label="Specimen menu">⋯</button>
    <ul class="menu__list" role="menu">
      <li role="none"><button type="button" role="menuitem" class="menu__item">Item</button></li>
      <li role="none"><a role="menuitem" class="menu__item" href="#specimen">Link item</a></li>
      <li role="none"><button type="button" role="menuitem" class="menu__item menu__item--danger">Danger item</button></li>
    </ul>
  </div>
</div>`;

/** What a person can hover in the specimen: each must keep its contrast while hovered. */
const HOVERED = [
  '[data-specimen="buttons"] > *',
  '[data-specimen="segmented"] > *',
  '#specimen .tabs__link',
  '#specimen .menu__item',
  '#specimen a',
];

test('every text and background colour pair passes WCAG AA in the light and the dark scheme', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const failures = [];
  const { page, problems } = await openPage(suite.browser, t, { allowConsole: [/status of 40[01] .* @ \S+\/api\/v1\//] });

  // Signed out: sign-in, registration with its errors showing, status.
  await page.goto(url('/login'));
  await expectVisible(page.getByTestId('login-email'));
  await checkBothSchemes(t, page, '/login', failures);
  await page.goto(url('/register'));
  await page.getByTestId('register-account_id').fill('Alice Team');
  await page.getByTestId('register-submit').click();
  await expectVisible(page.getByTestId('register-account_id-error'));
  await checkBothSchemes(t, page, '/register with errors', failures);
  await page.goto(url('/status'));
  await expectVisible(page.getByTestId('status-page'));
  await checkBothSchemes(t, page, '/status', failures);

  // Signed in, with jobs that succeeded, failed and run, and a file.
  await signIn(page, suite.server, USER);
  const job = (name, entry) => ({ name, entry, num_trainer: 1, cpu_per_trainer: '100m', mem_per_trainer: '64Mi' });
  for (const spec of [job('fine', 'true'), job('broken', 'false'), job('sleeper', 'sleep 600')]) {
    const answer = await api(page, 'POST', '/api/v1/jobs', spec);
    assert.equal(answer.status, 201, answer.body);
  }
  await page.reload();
  for (const [name, state] of [['fine', 'Succeeded'], ['broken', 'Failed'], ['sleeper', 'Running']]) {
    await expectVisible(page.locator(`[data-testid="job-row"][data-job-name="${name}"][data-state="${state}"]`), JOB_TIMEOUT_MS);
  }
  await checkBothSchemes(t, page, '/dashboard', failures);
  const sleeper = page.locator('[data-testid="job-row"][data-job-name="sleeper"]');
  await sleeper.getByTestId('job-menu').click();
  await expectVisible(sleeper.getByTestId('job-stop'));
  await checkBothSchemes(t, page, '/dashboard with a row menu open', failures);
  await page.keyboard.press('Escape');
  await page.locator('[data-testid="job-row"][data-job-name="broken"]').getByTestId('job-log').click();
  await expectVisible(page.getByTestId('log-console'));
  await expectVisible(page.locator('[data-testid="log-status"][data-status="ended"]'), JOB_TIMEOUT_MS);
  await checkBothSchemes(t, page, '/dashboard with the log console', failures);

  await page.locator('[data-testid="job-row"][data-job-name="broken"]').getByTestId('job-link').click();
  await expectVisible(page.getByTestId('job-page'));
  await checkBothSchemes(t, page, '/jobs/<failed>', failures);
  await page.goto(url('/jobs/new'));
  await page.getByTestId('job-name').fill('Bad Name');
  await page.getByTestId('job-submit').click();
  await expectVisible(page.getByTestId('job-name-error'));
  await checkBothSchemes(t, page, '/jobs/new with errors', failures);

  const dir = path.join(suite.tmpDir, 'contrast');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'table.csv'), 'a,b\n1,2\n');
  await page.goto(url('/datasets'));
  await page.getByTestId('upload-files-input').setInputFiles(path.join(dir, 'table.csv'));
  const file = page.locator('[data-testid="file-row"][data-name="table.csv"]');
  await expectVisible(file);
  await file.getByTestId('file-link').click();
  await expectVisible(page.getByTestId('preview-table'));
  await file.getByTestId('file-menu').click();
  await expectVisible(file.getByTestId('file-delete'));
  await checkBothSchemes(t, page, '/datasets with a preview and a menu open', failures);
  await page.keyboard.press('Escape');

  for (const p of ['/settings', '/settings/password', '/settings/members', '/settings/tokens', '/settings/keys', '/settings/audit', '/public', '/shared', '/serving']) {
    await page.goto(url(p));
    await page.waitForFunction(() => !document.querySelector('.loading'));
    await checkBothSchemes(t, page, p, failures);
  }

  // The specimen, below the app, and each of its hoverable parts while hovered.
  await page.goto(url('/status'));
  await expectVisible(page.getByTestId('status-page'));
  await page.evaluate((html) => {
    const specimen = document.createElement('div');
    specimen.id = 'specimen';
    specimen.className = 'main';
    specimen.innerHTML = html;
    // In the app the menu floats under its button; here it stays in the flow (set through the CSSOM).
    specimen.querySelector('.menu__list').style.setProperty('position', 'static');
    document.body.append(specimen);
  }, SPECIMEN);
  await checkBothSchemes(t, page, 'specimen', failures, '#specimen');
  for (const scheme of SCHEMES) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const selector of HOVERED) {
      const count = await page.locator(selector).count();
      for (let i = 0; i < count; i++) {
        const target = page.locator(selector).nth(i);
        await target.hover();
        await target.evaluate((el) => el.setAttribute('data-hovered', ''));
        const { lines } = await contrastProblems(page, '[data-hovered]');
        await target.evaluate((el) => el.removeAttribute('data-hovered'));
        for (const line of lines) failures.push(`[${scheme}] hovered ${selector} #${i}: ${line}`);
      }
    }
  }

  assert.deepEqual(failures, [], `contrast below WCAG AA:\n${failures.join('\n')}`);
  assert.deepEqual(problems, []);
});
