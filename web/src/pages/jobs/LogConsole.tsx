// The log console: a dark frame docked at the bottom of the page. On its left the job's pods; on the
// right the chosen pod's log (first pod by default), its tail first and then followed live over the
// Server-Sent Events stream. It keeps to the bottom as lines arrive unless the reader scrolled up.
import type { VNode } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Job, JobsApi, PodLog } from '../../api/jobs';
import { getPodLogRange, isActive, jobsApi, podLogDownloadUrl, podLogStreamUrl } from '../../api/jobs';
import { isAbort, toApiError } from '../../forms';
import type { ApiError } from '../../api/client';
import { ACTIVE_REFRESH_MS, PhaseDot, podLabel, usePolling } from './common';

/** Lines of the log shown when a pod is opened; older ones are in the download. */
export const LOG_TAIL_LINES = 200;
/** Characters kept in the console; beyond that the oldest lines are dropped (the download has them). */
export const LOG_MAX_CHARS = 1_000_000;
/** Within this many pixels of the bottom counts as "at the bottom": new lines keep it there. */
export const BOTTOM_SLACK_PX = 24;
/** Bytes asked for by one "Load earlier lines". */
export const LOG_EARLIER_BYTES = 64 * 1024;
/** Bytes asked for by one range read filling a gap after a reconnect. */
const LOG_GAP_BYTES = 1 << 20;

// ---- The log text: de-duplicated by byte offset ------------------------------------------------

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The text of one pod's log as received. Every chunk carries its byte offset in the log file, so a
 * chunk sent again (EventSource reconnects and the server repeats the tail) adds only what is new.
 */
export class LogBuffer {
  text = '';
  /** Byte offset just after the text received so far; null before the first chunk. */
  next: number | null = null;
  /** Byte offset of the first character of `text` in the log file; null before the first chunk. */
  start: number | null = null;
  /** True once old lines were dropped to stay within `maxChars`. */
  trimmed = false;

  constructor(private readonly maxChars = LOG_MAX_CHARS) {}

  /** Adds a chunk that starts at byte `offset`; returns true when new text was added. */
  append(offset: number, text: string): boolean {
    if (text === '') return false;
    let bytes = encoder.encode(text);
    let start = offset;
    if (this.next !== null && start < this.next) {
      const seen = this.next - start;
      if (seen >= bytes.length) return false;
      bytes = bytes.subarray(seen);
      start = this.next;
    }
    const added = start === offset ? text : decoder.decode(bytes);
    if (this.start === null) this.start = start;
    this.text += added;
    this.next = start + bytes.length;
    if (this.text.length > this.maxChars) {
      // Drop whole lines from the front, down to 80% of the limit.
      const cut = this.text.indexOf('\n', this.text.length - Math.floor(this.maxChars * 0.8));
      const kept = cut === -1 ? this.text.slice(-this.maxChars) : this.text.slice(cut + 1);
      this.start += encoder.encode(this.text.slice(0, this.text.length - kept.length)).length;
      this.text = kept;
      this.trimmed = true;
    }
    return true;
  }

  /** True when the log has lines before the ones received and they may still be loaded here. */
  get hasEarlier(): boolean {
    return this.start !== null && this.start > 0 && !this.trimmed;
  }

  /**
   * Puts a chunk that ends where the text begins (byte `offset`, read with a range request) in
   * front of it. A chunk that does not start the file loses its first, partial line. Returns false
   * when it does not fit: it does not end at `start`, or would pass `maxChars`.
   */
  prepend(offset: number, text: string): boolean {
    if (this.start === null) return false;
    let bytes = encoder.encode(text);
    if (offset + bytes.length !== this.start) return false;
    let from = offset;
    const newline = bytes.indexOf(10);
    if (from > 0 && newline !== -1 && newline < bytes.length - 1) {
      bytes = bytes.subarray(newline + 1);
      from += newline + 1;
    }
    const added = decoder.decode(bytes);
    if (added.length + this.text.length > this.maxChars) return false;
    this.text = added + this.text;
    this.start = from;
    return true;
  }

