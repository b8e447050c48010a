/**
 * The one error every provider API client throws. Callers (the send worker, provisioning) decide
 * what to do from `kind` alone; `code` keeps the provider's own code for the channel status and logs.
 *
 * Example:
 *   try { await telegramApi(opts).sendMessage({ chat_id: 1, text: 'hi' }); }
 *   catch (e) { if (e instanceof ProviderError && e.kind === 'rate_limited') delay(e.retryAfterMs); }
 */

/**
 * - `rate_limited`: the provider refused because of a rate limit; safe to retry after `retryAfterMs`.
 * - `retryable`: the request cannot have been acted on (connection refused, DNS failure, a 5xx the
 *   provider documents as not accepted, Twilio 20429); safe to retry with backoff.
 * - `unknown_outcome`: the request may have been acted on (timeout after sending, connection dropped
 *   mid-response); never retry blindly, a retry may deliver the message twice.
 * - `auth`: credentials are missing, revoked or expired; retrying will not help until they are fixed.
 * - `permanent`: the request itself is wrong (invalid recipient, text too long, outside the
 *   24-hour window); retrying the same request will fail again.
 * - `not_found`: the addressed object (chat, message, call, media, history) does not exist.
 */
export type ProviderErrorKind =
  | 'rate_limited'
  | 'retryable'
  | 'unknown_outcome'
  | 'auth'
  | 'permanent'
  | 'not_found';

export const PROVIDER_ERROR_KINDS: readonly ProviderErrorKind[] = [
  'rate_limited',
  'retryable',
  'unknown_outcome',
  'auth',
  'permanent',
  'not_found',
];

export interface ProviderErrorInit {
  provider: string;
  kind: ProviderErrorKind;
  /** The provider's own error code as a string ('429', '131047', '20429', 'ECONNREFUSED'...). */
  code: string;
  /** A plain sentence for operators. Must never contain a token, key or URL carrying one. */
  message: string;
  httpStatus?: number;
  retryAfterMs?: number;
  /** True when the message was refused because the customer-service window (24 h) is closed. */
  windowClosed?: boolean;
  /** The recipient's new id, when the provider says it moved (a Telegram group that became a supergroup). */
  movedTo?: string;
}

export class ProviderError extends Error {
  readonly provider: string;
  readonly kind: ProviderErrorKind;
  readonly code: string;
  readonly httpStatus?: number;
  readonly retryAfterMs?: number;
  readonly windowClosed: boolean;
  readonly movedTo?: string;

  constructor(init: ProviderErrorInit) {
    super(init.message);
    this.name = 'ProviderError';
    this.provider = init.provider;
    this.kind = init.kind;
    this.code = init.code;
    this.httpStatus = init.httpStatus;
    this.retryAfterMs = init.retryAfterMs;
    this.windowClosed = init.windowClosed ?? false;
    if (init.movedTo !== undefined) this.movedTo = init.movedTo;
  }

  /** True when sending the same request again cannot deliver it twice (after `retryAfterMs`, if set). */
  get safeToRetry(): boolean {
    return this.kind === 'rate_limited' || this.kind === 'retryable';
  }

  /** A log-friendly shape; deliberately lists only fields that never carry secrets. */
  toJSON(): Record<string, string | number | boolean | undefined> {
    return {
      name: this.name,
      provider: this.provider,
      kind: this.kind,
      code: this.code,
      httpStatus: this.httpStatus,
      retryAfterMs: this.retryAfterMs,
      windowClosed: this.windowClosed,
      message: this.message,
    };
  }
}

/**
 * The default reading of an HTTP status when the provider's body says nothing more specific.
 * 504 is `unknown_outcome`: a gateway timed out waiting for a backend that may still have sent.
 */
export function kindForStatus(status: number): ProviderErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 404 || status === 410) return 'not_found';
  if (status === 429) return 'rate_limited';
  if (status === 504) return 'unknown_outcome';
  if (status >= 500) return 'retryable';
  return 'permanent';
}

/**
 * Parses a Retry-After header (delta-seconds or HTTP date) into milliseconds from `now`: the one
 * parser for providers' answers and agents' (core/delivery.ts, which caps it at an hour).
 *
 * @example parseRetryAfter('3') === 3000; parseRetryAfter(agentHeader, Date.now(), 3_600_000)
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now(), maxMs = Infinity): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.min(Math.round(Number(trimmed) * 1000), maxMs);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - now), maxMs);
}
