/**
 * Retell AI client, minimal: read a call (transcript, status) after a webhook. Built per call
 * from the API key.
 *
 * Example:
 *   const call = await retellApi({ apiKey, baseUrl: ctx.apiBaseUrl }).getCall('call_123');
 */
import { ProviderError, kindForStatus, parseRetryAfter } from '../shared/provider-error.js';
import { asRecord, httpRequest, joinUrl, str } from '../shared/http.js';
import type { ApiClientOptions, HttpResponse } from '../shared/http.js';

export const RETELL_API_BASE_URL = 'https://api.retellai.com';
const PROVIDER = 'retell';

export interface RetellApiOptions extends ApiClientOptions {
  apiKey: string;
}

/** The fields of Retell's call object Switchboard reads; other fields stay available as unknown. */
export interface RetellCall {
  call_id: string;
  agent_id?: string;
  call_status?: string;
  direction?: string;
  from_number?: string;
  to_number?: string;
  transcript?: string;
  start_timestamp?: number;
  end_timestamp?: number;
  disconnection_reason?: string;
  [field: string]: unknown;
}

export interface RetellApi {
  getCall(callId: string): Promise<RetellCall>;
}

export function retellApi(opts: RetellApiOptions): RetellApi {
  const base = opts.baseUrl ?? RETELL_API_BASE_URL;
  return {
    async getCall(callId) {
      const res = await httpRequest({
        provider: PROVIDER, method: 'GET', url: joinUrl(base, `v2/get-call/${encodeURIComponent(callId)}`),
        headers: { authorization: `Bearer ${opts.apiKey}` }, idempotent: true, fetch: opts.fetch, timeoutMs: opts.timeoutMs,
      });
      if (res.status === 200 && typeof asRecord(res.body).call_id === 'string') return res.body as RetellCall;
      throw retellError(res);
    },
  };
}

/** Maps a Retell error answer (status + `{message}` or `{error_message}`) to a ProviderError. */
export function retellError(res: HttpResponse): ProviderError {
  const body = asRecord(res.body);
  const kind = res.status === 200 ? 'retryable' : kindForStatus(res.status);
  return new ProviderError({
    provider: PROVIDER,
    kind,
    code: String(res.status),
    httpStatus: res.status,
    retryAfterMs: kind === 'rate_limited' ? parseRetryAfter(res.headers.get('retry-after')) ?? 1000 : undefined,
    message: `Retell API error: ${str(body.message) ?? str(body.error_message) ?? (res.status === 200 ? 'answer without call_id' : `HTTP ${res.status}`)}`,
  });
}
