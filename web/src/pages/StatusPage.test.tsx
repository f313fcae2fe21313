import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/client';
import type { Health, Readiness, Version } from '../api/client';
import type { StatusApi } from './StatusPage';
import { StatusPage } from './StatusPage';

const VERSION: Version = { name: 'paddlecloud', version: '0.1.0', commit: '0123456789abcdef0123456789abcdef01234567' };
const HEALTH: Health = { status: 'ok', uptime_seconds: 3 * 3600 + 12 * 60 + 5, started_at: '2026-11-29T04:10:00Z' };
const READY: Readiness = { status: 'ready', checks: { database: 'ok', migrations: 'ok' } };

function fakeApi(overrides: Partial<StatusApi> = {}) {
  return {
    getVersion: vi.fn<StatusApi['getVersion']>(async () => VERSION),
    getHealth: vi.fn<StatusApi['getHealth']>(async () => HEALTH),
    getReadiness: vi.fn<StatusApi['getReadiness']>(async () => READY),
    ...overrides,
  } satisfies StatusApi;
}

let container: HTMLElement;

const byTestId = (id: string) => container.querySelector<HTMLElement>(`[data-testid="${id}"]`);
const text = (id: string) => byTestId(id)?.textContent?.trim();

/** Lets pending promises settle and Preact re-render. */
async function flush(): Promise<void> {
  await act(async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  });
}

async function show(api: StatusApi, refreshMs?: number): Promise<void> {
  await act(async () => {
    render(<StatusPage api={api} {...(refreshMs ? { refreshMs } : {})} />, container);
  });
  await flush();
}

beforeEach(() => {
  container = document.createElement('div');
  document.body.appendChild(container);
});

afterEach(() => {
  act(() => {
    render(null, container);
  });
  container.remove();
  vi.useRealTimers();
});

describe('StatusPage', () => {
  it('shows version, health and readiness', async () => {
    await show(fakeApi());
    expect(document.title).toBe('Status · PaddleCloud');
    expect(text('version')).toBe('0.1.0');
    expect(text('commit')).toBe('0123456789ab');
    expect(byTestId('commit')?.getAttribute('title')).toBe(VERSION.commit);
    expect(text('health-state')).toBe('Up');
    expect(text('uptime')).toBe('3h 12m');
    expect(byTestId('started-at')?.getAttribute('datetime')).toBe('2026-11-29T04:10:00Z');
    expect(text('readiness-state')).toBe('Ready');
    expect(byTestId('readiness-state')?.dataset['tone']).toBe('ok');
    expect(text('check-database')).toContain('database');
    expect(text('check-database-state')).toBe('ok');
    expect(text('check-migrations-state')).toBe('ok');
    expect(byTestId('status-error')).toBeNull();
    expect(text('last-updated')).toMatch(/refreshes every 5 s/);
  });

  it('shows a loading state until the first answers arrive', async () => {
    const never = new Promise<never>(() => {});
    await show(fakeApi({ getVersion: () => never, getHealth: () => never, getReadiness: () => never }));
    expect(byTestId('status-loading')).not.toBeNull();
    expect(byTestId('version')).toBeNull();
  });

  it('shows the message of an error answer in its card', async () => {
    await show(
      fakeApi({
        getVersion: async () => {
          throw new ApiError(500, 'internal', 'version unavailable');
        },
      }),
    );
    expect(text('version-error')).toBe('version unavailable');
    expect(byTestId('status-error')).toBeNull();
    expect(text('health-state')).toBe('Up');
  });

  it('shows each failing check when not ready', async () => {
    await show(
      fakeApi({
        getReadiness: async () => ({ status: 'not_ready', checks: { database: 'cannot open paddlecloud.db', migrations: 'ok' } }),
      }),
    );
    expect(text('readiness-state')).toBe('Not ready');
    expect(byTestId('readiness-state')?.dataset['tone']).toBe('bad');
    expect(text('check-database-state')).toBe('cannot open paddlecloud.db');
    expect(byTestId('check-database-state')?.dataset['tone']).toBe('bad');
    expect(byTestId('check-migrations-state')?.dataset['tone']).toBe('ok');
  });

  it('shows a visible error when the server is unreachable', async () => {
    const down = async () => {
      throw new ApiError(0, 'unreachable', 'Cannot reach the PaddleCloud server');
    };
    await show(fakeApi({ getVersion: down, getHealth: down, getReadiness: down }));
    expect(byTestId('status-error')?.getAttribute('role')).toBe('alert');
    expect(text('status-error')).toContain('Cannot reach the PaddleCloud server');
    expect(text('health-state')).toBe('Unreachable');
    expect(text('readiness-state')).toBe('Unknown');
    expect(text('version-error')).toBe('No answer');
    expect(text('health-error')).toBe('No answer');
  });

  it('refreshes every 5 seconds and recovers from an outage', async () => {
    vi.useFakeTimers();
    let reachable = false;
    const api = fakeApi({
      getHealth: vi.fn(async () => {
        if (!reachable) throw new ApiError(0, 'unreachable', 'offline');
        return { ...HEALTH, uptime_seconds: 42 };
      }),
    });
    await show(api);
    expect(api.getVersion).toHaveBeenCalledTimes(1);
    expect(byTestId('status-error')).not.toBeNull();

    reachable = true;
    await act(async () => {
      await vi.advanceTimersByTimeAsync(4_999);
    });
    expect(api.getVersion).toHaveBeenCalledTimes(1);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1);
    });
    await flush();
    expect(api.getVersion).toHaveBeenCalledTimes(2);
    expect(byTestId('status-error')).toBeNull();
    expect(text('uptime')).toBe('42s');
  });

  it('stops refreshing and aborts requests when it goes away', async () => {
    vi.useFakeTimers();
    const api = fakeApi();
    await show(api);
    const signal = vi.mocked(api.getVersion).mock.calls[0]![0]!.signal!;
    act(() => {
      render(null, container);
    });
    await act(async () => {
      await vi.advanceTimersByTimeAsync(20_000);
    });
    expect(api.getVersion).toHaveBeenCalledTimes(1);
    expect(signal.aborted).toBe(true);
  });
});
