/**
 * A tiny HTTP helper for provider API calls: one timeout covering connect, headers and body,
 * redirects never followed (a redirect from an API would silently re-send a credentialed request
 * somewhere else), and every network failure turned into a ProviderError with an honest `kind`.
 * It does not judge non-2xx statuses: each provider client maps its own error bodies.
 *
 * Example:
 *   const res = await httpRequest({ provider: 'resend', method: 'POST', url, json: payload,
 *     headers: { authorization: `Bearer ${key}` }, timeoutMs: 10_000 });
 *   if (res.status >= 400) throw resendError(res);
 */
import { blockedCause, trustedFetch } from '../../net/ssrf.js';
import { jsonTooDeepAt } from '../../json-limits.js';
import { ProviderError } from './provider-error.js';

export const DEFAULT_TIMEOUT_MS = 15_000;
const USER_AGENT = 'switchboard/0.1 (+https://github.com/switchboard)';

export interface HttpClientOptions {
  /**
   * The client to use (src/net/ssrf.ts): the SSRF-guarded one for tenant accounts. Defaults to
   * trustedFetch, for the operator's own URLs.
   */
  fetch?: typeof fetch;
  /** Whole-call budget in ms (connect + response + body). Defaults to DEFAULT_TIMEOUT_MS. */
  timeoutMs?: number;
}

export interface HttpRequest extends HttpClientOptions {
  /** Provider name used in errors (`telegram`, `meta_cloud`...). */
  provider: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Full URL. May contain a credential (Telegram): it is never copied into an error message. */
  url: string;
  headers?: Record<string, string>;
  /** JSON body; sets content-type. */
  json?: unknown;
  /** Form body (application/x-www-form-urlencoded). */
  form?: URLSearchParams;
  /** multipart/form-data body (file uploads); fetch sets the boundary. */
  formData?: FormData;
  /**
   * True when repeating the request cannot cause a second effect (reads, or a send carrying an
   * idempotency key the provider honours). Ambiguous failures then become `retryable` instead of
   * `unknown_outcome`.
   */
  idempotent?: boolean;
  /** Read the body as bytes (downloads) instead of text/JSON. */
  binary?: boolean;
  /** Caller's own cancellation, combined with the timeout. */
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON when the body is JSON, else undefined. */
  body: unknown;
  /** The body as text ('' for binary reads). */
  text: string;
  /** The body bytes (only for `binary` reads). */
  bytes?: Uint8Array;
}

// Failures where the TCP/TLS connection never carried our request: nothing can have been sent.
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Sends one request; throws ProviderError only for transport failures and redirects. */
export async function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  const doFetch = req.fetch ?? trustedFetch;
  const timeoutMs = req.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;

  const headers: Record<string, string> = { 'user-agent': USER_AGENT, accept: 'application/json', ...req.headers };
  let body: string | FormData | undefined;
  if (req.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(req.json);
  } else if (req.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = req.form.toString();
  } else if (req.formData) {
    body = req.formData;
  }

  try {
    const res = await doFetch(req.url, { method: req.method, headers, body, redirect: 'manual', signal });
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => undefined);
      throw new ProviderError({
        provider: req.provider,
        kind: 'permanent',
        code: String(res.status),
        httpStatus: res.status,
        message: `The ${req.provider} API answered with a redirect (${res.status}), which is not followed; check the configured API base URL.`,
      });
    }
    if (req.binary) {
      const bytes = new Uint8Array(await res.arrayBuffer());
      return { status: res.status, headers: res.headers, body: undefined, text: '', bytes };
    }
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: parseJson(text), text };
  } catch (err) {
    if (err instanceof ProviderError) throw err;
    throw transportError(req, err, timeout.aborted, timeoutMs);
  }
}

function parseJson(text: string): unknown {
  const t = text.trimStart();
  if (!t.startsWith('{') && !t.startsWith('[')) return undefined;
  if (jsonTooDeepAt(t) >= 0) return undefined; // no provider answers like that; treated as not JSON
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Finds a system/undici error code on the error or anywhere in its `cause` chain. */
function errorCode(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let depth = 0; depth < 5 && cur && typeof cur === 'object'; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function transportError(req: HttpRequest, err: unknown, timedOut: boolean, timeoutMs: number): ProviderError {
  const blocked = blockedCause(err);
  if (blocked) {
    // Said as what it is, so an operator reading error_message does not chase a network fault.
    return new ProviderError({ provider: req.provider, kind: 'permanent', code: 'blocked_url', message: `The ${req.provider} API URL was ${blocked.message}; nothing was sent. Private addresses need SWITCHBOARD_ALLOW_PRIVATE_URLS=true.` });
  }
  const name = err && typeof err === 'object' ? (err as { name?: unknown }).name : undefined;
  if (timedOut || name === 'TimeoutError') {
    return new ProviderError({
      provider: req.provider,
      kind: req.idempotent ? 'retryable' : 'unknown_outcome',
      code: 'timeout',
      message: `The ${req.provider} API did not answer within ${timeoutMs} ms; the request may or may not have been processed.`,
    });
  }
  if (name === 'AbortError') {
    return new ProviderError({
      provider: req.provider,
      kind: req.idempotent ? 'retryable' : 'unknown_outcome',
      code: 'aborted',
      message: `The call to the ${req.provider} API was cancelled; the request may or may not have been processed.`,
    });
  }
  const code = errorCode(err) ?? 'network_error';
  if (NOT_SENT_CODES.has(code)) {
    return new ProviderError({
      provider: req.provider,
      kind: 'retryable',
      code,
      message: `Could not connect to the ${req.provider} API (${code}); the request was not sent.`,
    });
  }
  // A reset or close after connecting: with fetch we cannot tell whether the request bytes were
  // already written and processed, so a send must not be repeated blindly.
  return new ProviderError({
    provider: req.provider,
    kind: req.idempotent ? 'retryable' : 'unknown_outcome',
    code,
    message: `The connection to the ${req.provider} API failed during the call (${code}); the request may or may not have been processed.`,
  });
}

/** Joins a base URL and a path without doubling or losing the slash. */
export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + '/' + path.replace(/^\/+/, '');
}

/** Narrows unknown JSON to a plain object so fields can be read without `any`. */
export function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Reads a string field from unknown JSON. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Reads a numeric field (numbers or numeric strings) from unknown JSON. */
export function num(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}


/** What every provider client factory takes besides its credentials. */
export interface ApiClientOptions extends HttpClientOptions {
  /** Provider API base URL; defaults to the real provider. Fakes plug in here. */
  baseUrl?: string;
}
