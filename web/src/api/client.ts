// The PaddleCloud REST API client: every page talks to the server through this module.
//
// Contract with the server (see docs/DESIGN.md, "Conventions"):
// - requests and responses are JSON; the browser authenticates with its same-origin session cookie;
// - a failure is an HTTP status plus `{"error":{"code":"snake_case","message":"...","details":{...}}}`,
//   where `details.field` names the offending input field when there is one.
// Every failure reaches callers as an `ApiError`; an aborted request rejects with the fetch AbortError.
//
// Browser sessions: the server sets the HttpOnly `pc_session` cookie at sign-in and hands out a CSRF
// token (in the sign-in answer and in GET /api/v1/me). This module keeps that token in memory and sends
// it as `X-CSRF-Token` on every unsafe request (POST/PUT/PATCH/DELETE). When the server rejects a stale
// token, the client fetches the current one from /api/v1/me and retries the request once.

/** The error envelope the server sends with every non-2xx answer. */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    details?: Record<string, unknown>;
  };
}

/** A failed API call: an error answer from the server, an unreadable answer, or no answer at all. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  /** Machine-readable snake_case code, e.g. `not_found`, `unreachable` (the server was not reached: the same code as the SDK's, docs/jobs-logs.md). */
  readonly code: string;
  /** The input field the error is about, when the server named one. */
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  /** Seconds to wait before trying again (429 answers: `details.retry_after` or `Retry-After`). */
  readonly retryAfter: number | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown; retryAfter?: number | undefined },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.code = code;
    this.details = details;
    this.field = typeof details?.['field'] === 'string' ? details['field'] : undefined;
    this.retryAfter = parseSeconds(details?.['retry_after']) ?? options?.retryAfter;
  }

  /** `details.reason` when the server gave one (e.g. `email_not_verified`). */
  get reason(): string | undefined {
    const reason = this.details?.['reason'];
    return typeof reason === 'string' ? reason : undefined;
  }

  /** True when the server was not reached (offline, refused, DNS, CORS). */
  get isNetworkError(): boolean {
    return this.status === 0;
  }
}

/** Codes for error answers that carry no usable error body (e.g. from a proxy in front of the server). */
const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'permission_denied',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  429: 'rate_limited',
  500: 'internal',
  502: 'bad_gateway',
  503: 'unavailable',
  504: 'gateway_timeout',
};

export function codeForStatus(status: number): string {
  return STATUS_CODES[status] ?? `http_${status}`;
}

/** A non-negative whole number of seconds from a number or a decimal string; undefined otherwise. */
export function parseSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.ceil(value) : undefined;
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return Number.parseInt(value, 10);
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads the `{"error":{...}}` envelope from a parsed body; undefined when the body is not one. */
export function parseErrorBody(body: unknown): ErrorBody['error'] | undefined {
  if (!isRecord(body) || !isRecord(body['error'])) return undefined;
  const { code, message, details } = body['error'];
  if (typeof code !== 'string' || code === '') return undefined;
  return {
    code,
    message: typeof message === 'string' && message !== '' ? message : code.replaceAll('_', ' '),
    ...(isRecord(details) ? { details } : {}),
  };
}

/**
 * Builds the ApiError for a non-2xx answer whose raw body text is `text`; `retryAfterHeader` is the
 * answer's Retry-After header, used when the body has no `details.retry_after`.
 */
export function errorFromResponse(
  status: number,
  statusText: string,
  text: string,
  retryAfterHeader?: string | null,
): ApiError {
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const retryAfter = parseSeconds(retryAfterHeader ?? undefined);
  const envelope = parseErrorBody(parsed);
  if (envelope) return new ApiError(status, envelope.code, envelope.message, envelope.details, { retryAfter });
  const reason = statusText ? `${status} ${statusText}` : `${status}`;
  return new ApiError(status, codeForStatus(status), `The server answered HTTP ${reason}`, undefined, {
    retryAfter,
  });
}