  /** Number of lines (a final line without its newline counts). */
  get lineCount(): number {
    if (this.text === '') return 0;
    let count = 0;
    for (let i = this.text.indexOf('\n'); i !== -1; i = this.text.indexOf('\n', i + 1)) count++;
    return this.text.endsWith('\n') ? count : count + 1;
  }
}

/** "last 200 lines" while the log has earlier ones not shown, else "all 12 lines". */
export function lineCountText(buffer: LogBuffer): string {
  const n = buffer.lineCount;
  const lines = n === 1 ? '1 line' : `${n} lines`;
  if (n === 0) return lines;
  return buffer.start !== null && buffer.start > 0 ? `last ${lines}` : `all ${lines}`;
}

/** True when a scrolled element shows its end (within `slack` pixels). */
export function isAtBottom(
  el: Pick<HTMLElement, 'scrollTop' | 'clientHeight' | 'scrollHeight'>,
  slack = BOTTOM_SLACK_PX,
): boolean {
  return el.scrollHeight - el.scrollTop - el.clientHeight <= slack;
}

// ---- The stream ---------------------------------------------------------------------------------

/** What the console needs of an EventSource; tests pass a fake. */
export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void;
  close(): void;
}

export type OpenEventSource = (url: string) => EventSourceLike;

const openBrowserEventSource: OpenEventSource = (url) => new EventSource(url) as unknown as EventSourceLike;

/** EventSource.CLOSED, spelled out so tests need no EventSource global. */
const CLOSED = 2;

export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'ended' | 'failed';

function parseData(event: MessageEvent<string>): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(event.data);
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Follows one pod's log: a new stream for every pod (the previous one is closed first). Returns the
 * buffer (re-rendering on every change), the stream's status and the final state once it ended.
 */
export interface PodLogView {
  buffer: LogBuffer;
  version: number;
  status: StreamStatus;
  endState: string | null;
  retry: () => void;
  loadEarlier: () => Promise<void>;
  loadingEarlier: boolean;
  earlierError: ApiError | null;
}

export type ReadLogRange = (jobId: number, pod: string, offset: number, length: number) => Promise<PodLog>;

/** Where one pod's log is read: its stream's URL and range reads. */
export interface PodLogEndpoints {
  /** Identifies the owner of the pods (a job, a serving instance): a change starts over. */
  key: string;
  streamUrl: (pod: string, tail: number) => string;
  readRange: (pod: string, offset: number, length: number) => Promise<PodLog>;
}

export function usePodLog(endpoints: PodLogEndpoints, pod: string | null, open: OpenEventSource): PodLogView {
  const [buffer, setBuffer] = useState(() => new LogBuffer());
  const [version, setVersion] = useState(0);
  const [status, setStatus] = useState<StreamStatus>('connecting');
  const [endState, setEndState] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const changed = () => setVersion((v) => v + 1);
  const { key, streamUrl, readRange } = endpoints;

  useEffect(() => {
    const fresh = new LogBuffer();
    setBuffer(fresh);
    changed();
    setEndState(null);
    setStatus('connecting');
    if (pod === null) return;
    const source = open(streamUrl(pod, LOG_TAIL_LINES));
    return followLog(source, fresh, (offset, length) => readRange(pod, offset, length), {
      onStatus: setStatus,
      onChange: changed,
      onEnd: setEndState,
    });
  }, [key, pod, open, attempt, readRange]);

  const earlier = useEarlierLog(buffer, pod === null ? null : (offset, length) => readRange(pod, offset, length), changed);
  useEffect(() => earlier.forget(), [key, pod]);
  return { buffer, version, status, endState, retry: () => setAttempt((a) => a + 1), ...earlier.view };
}

interface LogStreamEvents {
  onStatus: (status: StreamStatus) => void;
  /** The buffer changed. */
  onChange: () => void;
  /** The job ended with this state (null when the server did not say). */
  onEnd: (state: string | null) => void;
}

/**
 * Feeds `buffer` from the log stream `source`; returns the function that stops following.
 *
 * The resume rule (docs/jobs-logs.md): EventSource reconnects by itself and the server sends the
 * tail again; repeated bytes are skipped (LogBuffer), and text written while the stream was down
 * and no longer in that tail is read by range first. Chunks are applied in order.
 */
