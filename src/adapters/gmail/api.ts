/**
 * Gmail API client for a customer-owned OAuth connection: refresh-token grant (access tokens cached
 * per refresh token until shortly before expiry), send, watch/stop, history and raw messages.
 * Built per call from the connection's client id/secret and refresh token.
 *
 * Example:
 *   const gm = gmailApi({ clientId, clientSecret, refreshToken, baseUrl, tokenUrl });
 *   const raw = toBase64Url(buildRfc2822({ from, to, subject, text, html, inReplyTo }));
 *   await gm.send({ raw, threadId });
 */
import { createHash } from 'node:crypto';
import { ProviderError, kindForStatus, parseRetryAfter } from '../shared/provider-error.js';
import type { ProviderErrorKind } from '../shared/provider-error.js';
import { asRecord, httpRequest, joinUrl, num, str } from '../shared/http.js';
import type { ApiClientOptions, HttpResponse } from '../shared/http.js';

export { buildRfc2822, toBase64Url } from './api-mime.js';
export type { Rfc2822Input } from './api-mime.js';

export const GMAIL_API_BASE_URL = 'https://gmail.googleapis.com';
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const PROVIDER = 'gmail';
// Refresh a little early so a token never expires between the cache check and Google's check.
const EXPIRY_MARGIN_MS = 60_000;

export interface GoogleOAuthCredentials {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

export interface GmailApiOptions extends ApiClientOptions, GoogleOAuthCredentials {
  /** Token endpoint; defaults to Google's. */
  tokenUrl?: string;
  /** Mailbox; 'me' is the account the refresh token belongs to. */
  userId?: string;
  /** Clock for the token cache (tests). */
  now?: () => number;
}

export interface GmailMessageRef {
  id: string;
  threadId: string;
  labelIds?: string[];
}

export interface GmailHistoryRecord {
  id: string;
  messages?: GmailMessageRef[];
  messagesAdded?: { message: GmailMessageRef }[];
  messagesDeleted?: { message: GmailMessageRef }[];
  labelsAdded?: { message: GmailMessageRef; labelIds: string[] }[];
  labelsRemoved?: { message: GmailMessageRef; labelIds: string[] }[];
}

export interface GmailHistoryPage {
  history: GmailHistoryRecord[];
  historyId: string;
  nextPageToken?: string;
}

export interface GmailRawMessage extends GmailMessageRef {
  /** base64url RFC 2822 message. */
  raw: string;
  historyId?: string;
  internalDate?: string;
  snippet?: string;
}

export interface GmailApi {
  getAccessToken(): Promise<string>;
  send(params: { raw: string; threadId?: string }): Promise<GmailMessageRef>;
  /** Starts (or renews) Pub/Sub push notifications for the mailbox. */
  watch(params: { topicName: string; labelIds?: string[]; labelFilterBehavior?: 'include' | 'exclude' }): Promise<{ historyId: string; expiration: string }>;
  stop(): Promise<void>;
  /** users.getProfile: the address of the mailbox the refresh token belongs to. */
  getProfile(): Promise<{ emailAddress: string; historyId: string }>;
  /** Changes after `startHistoryId`; a not_found ProviderError means the id is too old: full sync. */
  listHistory(params: { startHistoryId: string; pageToken?: string; historyTypes?: string[]; labelId?: string; maxResults?: number }): Promise<GmailHistoryPage>;
  getMessageRaw(id: string): Promise<GmailRawMessage>;
}

interface CachedToken {
  accessToken: string;
  expiresAt: number;
}

// Keyed by a hash of endpoint + client + refresh token: one entry per connection, and the raw
// refresh token is never a map key.
const tokenCache = new Map<string, CachedToken>();
const inFlight = new Map<string, Promise<CachedToken>>();

/** Forgets all cached access tokens (tests, or after rotating credentials). */
export function clearGmailTokenCache(): void {
  tokenCache.clear();
  inFlight.clear();
}

function cacheKey(tokenUrl: string, c: GoogleOAuthCredentials): string {
  return createHash('sha256').update(`${tokenUrl}\n${c.clientId}\n${c.refreshToken}`).digest('hex');
}

/** An access token for these credentials, from the cache or a refresh_token grant. */
export async function getGoogleAccessToken(opts: GmailApiOptions): Promise<string> {
  const tokenUrl = opts.tokenUrl ?? GOOGLE_TOKEN_URL;
  const now = opts.now ?? Date.now;
  const key = cacheKey(tokenUrl, opts);
  const cached = tokenCache.get(key);
  if (cached && cached.expiresAt - EXPIRY_MARGIN_MS > now()) return cached.accessToken;

  let pending = inFlight.get(key);
  if (!pending) {
    pending = refresh(tokenUrl, opts, now).finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  const fresh = await pending;
  tokenCache.set(key, fresh);
  return fresh.accessToken;
}

async function refresh(tokenUrl: string, opts: GmailApiOptions, now: () => number): Promise<CachedToken> {
  const form = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: opts.clientId,
    client_secret: opts.clientSecret,
    refresh_token: opts.refreshToken,
  });
  const res = await httpRequest({ provider: PROVIDER, method: 'POST', url: tokenUrl, form, idempotent: true, fetch: opts.fetch, timeoutMs: opts.timeoutMs });
  const body = asRecord(res.body);
  const accessToken = str(body.access_token);
  if (res.status === 200 && accessToken) {
    return { accessToken, expiresAt: now() + (num(body.expires_in) ?? 3600) * 1000 };
  }
  if (res.status === 200) {
    throw new ProviderError({ provider: PROVIDER, kind: 'retryable', code: 'bad_response', httpStatus: 200, message: 'Google token endpoint returned no access token.' });
  }
  const error = str(body.error) ?? String(res.status);
  // invalid_grant: refresh token revoked/expired; invalid_client: client id/secret wrong.
  const kind: ProviderErrorKind = error === 'invalid_grant' || error === 'invalid_client' || error === 'unauthorized_client' ? 'auth' : kindForStatus(res.status);
  throw new ProviderError({
    provider: PROVIDER,
    kind,
    code: error,
    httpStatus: res.status,
    retryAfterMs: kind === 'rate_limited' ? parseRetryAfter(res.headers.get('retry-after')) ?? 1000 : undefined,
    message: `Google token refresh failed: ${str(body.error_description) ?? error}`,
  });
}