/** True for the server's answer to a missing or stale CSRF token. */
export function isCsrfError(err: unknown): boolean {
  if (!(err instanceof ApiError) || err.status !== 403) return false;
  return err.reason === 'csrf' || err.reason === 'csrf_token' || /\bcsrf\b/i.test(err.message);
}

// ---- Session state: the CSRF token and the "session ended" signal -------------------------------

let csrfToken: string | undefined;

/** Remembers the session's CSRF token (from the sign-in answer or GET /api/v1/me); undefined forgets it. */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token === '' ? undefined : token;
}

export function getCsrfToken(): string | undefined {
  return csrfToken;
}

const sessionEndedListeners = new Set<(err: ApiError) => void>();

/**
 * Calls `listener` whenever a signed-in API call answers 401 (the session ended or was revoked).
 * Calls under /api/v1/auth/ are left out: there a 401 is an ordinary answer (a wrong password).
 * Returns the function that removes the listener.
 */
export function onSessionEnded(listener: (err: ApiError) => void): () => void {
  sessionEndedListeners.add(listener);
  return () => sessionEndedListeners.delete(listener);
}

const AUTH_PREFIX = '/api/v1/auth/';

function isUnsafe(method: Method): boolean {
  return method !== 'GET';
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  /** Query parameters; undefined and null values are left out. */
  query?: Query;
  /** Extra request headers (e.g. a CSRF token on unsafe methods). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /**
   * Non-2xx statuses whose body is a normal answer for this endpoint and is returned instead of thrown
   * (e.g. 503 from /readyz).
   */
  acceptStatus?: readonly number[];
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

function withQuery(path: string, query: Query | undefined): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null) params.append(key, String(value));
  }
  const qs = params.toString();
  if (qs === '') return path;
  return `${path}${path.includes('?') ? '&' : '?'}${qs}`;
}

function isAbort(err: unknown): boolean {
  return isRecord(err) && err['name'] === 'AbortError';
}

/** The message of an answer whose body could not be read to its end. */
const CONNECTION_LOST = 'The connection to the server was lost';

/** What a failed fetch or read throws: an abort as it is, anything else as a network error saying `message`. */
function lostConnection(err: unknown, message: string): unknown {
  if (isAbort(err)) return err;
  return new ApiError(0, 'unreachable', message, undefined, { cause: err });
}

/** One call to the API: what is sent, and the media type accepted in answer. */
interface Call {
  method: Method;
  path: string;
  body: unknown;
  options: RequestOptions;
  accept: string;
}

/** Sends one request and reads the whole answer; throws ApiError when there is no answer. */
async function send({ method, path, body, options, accept }: Call): Promise<Response> {
  const headers: Record<string, string> = { Accept: accept, ...options.headers };
  if (isUnsafe(method) && csrfToken !== undefined && headers['X-CSRF-Token'] === undefined) {
    headers['X-CSRF-Token'] = csrfToken;
  }
  const init: RequestInit = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (options.signal) init.signal = options.signal;
  try {
    return await fetch(withQuery(path, options.query), init);
  } catch (err) {
    throw lostConnection(err, 'Cannot reach the PaddleCloud server');
  }
}

async function readText(response: Response): Promise<string> {
  try {
    return await response.text();
  } catch (err) {
    throw lostConnection(err, CONNECTION_LOST);
  }
}

/**
 * Sends a request, handling the session rules every call shares: a stale CSRF token is refreshed from
 * /api/v1/me and the request retried once; a 401 from a signed-in call notifies `onSessionEnded`.
 * Resolves with the response of a 2xx (or accepted) status, its body unread; throws ApiError otherwise.
 */