function followLog(
  source: EventSourceLike,
  buffer: LogBuffer,
  readRange: (offset: number, length: number) => Promise<PodLog>,
  events: LogStreamEvents,
): () => void {
  let done = false;
  let queue: Promise<void> = Promise.resolve();
  let waiting = 0;
  const apply = (offset: number, text: string) => {
    if (!done && buffer.append(offset, text)) events.onChange();
  };
  const fillThenApply = async (offset: number, text: string) => {
    try {
      while (!done && buffer.next !== null && buffer.next < offset) {
        const chunk = await readRange(buffer.next, Math.min(offset - buffer.next, LOG_GAP_BYTES));
        if (chunk.text === '' || done) break;
        apply(chunk.offset, chunk.text);
      }
    } catch {
      // The gap could not be read: the text after it is still shown; the download has it all.
    }
    apply(offset, text);
  };
  source.addEventListener('open', () => {
    if (!done) events.onStatus('live');
  });
  source.addEventListener('log', (event) => {
    if (done) return;
    const data = parseData(event);
    if (!data || typeof data['text'] !== 'string' || typeof data['offset'] !== 'number') return;
    const [offset, text] = [data['offset'], data['text']];
    events.onStatus('live');
    if (waiting === 0 && (buffer.next === null || offset <= buffer.next)) {
      apply(offset, text);
      return;
    }
    waiting++;
    queue = queue.then(() => fillThenApply(offset, text)).finally(() => waiting--);
  });
  source.addEventListener('end', (event) => {
    if (done) return;
    // The job has ended and the log is drained: close, or EventSource would reconnect.
    source.close();
    const state = parseData(event)?.['state'];
    const finish = () => {
      if (done) return;
      done = true;
      events.onEnd(typeof state === 'string' ? state : null);
      events.onStatus('ended');
    };
    if (waiting === 0) finish();
    else queue = queue.then(finish); // after the chunks still being filled in
  });
  source.addEventListener('error', () => {
    if (done) return;
    if (source.readyState === CLOSED) {
      done = true;
      events.onStatus('failed');
    } else {
      events.onStatus('reconnecting');
    }
  });
  return () => {
    done = true;
    source.close();
  };
}

/** "Load earlier": reads up to LOG_EARLIER_BYTES before the text shown and puts their whole lines in front. */
function useEarlierLog(
  buffer: LogBuffer,
  readRange: ((offset: number, length: number) => Promise<PodLog>) | null,
  onChange: () => void,
): { view: Pick<PodLogView, 'loadEarlier' | 'loadingEarlier' | 'earlierError'>; forget: () => void } {
  const [loadingEarlier, setLoadingEarlier] = useState(false);
  const [earlierError, setEarlierError] = useState<ApiError | null>(null);
  const loadEarlier = async () => {
    const start = buffer.start;
    if (readRange === null || start === null || start === 0 || loadingEarlier) return;
    const from = Math.max(0, start - LOG_EARLIER_BYTES);
    setLoadingEarlier(true);
    try {
      const chunk = await readRange(from, start - from);
      if (buffer.prepend(chunk.offset, chunk.text)) onChange();
      setEarlierError(null);
    } catch (err) {
      setEarlierError(toApiError(err));
    } finally {
      setLoadingEarlier(false);
    }
  };
  return { view: { loadEarlier, loadingEarlier, earlierError }, forget: () => setEarlierError(null) };
}

// ---- Height (resizable, remembered) -------------------------------------------------------------

const HEIGHT_KEY = 'paddlecloud.logConsole.height';
export const DEFAULT_HEIGHT = 320;
const MIN_HEIGHT = 140;

function clampHeight(height: number): number {
  const max = Math.max(MIN_HEIGHT, (window.innerHeight || 800) - 120);
  return Math.round(Math.min(max, Math.max(MIN_HEIGHT, height)));
}

function storedHeight(): number {
  try {
    const value = Number(window.localStorage.getItem(HEIGHT_KEY));
    return Number.isFinite(value) && value > 0 ? clampHeight(value) : DEFAULT_HEIGHT;
  } catch {
    return DEFAULT_HEIGHT;
  }
}

