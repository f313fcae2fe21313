import { act } from 'preact/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Pod } from '../../api/jobs';
import type { Mounted } from '../../test-utils';
import { click, fakeJobsApi, flush, makeJob, mount } from '../../test-utils';
import type { EventSourceLike, ReadLogRange } from './LogConsole';
import { isAtBottom, LOG_EARLIER_BYTES, LogBuffer, LogConsole } from './LogConsole';

/** A scripted EventSource: the test sends the server's events. */
class FakeSource implements EventSourceLike {
  readyState = 0;
  closed = false;
  private readonly listeners = new Map<string, Array<(event: MessageEvent<string>) => void>>();
  constructor(readonly url: string) {}
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  close(): void {
    this.closed = true;
    this.readyState = 2;
  }
  async emit(type: string, data?: unknown): Promise<void> {
    await act(async () => {
      if (type === 'open') this.readyState = 1;
      const event = { data: data === undefined ? '' : JSON.stringify(data) } as MessageEvent<string>;
      for (const listener of this.listeners.get(type) ?? []) listener(event);
    });
  }
}

function pod(name: string, role: string, index: number, phase = 'Running'): Pod {
  return { name, role, index, phase, reason: '', exit_code: null, restarts: 0, started_at: 1, finished_at: null, endpoint: '' };
}

const PODS = [
  pod('mnist-1-trainer-0', 'trainer', 0),
  pod('mnist-1-trainer-1', 'trainer', 1),
  pod('mnist-1-pserver-0', 'pserver', 0),
];

let page: Mounted | undefined;
afterEach(() => {
  page?.unmount();
  page = undefined;
});

async function openConsole(onClose = vi.fn(), readLogRange?: ReadLogRange) {
  const sources: FakeSource[] = [];
  const open = (url: string) => {
    const source = new FakeSource(url);
    sources.push(source);
    return source;
  };
  const api = fakeJobsApi({ getJob: async () => makeJob({ id: 7, pods: PODS }) });
  page = await mount(
    <LogConsole job={makeJob({ id: 7 })} api={api} onClose={onClose} openEventSource={open} {...(readLogRange ? { readLogRange } : {})} />,
  );
  return { sources, api, onClose, page };
}

const logText = () => page!.byTestId('log-text')?.textContent ?? '';

/** Gives the scroller a size: `content` px of text in a 100 px window. */
function layout(el: HTMLElement, sizes: { content: number }) {
  let top = 0;
  Object.defineProperty(el, 'clientHeight', { configurable: true, get: () => 100 });
  Object.defineProperty(el, 'scrollHeight', { configurable: true, get: () => sizes.content });
  Object.defineProperty(el, 'scrollTop', {
    configurable: true,
    get: () => top,
    set: (value: number) => {
      top = Math.max(0, Math.min(value, sizes.content - 100));
    },
  });
}

describe('LogBuffer', () => {
  it('appends chunks and counts lines', () => {
    const buffer = new LogBuffer();
    expect(buffer.append(0, 'pass 0\npass 1\n')).toBe(true);
    expect(buffer.append(14, 'pass 2')).toBe(true);
    expect(buffer.text).toBe('pass 0\npass 1\npass 2');
    expect(buffer.lineCount).toBe(3);
    expect(buffer.next).toBe(20);
  });

  it('adds only the new part of a chunk sent again (a reconnect repeats the tail)', () => {
    const buffer = new LogBuffer();
    buffer.append(100, 'a\nb\n');
    expect(buffer.append(100, 'a\nb\n')).toBe(false);
    expect(buffer.append(102, 'b\nc\n')).toBe(true);
    expect(buffer.text).toBe('a\nb\nc\n');
    // Offsets count bytes: "é" is two.
    buffer.append(106, 'é\n');
    expect(buffer.append(106, 'é\nd\n')).toBe(true);
    expect(buffer.text).toBe('a\nb\nc\né\nd\n');
  });

  it('drops the oldest whole lines beyond its limit', () => {
    const buffer = new LogBuffer(20);
    buffer.append(0, '0123456789\nabcdefghij\nKLMNOPQRST\n');
    expect(buffer.trimmed).toBe(true);
    expect(buffer.text).toBe('KLMNOPQRST\n');
  });
});