async function exchange(call: Call): Promise<Response> {
  const { method, path, options } = call;
  for (let attempt = 0; ; attempt++) {
    const response = await send(call);
    if (response.ok || options.acceptStatus?.includes(response.status)) return response;
    const err = errorFromResponse(
      response.status,
      response.statusText,
      await readText(response),
      response.headers.get('Retry-After'),
    );
    if (attempt === 0 && isUnsafe(method) && isCsrfError(err) && options.headers?.['X-CSRF-Token'] === undefined) {
      const before = csrfToken;
      if ((await refreshCsrfToken(options.signal)) && csrfToken !== before) continue;
    }
    if (err.status === 401 && !path.startsWith(AUTH_PREFIX)) {
      for (const listener of [...sessionEndedListeners]) listener(err);
    }
    throw err;
  }
}

/** Reads the session's current CSRF token from /api/v1/session; false when there is none (signed out). */
async function refreshCsrfToken(signal: AbortSignal | undefined): Promise<boolean> {
  try {
    const me = await request<{ csrf_token?: string }>('GET', '/api/v1/session', undefined, signal ? { signal } : {});
    setCsrfToken(me?.csrf_token);
    return csrfToken !== undefined;
  } catch (err) {
    if (isAbort(err)) throw err;
    return false;
  }
}

/** Sends one request; resolves with the parsed JSON body (undefined for an empty body). */
export async function request<T>(
  method: Method,
  path: string,
  body?: unknown,
  options: RequestOptions = {},
): Promise<T> {
  const response = await exchange({ method, path, body, options, accept: 'application/json' });
  const text = await readText(response);
  if (text === '') return undefined as T;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    if (!response.ok) throw errorFromResponse(response.status, response.statusText, text);
    throw new ApiError(
      response.status,
      'invalid_response',
      'The server sent an answer that is not valid JSON',
      undefined,
      { cause: err },
    );
  }
  // An accepted non-2xx status is still an error when its body is the error envelope.
  if (!response.ok) {
    const envelope = parseErrorBody(parsed);
    if (envelope) throw new ApiError(response.status, envelope.code, envelope.message, envelope.details);
  }
  return parsed as T;
}

/** A file the server sent: its bytes and the name from Content-Disposition, when given. */
export interface Download {
  blob: Blob;
  filename: string | undefined;
}

/** The file name of a Content-Disposition header (`filename*=UTF-8''...` preferred over `filename=`). */
export function filenameFromDisposition(header: string | null): string | undefined {
  if (!header) return undefined;
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header);
  if (extended) {
    try {
      return decodeURIComponent(extended[1]!.trim());
    } catch {
      // fall through to the plain form
    }
  }
  const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/.exec(header);
  const name = plain?.[1]?.replace(/\\(.)/g, '$1') ?? plain?.[2];
  return name || undefined;
}

/** Sends one request whose successful answer is a file (e.g. a zip), not JSON. */
export async function requestFile(
  method: Method,
  path: string,
  body?: unknown,
  options: RequestOptions = {},
): Promise<Download> {
  const response = await exchange({ method, path, body, options, accept: '*/*' });
  let blob: Blob;
  try {
    blob = await response.blob();
  } catch (err) {
    throw lostConnection(err, CONNECTION_LOST);
  }
  return { blob, filename: filenameFromDisposition(response.headers.get('Content-Disposition')) };
}

export function get<T>(path: string, options?: RequestOptions): Promise<T> {
  return request<T>('GET', path, undefined, options);
}

export function post<T>(path: string, body?: unknown, options?: RequestOptions): Promise<T> {
  return request<T>('POST', path, body, options);
}

export function put<T>(path: string, body?: unknown, options?: RequestOptions): Promise<T> {
  return request<T>('PUT', path, body, options);
}

export function patch<T>(path: string, body?: unknown, options?: RequestOptions): Promise<T> {
  return request<T>('PATCH', path, body, options);
}

// `delete` is a reserved word, so it cannot be a function name; it is exported under that name below.
function del<T>(path: string, options?: RequestOptions): Promise<T> {
  return request<T>('DELETE', path, undefined, options);
}
export { del as delete };

// ---- Uploads with progress ---------------------------------------------------------------------