// ---- The console --------------------------------------------------------------------------------

/** A pod as the console lists it. */
export interface ConsolePod {
  name: string;
  /** Short name in the list, e.g. "trainer-0", "replica 1". */
  label: string;
  phase: string;
  reason: string;
  restarts: number;
}

/** What the console shows the logs of: a job, a serving instance. */
export interface LogSource extends PodLogEndpoints {
  /** The owner's name in the console's title. */
  title: string;
  /** Links the title to the owner's page (omitted on that page itself). */
  href?: string | undefined;
  /** The pods, and whether they may still change (then they are read again every few seconds). */
  loadPods: (signal?: AbortSignal) => Promise<{ pods: ConsolePod[]; active: boolean }>;
  /** The whole log as an attachment; none when the server offers no download. */
  downloadUrl?: ((pod: string) => string) | undefined;
  /** The status text once a stream ended with `state` (a job's final state). */
  endedText?: ((state: string) => string) | undefined;
}

export interface LogConsoleProps {
  job: Pick<Job, 'id' | 'name' | 'state'>;
  api?: Pick<JobsApi, 'getJob'>;
  onClose: () => void;
  /** The pod to show first; the first pod of the job otherwise. */
  initialPod?: string | undefined;
  /** Link the job's name to its page (not wanted on that page itself). */
  linkToJob?: boolean;
  openEventSource?: OpenEventSource;
  readLogRange?: ReadLogRange;
}

const STATUS_TEXT: Record<StreamStatus, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  ended: 'Ended',
  failed: 'Disconnected',
};

/** The log console of a job's pods. */
export function LogConsole({
  job,
  api = jobsApi,
  onClose,
  initialPod,
  linkToJob = true,
  openEventSource = openBrowserEventSource,
  readLogRange = getPodLogRange,
}: LogConsoleProps): VNode {
  const source = useMemo<LogSource>(
    () => ({
      key: `job:${job.id}`,
      title: job.name,
      href: linkToJob ? `/jobs/${job.id}` : undefined,
      loadPods: async (signal) => {
        const loaded = await api.getJob(job.id, signal ? { signal } : undefined);
        const pods = (loaded.pods ?? []).map((pod) => ({ name: pod.name, label: podLabel(pod), phase: pod.phase, reason: pod.reason, restarts: pod.restarts }));
        return { pods, active: isActive(loaded.state) };
      },
      streamUrl: (pod, tail) => podLogStreamUrl(job.id, pod, tail),
      readRange: (pod, offset, length) => readLogRange(job.id, pod, offset, length),
      downloadUrl: (pod) => podLogDownloadUrl(job.id, pod),
      endedText: (state) => `Job ${state.toLowerCase()}`,
    }),
    [job.id, job.name, api, linkToJob, readLogRange],
  );
  return (
    <LogConsoleView source={source} active={isActive(job.state)} onClose={onClose} initialPod={initialPod} openEventSource={openEventSource} testData={{ 'data-job-id': job.id }} />
  );
}

export interface LogConsoleViewProps {
  source: LogSource;
  /** Whether the pods may still change before the first read says. */
  active: boolean;
  onClose: () => void;
  initialPod?: string | undefined;
  openEventSource?: OpenEventSource;
  /** More data- attributes on the console's frame. */
  testData?: Record<string, string | number>;
}