describe('LogBuffer.prepend', () => {
  it('puts the whole lines of an earlier range in front, and knows when the file starts', () => {
    const buffer = new LogBuffer();
    buffer.append(14, 'line 3\nline 4\n');
    expect(buffer.hasEarlier).toBe(true);
    // Bytes 5..14 of "line 1\nline 2\n": the partial "1\n" is dropped, "line 2\n" kept.
    expect(buffer.prepend(5, '1\nline 2\n')).toBe(true);
    expect(buffer.text).toBe('line 2\nline 3\nline 4\n');
    expect(buffer.start).toBe(7);
    expect(buffer.prepend(0, 'line 1\n')).toBe(true);
    expect(buffer.start).toBe(0);
    expect(buffer.hasEarlier).toBe(false);
    expect(buffer.text).toBe('line 1\nline 2\nline 3\nline 4\n');
  });

  it('refuses a range that does not end where the text begins, or that does not fit', () => {
    const buffer = new LogBuffer(20);
    buffer.append(100, 'abc\n');
    expect(buffer.prepend(0, 'x\n')).toBe(false);
    expect(buffer.prepend(70, 'y'.repeat(29) + '\n')).toBe(false);
    expect(buffer.text).toBe('abc\n');
  });
});

describe('isAtBottom', () => {
  it('allows a little slack', () => {
    expect(isAtBottom({ scrollTop: 900, clientHeight: 100, scrollHeight: 1000 })).toBe(true);
    expect(isAtBottom({ scrollTop: 880, clientHeight: 100, scrollHeight: 1000 })).toBe(true);
    expect(isAtBottom({ scrollTop: 500, clientHeight: 100, scrollHeight: 1000 })).toBe(false);
  });
});

