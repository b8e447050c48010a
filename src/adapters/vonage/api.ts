/**
 * Vonage Messages API client: `POST /v1/messages` with HTTP Basic (api_key:api_secret). Built per
 * call from the account's secrets; holds nothing between calls. Errors are RFC 7807 bodies
 * `{type, title, detail, instance}`, mapped to the provider error kinds.
 *
 * Example:
 *   const v = vonageApi({ apiKey, apiSecret, baseUrl: ctx.apiBaseUrl });
 *   const { messageUuid } = await v.send({ channel: 'sms', message_type: 'text', to: '447700900000', from: '447700900001', text: 'hi' });
 */
import { ProviderError, kindForStatus, parseRetryAfter } from '../shared/provider-error.js';
import { asRecord, httpRequest, joinUrl, str } from '../shared/http.js';
import type { ApiClientOptions, HttpResponse } from '../shared/http.js';

export const VONAGE_API_BASE_URL = 'https://api.nexmo.com';
const PROVIDER = 'vonage';

export interface VonageApiOptions extends ApiClientOptions {
  apiKey: string;
  apiSecret: string;
}

/** The body of one message, in Vonage's own field names. */
export type VonageMessage = {
  channel: 'sms' | 'whatsapp';
  to: string;
  from: string;
  client_ref?: string;
  webhook_url?: string;
  context?: { message_uuid: string };
} & (
  | { message_type: 'text'; text: string }
  | { message_type: 'image' | 'audio' | 'video' | 'file'; image?: MediaBody; audio?: MediaBody; video?: MediaBody; file?: MediaBody }
  | { message_type: 'custom'; custom: Record<string, unknown> }
);

export interface MediaBody {
  url: string;
  caption?: string;
  name?: string;
}

export interface VonageApi {
  send(message: VonageMessage): Promise<{ messageUuid: string }>;
}

/** WhatsApp's "outside the customer care window" refusal (Vonage error 1340). */
const WINDOW_CLOSED = new Set(['1340']);

export function vonageError(res: HttpResponse, now = Date.now()): ProviderError {
  const body = asRecord(res.body);
  const type = str(body.type) ?? '';
  const code = type.includes('#') ? type.slice(type.lastIndexOf('#') + 1) : type ? type.slice(type.lastIndexOf('/') + 1) : String(res.status);
  const title = str(body.title) ?? `HTTP ${res.status}`;
  const detail = str(body.detail);
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), now);
  return new ProviderError({
    provider: PROVIDER,
    kind: kindForStatus(res.status),
    code,
    httpStatus: res.status,
    message: `Vonage: ${title}${detail ? ` (${detail})` : ''}`,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : res.status === 429 ? { retryAfterMs: 1000 } : {}),
    windowClosed: WINDOW_CLOSED.has(code),
  });
}

export function vonageApi(opts: VonageApiOptions): VonageApi {
  const auth = 'Basic ' + Buffer.from(`${opts.apiKey}:${opts.apiSecret}`).toString('base64');
  return {
    async send(message) {
      const res = await httpRequest({
        provider: PROVIDER,
        method: 'POST',
        url: joinUrl(opts.baseUrl ?? VONAGE_API_BASE_URL, 'v1/messages'),
        headers: { authorization: auth },
        json: message,
        fetch: opts.fetch,
        timeoutMs: opts.timeoutMs,
      });
      if (res.status !== 202 && res.status !== 200) throw vonageError(res);
      const uuid = str(asRecord(res.body).message_uuid);
      if (!uuid) {
        // Accepted, but we cannot tell which message it is: a retry could send it twice.
        throw new ProviderError({ provider: PROVIDER, kind: 'unknown_outcome', code: 'no_message_uuid', httpStatus: res.status, message: 'Vonage accepted the message without a message_uuid.' });
      }
      return { messageUuid: uuid };
    },
  };
}