/** The docked log console over any source of pods and logs. */
export function LogConsoleView({ source, active: initiallyActive, onClose, initialPod, openEventSource = openBrowserEventSource, testData }: LogConsoleViewProps): VNode {
  const [pods, setPods] = useState<ConsolePod[] | null>(null);
  const [podsError, setPodsError] = useState<ApiError | null>(null);
  const [active, setActive] = useState(initiallyActive);
  const [selected, setSelected] = useState<string | null>(initialPod ?? null);
  const frame = useRef<HTMLElement>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const [behind, setBehind] = useState(false);
  const height = useRef(DEFAULT_HEIGHT);

  // The pods, and their phases while they may change.
  const loadPods = async (signal?: AbortSignal) => {
    try {
      const loaded = await source.loadPods(signal);
      setPods(loaded.pods);
      setActive(loaded.active);
      setPodsError(null);
      setSelected((current) => current ?? loaded.pods[0]?.name ?? null);
    } catch (err) {
      if (!isAbort(err)) setPodsError(toApiError(err));
    }
  };
  useEffect(() => {
    setPods(null);
    setSelected(initialPod ?? null);
    const controller = new AbortController();
    void loadPods(controller.signal);
    return () => controller.abort();
  }, [source.key, initialPod]);
  usePolling((signal) => loadPods(signal), ACTIVE_REFRESH_MS, active);

  const log = usePodLog(source, selected, openEventSource);
  // A new pod starts at the bottom.
  useEffect(() => {
    stick.current = true;
    setBehind(false);
  }, [selected]);

  // Keep to the bottom as text arrives, unless the reader scrolled up.
  // Earlier lines put in front keep the lines in view where they were.
  const seen = useRef<{ next: number | null; height: number }>({ next: null, height: 0 });
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const grewAtEnd = log.buffer.next !== seen.current.next;
    if (!grewAtEnd && log.buffer.text !== '') el.scrollTop += el.scrollHeight - seen.current.height;
    else if (stick.current) el.scrollTop = el.scrollHeight;
    else if (log.buffer.text !== '') setBehind(true);
    seen.current = { next: log.buffer.next, height: el.scrollHeight };
  }, [log.version]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    stick.current = isAtBottom(el);
    if (stick.current) setBehind(false);
  };

  const jumpToBottom = () => {
    const el = scroller.current;
    if (!el) return;
    stick.current = true;
    setBehind(false);
    el.scrollTop = el.scrollHeight;
  };

  // Docked: the page leaves room for it; its height can be dragged and is remembered.
  const applyHeight = (value: number, remember = false) => {
    height.current = clampHeight(value);
    frame.current?.style.setProperty('height', `${height.current}px`);
    document.documentElement.style.setProperty('--log-console-height', `${height.current}px`);
    if (remember) {
      try {
        window.localStorage.setItem(HEIGHT_KEY, String(height.current));
      } catch {
        // Storage may be unavailable (private mode); the height just is not remembered.
      }
    }
  };
  useLayoutEffect(() => {
    applyHeight(storedHeight());
    document.body.classList.add('has-log-console');
    return () => {
      document.body.classList.remove('has-log-console');
      document.documentElement.style.removeProperty('--log-console-height');
    };
  }, []);

  const dragging = useRef(false);
  const onHandleDown = (event: PointerEvent) => {
    dragging.current = true;
    (event.currentTarget as HTMLElement).setPointerCapture?.(event.pointerId);
    event.preventDefault();
  };
  const onHandleMove = (event: PointerEvent) => {
    if (dragging.current) applyHeight(window.innerHeight - event.clientY);
  };
  const onHandleUp = () => {
    if (!dragging.current) return;
    dragging.current = false;
    applyHeight(height.current, true);
  };
  const onHandleKey = (event: KeyboardEvent) => {
    const step = event.shiftKey ? 120 : 24;
    if (event.key === 'ArrowUp') applyHeight(height.current + step, true);
    else if (event.key === 'ArrowDown') applyHeight(height.current - step, true);
    else return;
    event.preventDefault();
  };

  const current = pods?.find((pod) => pod.name === selected) ?? null;
  const hasText = log.buffer.text !== '';

  return (
    <section
      ref={frame}
      class="log-console"
      aria-label={`Logs of ${source.title}`}
      data-testid="log-console"
      {...testData}
    >
      <div
        class="log-console__handle"
        role="separator"
        aria-orientation="horizontal"
        aria-label="Resize the log console"
        tabIndex={0}
        onPointerDown={onHandleDown}
        onPointerMove={onHandleMove}
        onPointerUp={onHandleUp}
        onPointerCancel={onHandleUp}
        onKeyDown={onHandleKey}
        data-testid="log-resize"
      />
      <header class="log-console__bar">
        <span class="log-console__title">
          Logs ·{' '}
          {source.href ? (
            <a href={source.href} class="log-console__job" data-testid="log-job-link">
              {source.title}
            </a>
          ) : (
            <span class="log-console__job">{source.title}</span>
          )}
          {current && (
            <span class="log-console__pod" data-testid="log-current-pod">
              {' '}
              / {current.name}
            </span>
          )}
        </span>
        <span class={`log-status log-status--${log.status}`} data-testid="log-status" data-status={log.status}>
          <span class="log-status__dot" aria-hidden="true" />
          {log.status === 'ended' && log.endState && source.endedText ? source.endedText(log.endState) : STATUS_TEXT[log.status]}
        </span>
        <span class="log-console__count" data-testid="log-line-count">
          {lineCountText(log.buffer)}
        </span>
        {log.status === 'failed' && (
          <button type="button" class="log-console__button" onClick={log.retry} data-testid="log-retry">
            Reconnect
          </button>
        )}
        {selected && hasText && source.downloadUrl ? (
          <a
            class="log-console__button"
            href={source.downloadUrl(selected)}
            download={`${selected}.log`}
            data-testid="log-download"
          >
            Download
          </a>
        ) : (
          <span class="log-console__button log-console__button--disabled" aria-disabled="true" title={source.downloadUrl ? 'No log yet' : 'No download'}>
            Download
          </span>
        )}
        <button
          type="button"
          class="log-console__button log-console__close"
          onClick={onClose}
          aria-label="Close the log console"
          data-testid="log-close"
        >
          ✕
        </button>
      </header>
      <div class="log-console__body">
        <nav class="log-console__pods" aria-label="Pods">
          {pods === null && !podsError && <p class="log-console__note">Loading pods…</p>}
          {podsError && (
            <p class="log-console__note log-console__note--bad" data-testid="log-pods-error">
              {podsError.message}
            </p>
          )}
          {pods && pods.length === 0 && <p class="log-console__note">No pods yet.</p>}
          {pods && pods.length > 0 && (
            <ul class="log-console__pod-list" data-testid="log-pods">
              {pods.map((pod) => (
                <li key={pod.name}>
                  <button
                    type="button"
                    class={pod.name === selected ? 'log-pod log-pod--selected' : 'log-pod'}
                    aria-current={pod.name === selected ? 'true' : undefined}
                    title={`${pod.name}: ${pod.phase}${pod.reason ? ` (${pod.reason})` : ''}`}
                    onClick={() => setSelected(pod.name)}
                    data-testid="log-pod"
                    data-pod={pod.name}
                    data-phase={pod.phase}
                  >
                    <PhaseDot phase={pod.phase} />
                    <span class="log-pod__label">{pod.label}</span>
                    {pod.restarts > 0 && <span class="log-pod__restarts">↻{pod.restarts}</span>}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </nav>
        <div class="log-console__output" ref={scroller} onScroll={onScroll} data-testid="log-scroller" tabIndex={0}>
          {log.buffer.trimmed && <p class="log-console__note">Earlier lines are not shown here: download the log to see them.</p>}
          {log.buffer.hasEarlier && (
            <p class="log-console__note" data-testid="log-earlier-note">
              The log starts earlier.{' '}
              <button
                type="button"
                class="log-console__button"
                disabled={log.loadingEarlier}
                onClick={() => void log.loadEarlier()}
                data-testid="log-load-earlier"
              >
                {log.loadingEarlier ? 'Loading…' : 'Load earlier lines'}
              </button>
              {log.earlierError && <span data-testid="log-earlier-error"> {log.earlierError.message}</span>}
            </p>
          )}
          {hasText ? (
            <pre class="log-console__text" data-testid="log-text">
              {log.buffer.text}
            </pre>
          ) : (
            <p class="log-console__note" data-testid="log-empty">
              {selected === null
                ? 'Choose a pod.'
                : log.status === 'ended'
                  ? 'This pod wrote nothing.'
                  : current?.phase === 'Pending'
                    ? `Waiting for ${current.name} to start${current.reason ? ` (${current.reason})` : ''}…`
                    : 'Waiting for output…'}
            </p>
          )}
        </div>
        {behind && (
          <button type="button" class="log-console__jump" onClick={jumpToBottom} data-testid="log-jump">
            ↓ New lines
          </button>
        )}
      </div>
    </section>
  );
}