export interface UploadRequestOptions {
  contentType: string;
  /** More request headers (e.g. a Content-Range). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  /** The error message when the connection fails. */
  networkErrorMessage?: string;
  /** Adds to the error of a failed answer what the endpoint sends in headers (e.g. an upload's offset). */
  withHeaders?: (error: ApiError, header: (name: string) => string | null) => ApiError;
}

function uploadCancelled(): DOMException {
  return new DOMException('The upload was cancelled', 'AbortError');
}

/** One request with XMLHttpRequest: fetch reports no upload progress. */
function sendUpload<T>(method: Method, path: string, body: Blob, options: UploadRequestOptions): Promise<T> {
  const { signal, onProgress } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(uploadCancelled());
      return;
    }
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    const done = () => signal?.removeEventListener('abort', onAbort);
    xhr.open(method, path);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Content-Type', options.contentType);
    xhr.setRequestHeader('Accept', 'application/json');
    for (const [name, value] of Object.entries(options.headers ?? {})) xhr.setRequestHeader(name, value);
    if (csrfToken !== undefined) xhr.setRequestHeader('X-CSRF-Token', csrfToken);
    xhr.upload.onprogress = (event) => onProgress?.(event);
    xhr.onload = () => {
      done();
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(JSON.parse(xhr.responseText) as T);
        } catch (err) {
          reject(new ApiError(xhr.status, 'invalid_response', 'The server sent an answer that is not valid JSON', undefined, { cause: err }));
        }
        return;
      }
      const error = errorFromResponse(xhr.status, xhr.statusText, xhr.responseText, xhr.getResponseHeader('Retry-After'));
      reject(options.withHeaders ? options.withHeaders(error, (name) => xhr.getResponseHeader(name)) : error);
    };
    xhr.onerror = () => {
      done();
      reject(new ApiError(0, 'unreachable', options.networkErrorMessage ?? 'The upload lost its connection to the PaddleCloud server'));
    };
    xhr.onabort = () => {
      done();
      reject(uploadCancelled());
    };
    signal?.addEventListener('abort', onAbort);
    xhr.send(body);
  });
}

/**
 * Uploads `body` and resolves with the parsed JSON answer, reporting progress. A stale CSRF token is
 * refreshed from /api/v1/session and the upload sent once more; cancelling (the signal) rejects with an
 * AbortError.
 */
export async function upload<T>(method: Method, path: string, body: Blob, options: UploadRequestOptions): Promise<T> {
  try {
    return await sendUpload<T>(method, path, body, options);
  } catch (err) {
    if (!isCsrfError(err)) throw err;
    const me = await get<{ csrf_token?: string }>('/api/v1/session', options.signal ? { signal: options.signal } : {});
    setCsrfToken(me?.csrf_token);
    return sendUpload<T>(method, path, body, options);
  }
}

// ---- Service endpoints ------------------------------------------------------------------------

/** GET /healthz: the process is up. */
export interface Health {
  status: string;
  uptime_seconds: number;
  /** RFC 3339 UTC timestamp. */
  started_at: string;
}

/** GET /readyz: the server can serve requests (200 "ready") or not (503 "not_ready"). */
export interface Readiness {
  status: 'ready' | 'not_ready' | (string & {});
  /** Each dependency's state: "ok", or the reason it is not. */
  checks: Record<string, string>;
}

/** GET /api/v1/version. */
export interface Version {
  name: string;
  version: string;
  /** Git commit the binary was built from, or "unknown". */
  commit: string;
}

export function getHealth(options?: RequestOptions): Promise<Health> {
  return get<Health>('/healthz', options);
}

/** Resolves for both 200 (ready) and 503 (not ready); throws only when there is no readiness answer. */
export function getReadiness(options?: RequestOptions): Promise<Readiness> {
  return get<Readiness>('/readyz', { ...options, acceptStatus: [503] });
}

export function getVersion(options?: RequestOptions): Promise<Version> {
  return get<Version>('/api/v1/version', options);
}
