import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from './app';
import { navigate } from './router';
import { resetSession, setSignedIn } from './session';
import type { Mounted } from './test-utils';
import { click, mount, USER } from './test-utils';

let page: Mounted | undefined;
beforeEach(() => {
  // A page that does not exist: the shell without a page that calls the server.
  window.history.replaceState(null, '', '/no-such-page');
  // The navigation asks for the notebook's state; here there is none to show.
  vi.stubGlobal('fetch', vi.fn(async () => new Response('', { status: 404 })));
  setSignedIn(USER);
});
afterEach(() => {
  page?.unmount();
  page = undefined;
  resetSession();
  vi.unstubAllGlobals();
});

describe('App navigation', () => {
  it('folds behind a menu button that says whether it is open', async () => {
    page = await mount(<App />);
    const toggle = page.byTestId<HTMLButtonElement>('nav-toggle')!;
    const nav = page.byTestId('nav')!;
    expect(toggle.getAttribute('aria-controls')).toBe(nav.id);
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect(toggle.textContent).toBe('Menu');
    expect(nav.classList.contains('nav--open')).toBe(false);
    expect([...nav.querySelectorAll('a')].map((a) => a.textContent)).toEqual([
      'Jobs',
      'Board',
      'Notebook',
      'Serving',
      'Quota',
      'Datasets',
      'Models',
      'Public',
      'Shared with me',
      'Settings',
      'Status',
    ]);

    await click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    expect(nav.classList.contains('nav--open')).toBe(true);
    await click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
  });

  it('closes on Escape (back to the button) and after a navigation', async () => {
    page = await mount(<App />);
    const toggle = page.byTestId<HTMLButtonElement>('nav-toggle')!;
    const nav = page.byTestId('nav')!;
    await click(toggle);
    const link = page.byTestId<HTMLAnchorElement>('nav-settings')!;
    link.focus();
    await act(async () => {
      link.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    });
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect(nav.classList.contains('nav--open')).toBe(false);
    expect(document.activeElement).toBe(toggle);

    await click(toggle);
    expect(nav.classList.contains('nav--open')).toBe(true);
    await act(async () => {
      navigate('/another-missing-page');
    });
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect(nav.classList.contains('nav--open')).toBe(false);
  });
});
