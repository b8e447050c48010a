/**
 * What every provider's media code (adapters/<p>/media.ts) shares: the context a capture runs
 * in, what it returns, how it fails, and one capped download. A download never holds more than
 * the size cap in memory: a declared Content-Length past it is refused before the body is read,
 * and a body that grows past it is cut off.
 */
import type { MediaRef } from '../events.js';

export interface MediaFetchContext {
  secrets: Record<string, string>;
  settings: Record<string, unknown>;
  config: Record<string, unknown>;
  /** The provider API base URL (operator-configured, or the account's own api_base_url). */
  apiBaseUrl: string;
  /** For the provider's API and URLs on its API origin (the policy sends use). */
  fetch: typeof fetch;
  /** For any other host (a provider's CDN): always the SSRF-guarded client. */
  guardedFetch: typeof fetch;
  maxBytes: number;
  timeoutMs: number;
}

export interface FetchedMedia {
  bytes: Buffer;
  mimeType?: string;
  fileName?: string;
  /** The provider's own SHA-256 of the file (WhatsApp): checked against the bytes, hex. */
  expectedSha256?: string;
}

/**
 * `too_large`: over the cap (final); `failed`: the provider will not give it (final, e.g. 404);
 * `retry`: worth another attempt (network, 5xx, 429).
 */
export class MediaFetchError extends Error {
  constructor(
    readonly kind: 'too_large' | 'failed' | 'retry',
    message: string,
  ) {
    super(message);
    this.name = 'MediaFetchError';
  }
}

/** One provider's media support. `fetchMedia` captures an inbound item with the channel's credentials. */
export interface ProviderMedia {
  fetchMedia(ref: MediaRef, ctx: MediaFetchContext): Promise<FetchedMedia>;
}

export interface DownloadOptions {
  headers?: Record<string, string>;
  /** Redirects to follow (without the credentials: Twilio sends media to its CDN this way). */
  redirects?: number;
  /** Where it is safe to send `headers`; other hosts get the guarded client and no credentials. */
  fetch: typeof fetch;
  guardedFetch: typeof fetch;
  maxBytes: number;
  timeoutMs: number;
  /** Used in error messages instead of the URL (URLs may carry a token). */
  what: string;
}

export async function download(url: string, o: DownloadOptions): Promise<{ bytes: Buffer; contentType?: string }> {
  const signal = AbortSignal.timeout(o.timeoutMs);
  let current = url;
  let doFetch = o.fetch;
  let headers = o.headers ?? {};
  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      res = await doFetch(current, { method: 'GET', headers, redirect: 'manual', signal });
    } catch (err) {
      throw new MediaFetchError('retry', `${o.what}: ${signal.aborted ? `no answer within ${o.timeoutMs} ms` : (err as Error).message}`);
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => undefined);
      const loc = res.headers.get('location');
      if (!loc || hop >= (o.redirects ?? 0)) throw new MediaFetchError('failed', `${o.what}: redirected (${res.status}), not followed`);
      current = new URL(loc, current).href;
      doFetch = o.guardedFetch;
      headers = {};
      continue;
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      const retry = res.status === 429 || res.status >= 500;
      throw new MediaFetchError(retry ? 'retry' : 'failed', `${o.what}: HTTP ${res.status}`);
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > o.maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw new MediaFetchError('too_large', `${o.what}: ${declared} bytes, over the ${o.maxBytes}-byte limit`);
    }
    const parts: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        total += chunk.length;
        if (total > o.maxBytes) {
          await res.body?.cancel().catch(() => undefined);
          throw new MediaFetchError('too_large', `${o.what}: over the ${o.maxBytes}-byte limit`);
        }
        parts.push(Buffer.from(chunk));
      }
    } catch (err) {
      if (err instanceof MediaFetchError) throw err;
      throw new MediaFetchError('retry', `${o.what}: the download broke off (${(err as Error).message})`);
    }
    return { bytes: Buffer.concat(parts), contentType: res.headers.get('content-type') ?? undefined };
  }
}

/** Whether `url` is on the same origin as `base` (credentials may only go there). */
export function sameOrigin(url: string, base: string): boolean {
  try {
    return new URL(url).origin === new URL(base).origin;
  } catch {
    return false;
  }
}

/**
 * A provider API lookup that precedes a download (Resend's attachment, Gmail's message parts):
 * JSON or a MediaFetchError of the right kind (429/5xx/network retry; other statuses are final).
 */
export async function lookupJson(url: string, o: { fetch: typeof fetch; headers: Record<string, string>; timeoutMs: number; what: string }): Promise<Record<string, unknown>> {
  const signal = AbortSignal.timeout(o.timeoutMs);
  let res: Response;
  try {
    res = await o.fetch(url, { method: 'GET', headers: { accept: 'application/json', ...o.headers }, redirect: 'manual', signal });
  } catch (err) {
    throw new MediaFetchError('retry', `${o.what}: ${signal.aborted ? `no answer within ${o.timeoutMs} ms` : (err as Error).message}`);
  }
  const text = await res.text().catch(() => '');
  if (res.status !== 200) {
    const retry = res.status === 429 || res.status >= 500;
    throw new MediaFetchError(retry ? 'retry' : 'failed', `${o.what}: HTTP ${res.status}`);
  }
  try {
    const body = JSON.parse(text) as unknown;
    if (body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new MediaFetchError('failed', `${o.what}: the answer is not a JSON object`);
}