export function gmailApi(opts: GmailApiOptions): GmailApi {
  const base = joinUrl(opts.baseUrl ?? GMAIL_API_BASE_URL, `gmail/v1/users/${encodeURIComponent(opts.userId ?? 'me')}`);
  const tokenKey = cacheKey(opts.tokenUrl ?? GOOGLE_TOKEN_URL, opts);

  async function call(method: 'GET' | 'POST', path: string, json: unknown, idempotent: boolean): Promise<HttpResponse> {
    for (let attempt = 0; ; attempt++) {
      const token = await getGoogleAccessToken(opts);
      const res = await httpRequest({
        provider: PROVIDER, method, url: joinUrl(base, path), headers: { authorization: `Bearer ${token}` }, json, idempotent,
        fetch: opts.fetch, timeoutMs: opts.timeoutMs,
      });
      if (res.status >= 200 && res.status < 300) return res;
      // A 401 means the request was refused unread, so one retry with a fresh token is safe even
      // for a send: the cached token may have been revoked before its expiry.
      if (res.status === 401 && attempt === 0) {
        tokenCache.delete(tokenKey);
        continue;
      }
      throw gmailError(res);
    }
  }

  return {
    getAccessToken: () => getGoogleAccessToken(opts),
    async send(params) {
      const body = asRecord((await call('POST', 'messages/send', params.threadId ? params : { raw: params.raw }, false)).body);
      const id = str(body.id);
      if (!id) throw new ProviderError({ provider: PROVIDER, kind: 'unknown_outcome', code: 'bad_response', httpStatus: 200, message: 'Gmail accepted the message but returned no id.' });
      return { id, threadId: str(body.threadId) ?? id, labelIds: Array.isArray(body.labelIds) ? (body.labelIds as string[]) : undefined };
    },
    async watch(params) {
      const body = asRecord((await call('POST', 'watch', params, true)).body);
      return { historyId: String(body.historyId ?? ''), expiration: String(body.expiration ?? '') };
    },
    async stop() {
      await call('POST', 'stop', undefined, true);
    },
    async getProfile() {
      const body = asRecord((await call('GET', 'profile', undefined, true)).body);
      return { emailAddress: str(body.emailAddress) ?? '', historyId: String(body.historyId ?? '') };
    },
    async listHistory(params) {
      const q = new URLSearchParams({ startHistoryId: params.startHistoryId });
      if (params.pageToken) q.set('pageToken', params.pageToken);
      if (params.labelId) q.set('labelId', params.labelId);
      if (params.maxResults) q.set('maxResults', String(params.maxResults));
      for (const t of params.historyTypes ?? []) q.append('historyTypes', t);
      const body = asRecord((await call('GET', `history?${q.toString()}`, undefined, true)).body);
      return {
        history: Array.isArray(body.history) ? (body.history as GmailHistoryRecord[]) : [],
        historyId: String(body.historyId ?? ''),
        nextPageToken: str(body.nextPageToken),
      };
    },
    async getMessageRaw(id) {
      const body = asRecord((await call('GET', `messages/${encodeURIComponent(id)}?format=raw`, undefined, true)).body);
      if (typeof body.raw !== 'string') throw new ProviderError({ provider: PROVIDER, kind: 'retryable', code: 'bad_response', httpStatus: 200, message: 'Gmail returned a message without its raw content.' });
      return body as unknown as GmailRawMessage;
    },
  };
}

const RATE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'dailyLimitExceeded', 'quotaExceeded']);

/** Maps a Google `{error:{code, message, status, errors:[{reason}]}}` answer to a ProviderError. */
export function gmailError(res: HttpResponse): ProviderError {
  const e = asRecord(asRecord(res.body).error);
  const first = asRecord(Array.isArray(e.errors) ? e.errors[0] : undefined);
  const reason = str(first.reason);
  let kind = kindForStatus(res.status);
  if (reason && RATE_REASONS.has(reason)) kind = 'rate_limited';
  const retryAfterMs = kind === 'rate_limited' ? parseRetryAfter(res.headers.get('retry-after')) ?? 1000 : undefined;
  return new ProviderError({
    provider: PROVIDER,
    kind,
    code: reason ?? str(e.status) ?? String(res.status),
    httpStatus: res.status,
    retryAfterMs,
    message: `Gmail API error: ${str(e.message) ?? `HTTP ${res.status}`}`,
  });
}
