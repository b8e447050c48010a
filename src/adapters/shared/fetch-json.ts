import { ProviderFetchError } from './errors.js';
import { httpRequest } from './http.js';
import { ProviderError } from './provider-error.js';

export interface FetchJsonOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  form?: URLSearchParams;
  timeoutMs?: number;
}

/**
 * Reads JSON from a provider API while parsing a webhook. Transport failures, non-2xx answers and
 * non-JSON bodies all become ProviderFetchError: the event itself was fine, so the webhook should
 * be answered 5xx and retried by the provider. The URL is never put in the message (tokens).
 */
export async function fetchJson(fetchFn: typeof fetch, provider: string, what: string, url: string, opts: FetchJsonOptions = {}): Promise<unknown> {
  let res;
  try {
    res = await httpRequest({
      provider,
      method: opts.method ?? 'GET',
      url,
      headers: opts.headers,
      form: opts.form,
      fetch: fetchFn,
      idempotent: true,
      timeoutMs: opts.timeoutMs ?? 10_000,
    });
  } catch (err) {
    const detail = err instanceof ProviderError ? err.code : 'network_error';
    throw new ProviderFetchError(provider, `${what} failed (${detail})`);
  }
  if (res.status < 200 || res.status >= 300) throw new ProviderFetchError(provider, `${what} answered ${res.status}`, res.status);
  if (res.body === undefined) throw new ProviderFetchError(provider, `${what} answered with a non-JSON body`, res.status);
  return res.body;
}