describe('LogConsole', () => {
  it('lists the pods and follows the first pod’s log', async () => {
    const { sources, api } = await openConsole();
    expect(api.getJob).toHaveBeenCalledWith(7, expect.anything());
    const buttons = [...page!.container.querySelectorAll('[data-testid="log-pod"]')];
    expect(buttons.map((b) => b.textContent)).toEqual(['trainer-0', 'trainer-1', 'pserver-0']);
    expect(buttons[0]!.getAttribute('aria-current')).toBe('true');

    expect(sources).toHaveLength(1);
    expect(sources[0]!.url).toBe('/api/v1/jobs/7/pods/mnist-1-trainer-0/logs/stream?tail=200');
    expect(page!.byTestId('log-empty')).not.toBeNull();

    await sources[0]!.emit('open');
    await sources[0]!.emit('log', { offset: 0, text: 'pass 0 cost 100\n' });
    await sources[0]!.emit('log', { offset: 16, text: 'pass 1 cost 99\n' });
    expect(logText()).toBe('pass 0 cost 100\npass 1 cost 99\n');
    expect(page!.text('log-line-count')).toBe('all 2 lines');
    expect(page!.byTestId('log-load-earlier')).toBeNull();
    expect(page!.text('log-status')).toBe('Live');
    expect(page!.byTestId('log-download')?.getAttribute('href')).toBe(
      '/api/v1/jobs/7/pods/mnist-1-trainer-0/logs?download=true',
    );
  });

  it('says “last N lines” for a tail and loads earlier lines on request', async () => {
    const asked: Array<[number, number]> = [];
    const earlier = 'pass 0 cost 100\npass 1 cost 99\n';
    const read: ReadLogRange = async (_job, _pod, offset, length) => {
      asked.push([offset, length]);
      return { pod: 'p', text: earlier.slice(offset, offset + length), offset, size: 100, started: true };
    };
    const { sources } = await openConsole(vi.fn(), read);
    await sources[0]!.emit('log', { offset: earlier.length, text: 'pass 2 cost 98\n' });
    expect(page!.text('log-line-count')).toBe('last 1 line');
    await click(page!.byTestId('log-load-earlier')!);
    await flush();
    expect(asked).toEqual([[0, earlier.length]]);
    expect(logText()).toBe('pass 0 cost 100\npass 1 cost 99\npass 2 cost 98\n');
    expect(page!.text('log-line-count')).toBe('all 3 lines');
    expect(page!.byTestId('log-load-earlier')).toBeNull();
    expect(LOG_EARLIER_BYTES).toBeGreaterThan(earlier.length);
  });

  it('reads by range what was written while the stream was down, then goes on', async () => {
    const whole = 'a\nb\nc\nd\n';
    const asked: Array<[number, number]> = [];
    const read: ReadLogRange = async (_job, _pod, offset, length) => {
      asked.push([offset, length]);
      return { pod: 'p', text: whole.slice(offset, offset + length), offset, size: whole.length, started: true };
    };
    const { sources } = await openConsole(vi.fn(), read);
    await sources[0]!.emit('log', { offset: 0, text: 'a\n' });
    // Reconnected: the server's tail starts after a gap ("b\nc\n" was written meanwhile).
    await sources[0]!.emit('log', { offset: 6, text: 'd\n' });
    await flush();
    expect(asked).toEqual([[2, 4]]);
    expect(logText()).toBe(whole);
    await sources[0]!.emit('log', { offset: 4, text: 'c\nd\n' }); // sent again: nothing twice
    expect(logText()).toBe(whole);
  });

  it('keeps to the bottom as lines arrive, unless the reader scrolled up', async () => {
    const { sources } = await openConsole();
    const scroller = page!.byTestId('log-scroller')!;
    const sizes = { content: 100 };
    layout(scroller, sizes);

    sizes.content = 500;
    await sources[0]!.emit('log', { offset: 0, text: 'line 1\n' });
    expect(scroller.scrollTop).toBe(400);

    // The reader scrolls up: new lines do not move the view, a button offers the way down.
    await act(async () => {
      scroller.scrollTop = 120;
      scroller.dispatchEvent(new Event('scroll'));
    });
    sizes.content = 800;
    await sources[0]!.emit('log', { offset: 7, text: 'line 2\n' });
    expect(scroller.scrollTop).toBe(120);
    expect(page!.byTestId('log-jump')).not.toBeNull();

    await click(page!.byTestId('log-jump'));
    expect(scroller.scrollTop).toBe(700);
    expect(page!.byTestId('log-jump')).toBeNull();
    sizes.content = 900;
    await sources[0]!.emit('log', { offset: 14, text: 'line 3\n' });
    expect(scroller.scrollTop).toBe(800);

    // Scrolling back down by hand resumes following, too.
    await act(async () => {
      scroller.scrollTop = 0;
      scroller.dispatchEvent(new Event('scroll'));
    });
    await act(async () => {
      scroller.scrollTop = 795;
      scroller.dispatchEvent(new Event('scroll'));
    });
    sizes.content = 1000;
    await sources[0]!.emit('log', { offset: 21, text: 'line 4\n' });
    expect(scroller.scrollTop).toBe(900);
  });

  it('switches pods: closes the old stream and shows the new pod’s log only', async () => {
    const { sources } = await openConsole();
    await sources[0]!.emit('log', { offset: 0, text: 'trainer line\n' });

    await click(page!.container.querySelector<HTMLElement>('[data-pod="mnist-1-pserver-0"]'));
    expect(sources[0]!.closed).toBe(true);
    expect(sources).toHaveLength(2);
    expect(sources[1]!.url).toBe('/api/v1/jobs/7/pods/mnist-1-pserver-0/logs/stream?tail=200');
    expect(page!.byTestId('log-text')).toBeNull();
    expect(page!.text('log-current-pod')).toBe('/ mnist-1-pserver-0');

    // A late event of the old stream is ignored.
    await sources[0]!.emit('log', { offset: 13, text: 'late trainer line\n' });
    await sources[1]!.emit('log', { offset: 0, text: 'pserver line\n' });
    expect(logText()).toBe('pserver line\n');
    expect(
      page!.container.querySelector('[data-pod="mnist-1-pserver-0"]')?.getAttribute('aria-current'),
    ).toBe('true');
  });

  it('closes the stream when the job has ended, and offers to reconnect after a failure', async () => {
    const { sources } = await openConsole();
    await sources[0]!.emit('log', { offset: 0, text: 'done\n' });
    await sources[0]!.emit('end', { state: 'Succeeded' });
    expect(sources[0]!.closed).toBe(true);
    expect(page!.text('log-status')).toBe('Job succeeded');

    await click(page!.container.querySelector<HTMLElement>('[data-pod="mnist-1-trainer-1"]'));
    sources[1]!.readyState = 2; // the server refused the stream
    await sources[1]!.emit('error');
    expect(page!.text('log-status')).toBe('Disconnected');
    await click(page!.byTestId('log-retry'));
    expect(sources).toHaveLength(3);
    expect(sources[2]!.url).toContain('mnist-1-trainer-1');
  });

  it('closes on the close button, and the stream with it', async () => {
    const { sources, onClose } = await openConsole();
    await click(page!.byTestId('log-close'));
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(document.body.classList.contains('has-log-console')).toBe(true);
    page!.unmount();
    page = undefined;
    expect(sources[0]!.closed).toBe(true);
    expect(document.body.classList.contains('has-log-console')).toBe(false);
    await flush();
  });
});
