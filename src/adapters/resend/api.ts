/**
 * Resend client: send email (with an Idempotency-Key, so a retry never sends twice) and fetch the
 * body of a received email (webhooks carry none). Built per call from the API key.
 *
 * Example:
 *   const rs = resendApi({ apiKey, baseUrl: ctx.apiBaseUrl });
 *   const { id } = await rs.sendEmail({ from, to: ['a@b.c'], subject: 'Hi', text: 'Hello' },
 *     { idempotencyKey: `msg_${messageId}` });
 */
import { ProviderError, kindForStatus, parseRetryAfter } from '../shared/provider-error.js';
import type { ProviderErrorKind } from '../shared/provider-error.js';
import { asRecord, httpRequest, joinUrl, str } from '../shared/http.js';
import type { ApiClientOptions, HttpResponse } from '../shared/http.js';

export const RESEND_API_BASE_URL = 'https://api.resend.com';
const PROVIDER = 'resend';

export interface ResendApiOptions extends ApiClientOptions {
  apiKey: string;
}

export interface ResendAttachment {
  filename: string;
  /** Base64 content, or give `path` (a URL Resend fetches). */
  content?: string;
  path?: string;
  content_type?: string;
}

export interface SendEmailParams {
  from: string;
  to: string | string[];
  subject: string;
  html?: string;
  text?: string;
  cc?: string | string[];
  bcc?: string | string[];
  reply_to?: string | string[];
  /** Extra headers, e.g. In-Reply-To and References for threading. */
  headers?: Record<string, string>;
  attachments?: ResendAttachment[];
}

export interface SendEmailOptions {
  /** Resend keeps it 24 h: the same key and body return the same id instead of sending again. */
  idempotencyKey?: string;
}

export interface ReceivedEmail {
  id: string;
  from: string;
  to: string[];
  cc?: string[];
  subject: string;
  html: string | null;
  text: string | null;
  headers: Record<string, string>;
  message_id?: string;
  created_at?: string;
  attachments?: { id?: string; filename: string; content_type: string; size?: number }[];
}

export interface ResendApi {
  sendEmail(params: SendEmailParams, options?: SendEmailOptions): Promise<{ id: string }>;
  getReceivedEmail(id: string): Promise<ReceivedEmail>;
}

export function resendApi(opts: ResendApiOptions): ResendApi {
  const base = opts.baseUrl ?? RESEND_API_BASE_URL;
  const auth = { authorization: `Bearer ${opts.apiKey}` };

  return {
    async sendEmail(params, options = {}) {
      const headers: Record<string, string> = { ...auth };
      if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
      const res = await httpRequest({
        provider: PROVIDER, method: 'POST', url: joinUrl(base, 'emails'), headers, json: params,
        // With a key, Resend answers a repeat with the first result, so ambiguous failures are safe to retry.
        idempotent: Boolean(options.idempotencyKey),
        fetch: opts.fetch, timeoutMs: opts.timeoutMs,
      });
      if (res.status >= 200 && res.status < 300) {
        const id = str(asRecord(res.body).id);
        if (id) return { id };
        throw new ProviderError({ provider: PROVIDER, kind: 'unknown_outcome', code: 'bad_response', httpStatus: res.status, message: 'Resend accepted the email but returned no id.' });
      }
      throw resendError(res);
    },
    async getReceivedEmail(id) {
      const res = await httpRequest({
        provider: PROVIDER, method: 'GET', url: joinUrl(base, `emails/receiving/${encodeURIComponent(id)}`), headers: auth,
        idempotent: true, fetch: opts.fetch, timeoutMs: opts.timeoutMs,
      });
      if (res.status === 200) return res.body as ReceivedEmail;
      throw resendError(res);
    },
  };
}

const NAME_KIND: Record<string, ProviderErrorKind> = {
  missing_api_key: 'auth',
  invalid_api_key: 'auth',
  restricted_api_key: 'auth',
  // Another request with the same key is still running: retrying later returns its result.
  concurrent_idempotent_requests: 'retryable',
  invalid_idempotent_request: 'permanent',
  invalid_idempotency_key: 'permanent',
  not_found: 'not_found',
  rate_limit_exceeded: 'rate_limited',
  daily_quota_exceeded: 'rate_limited',
  monthly_quota_exceeded: 'rate_limited',
};

/** Maps a Resend `{statusCode, name, message}` answer to a ProviderError. */
export function resendError(res: HttpResponse): ProviderError {
  const body = asRecord(res.body);
  const name = str(body.name);
  let kind = (name ? NAME_KIND[name] : undefined) ?? kindForStatus(res.status);
  // 403 validation_error is "domain not verified" / "testing address only": the request, not the key.
  if (res.status === 403 && name === 'validation_error') kind = 'permanent';
  let retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
  if (kind === 'rate_limited' && retryAfterMs === undefined) retryAfterMs = name === 'rate_limit_exceeded' ? 1000 : 3_600_000;
  return new ProviderError({
    provider: PROVIDER,
    kind,
    code: name ?? String(res.status),
    httpStatus: res.status,
    retryAfterMs,
    message: `Resend API error: ${str(body.message) ?? `HTTP ${res.status}`}`,
  });
}
