// The PaddleCloud REST API client: every page talks to the server through this module.
//
// Contract with the server (see docs/DESIGN.md, "Conventions"):
// - requests and responses are JSON; the browser authenticates with its same-origin session cookie;
// - a failure is an HTTP status plus `{"error":{"code":"snake_case","message":"...","details":{...}}}`,
//   where `details.field` names the offending input field when there is one.
// Every failure reaches callers as an `ApiError`; an aborted request rejects with the fetch AbortError.

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
  /** Machine-readable snake_case code, e.g. `not_found`, `network_error`. */
  readonly code: string;
  /** The input field the error is about, when the server named one. */
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = status;
    this.code = code;
    this.details = details;
    this.field = typeof details?.['field'] === 'string' ? details['field'] : undefined;
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

/** Builds the ApiError for a non-2xx answer whose raw body text is `text`. */
export function errorFromResponse(status: number, statusText: string, text: string): ApiError {
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const envelope = parseErrorBody(parsed);
  if (envelope) return new ApiError(status, envelope.code, envelope.message, envelope.details);
  const reason = statusText ? `${status} ${statusText}` : `${status}`;
  return new ApiError(status, codeForStatus(status), `The server answered HTTP ${reason}`);
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

/** Sends one request; resolves with the parsed JSON body (undefined for an empty body). */
export async function request<T>(
  method: Method,
  path: string,
  body?: unknown,
  options: RequestOptions = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  const init: RequestInit = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (options.signal) init.signal = options.signal;

  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), init);
  } catch (err) {
    if (isAbort(err)) throw err;
    throw new ApiError(0, 'network_error', 'Could not reach the PaddleCloud server', undefined, {
      cause: err,
    });
  }

  let text: string;
  try {
    text = await response.text();
  } catch (err) {
    if (isAbort(err)) throw err;
    throw new ApiError(0, 'network_error', 'The connection to the server was lost', undefined, {
      cause: err,
    });
  }

  if (!response.ok && !options.acceptStatus?.includes(response.status)) {
    throw errorFromResponse(response.status, response.statusText, text);
  }
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

export function get<T>(path: string, options?: RequestOptions): Promise<T> {
  return request<T>('GET', path, undefined, options);
}

export function post<T>(path: string, body?: unknown, options?: RequestOptions): Promise<T> {
  return request<T>('POST', path, body, options);
}

export function put<T>(path: string, body?: unknown, options?: RequestOptions): Promise<T> {
  return request<T>('PUT', path, body, options);
}

// `delete` is a reserved word, so it cannot be a function name; it is exported under that name below.
function del<T>(path: string, options?: RequestOptions): Promise<T> {
  return request<T>('DELETE', path, undefined, options);
}
export { del as delete };

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
