import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../../app';
import { resetSession, setSignedIn } from '../../session';
import type { Mounted } from '../../test-utils';
import { flush, mount, USER } from '../../test-utils';
import { NAV_REFRESH_MS, NotebookIndicator, publishNotebookState } from './status';

let states: string[] = [];
let fetchMock: ReturnType<typeof vi.fn>;
let page: Mounted | undefined;
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  publishNotebookState(null);
  states = ['running'];
  fetchMock = vi.fn(async () => {
    const state = states.length > 1 ? states.shift()! : states[0]!;
    return state === 'error' ? new Response('', { status: 500 }) : new Response(JSON.stringify({ state }), { status: 200 });
  });
  vi.stubGlobal('fetch', fetchMock);
});
afterEach(() => {
  page?.unmount();
  page = undefined;
  resetSession();
  window.history.replaceState(null, '', '/');
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

const dot = () => page!.byTestId('nav-notebook-status');

describe('NotebookIndicator', () => {
  it('shows the notebook’s state, asks again every 10 s, and hides when it cannot say', async () => {
    states = ['starting', 'running', 'error'];
    page = await mount(<NotebookIndicator />);
    expect(String(fetchMock.mock.calls[0]![0])).toBe('/api/v1/notebook');
    expect(dot()?.dataset['state']).toBe('starting');
    expect(dot()?.textContent).toBe(' (starting)');
    expect(dot()?.querySelector('.phase-dot--pending')?.getAttribute('aria-hidden')).toBe('true');

    await act(async () => {
      await vi.advanceTimersByTimeAsync(NAV_REFRESH_MS - 1);
    });
    expect(fetchMock).toHaveBeenCalledTimes(1);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1);
    });
    await flush();
    expect(dot()?.dataset['state']).toBe('running');
    expect(dot()?.querySelector('.phase-dot--ok')).not.toBeNull();

    await act(async () => {
      await vi.advanceTimersByTimeAsync(NAV_REFRESH_MS);
    });
    await flush();
    expect(dot()).toBeNull();
  });

  it('follows what the notebook page reads in between', async () => {
    page = await mount(<NotebookIndicator />);
    expect(dot()?.dataset['state']).toBe('running');
    await act(async () => publishNotebookState('failed'));
    expect(dot()?.dataset['state']).toBe('failed');
    expect(dot()?.querySelector('.phase-dot--bad')).not.toBeNull();
  });
});

describe('the navigation', () => {
  it('shows the notebook’s state inside its Notebook link, for a signed-in user', async () => {
    window.history.replaceState(null, '', '/no-such-page');
    setSignedIn(USER);
    page = await mount(<App />);
    const link = page.byTestId<HTMLAnchorElement>('nav-notebook')!;
    expect(link.getAttribute('href')).toBe('/notebook');
    expect(link.querySelector('[data-testid="nav-notebook-status"]')?.getAttribute('data-state')).toBe('running');
    expect(link.textContent).toBe('Notebook (running)');
  });
});
