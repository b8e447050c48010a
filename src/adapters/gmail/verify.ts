import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet } from 'jose';
import type { AdapterContext, RawRequest, VerifyResult } from '../contract.js';
import { deny, header, ok, stringSetting } from '../shared/webhook.js';
import { httpRequest } from '../shared/http.js';
import { ProviderError } from '../shared/provider-error.js';

const GOOGLE_JWKS = 'https://www.googleapis.com/oauth2/v3/certs';
const ISSUERS = ['accounts.google.com', 'https://accounts.google.com'];
/** Google rotates its keys about weekly and publishes them ahead; an hour is well inside that. */
const JWKS_TTL_MS = 3600_000;
/** A token with an unknown key id refetches, but not more often than this (an attacker could send many). */
const JWKS_REFETCH_MS = 30_000;

type KeySet = ReturnType<typeof createLocalJWKSet>;
interface CachedKeys { keys: KeySet; fetchedAt: number }

// Public keys per JWKS URL. They are fetched through the context's client (the SSRF-guarded one
// for a tenant's connection): jose's own remote fetcher would connect anywhere a setting names.
const jwksByUrl = new Map<string, CachedKeys>();
const inFlight = new Map<string, Promise<CachedKeys>>();

async function fetchKeys(url: string, ctx: AdapterContext): Promise<CachedKeys> {
  let p = inFlight.get(url);
  if (!p) {
    p = (async () => {
      const res = await httpRequest({ provider: 'gmail', method: 'GET', url, fetch: ctx.fetch, idempotent: true, timeoutMs: 5_000 });
      const body = res.body as JSONWebKeySet | undefined;
      if (res.status !== 200 || !body || !Array.isArray(body.keys)) throw new Error(`the JWKS at ${url} answered ${res.status} without keys`);
      const entry = { keys: createLocalJWKSet(body), fetchedAt: ctx.now() };
      if (jwksByUrl.size >= 100) jwksByUrl.clear();
      jwksByUrl.set(url, entry);
      return entry;
    })().finally(() => inFlight.delete(url));
    inFlight.set(url, p);
  }
  return p;
}

async function keysFor(url: string, ctx: AdapterContext): Promise<CachedKeys> {
  const hit = jwksByUrl.get(url);
  if (hit && ctx.now() - hit.fetchedAt < JWKS_TTL_MS) return hit;
  return fetchKeys(url, ctx);
}

async function verifyToken(token: string, url: string, ctx: AdapterContext, audience: string) {
  const opts = { issuer: ISSUERS, audience, currentDate: new Date(ctx.now()), algorithms: ['RS256'] };
  const cached = await keysFor(url, ctx);
  try {
    return await jwtVerify(token, cached.keys, opts);
  } catch (err) {
    // A key Google added since our fetch: refetch once (rate-limited), then decide.
    if (!(err instanceof joseErrors.JWKSNoMatchingKey) || ctx.now() - cached.fetchedAt < JWKS_REFETCH_MS) throw err;
    return jwtVerify(token, (await fetchKeys(url, ctx)).keys, opts);
  }
}

/**
 * Pub/Sub push requests carry a Google-signed OIDC token. It must be for our audience (required:
 * without one any Google-signed token would pass), come from Google, have a verified email and,
 * when configured, be the push subscription's service account.
 */
export async function verifyGmail(req: RawRequest, ctx: AdapterContext): Promise<VerifyResult> {
  const audience = stringSetting(ctx.config.push_audience, ctx.settings.push_audience);
  if (!audience) return deny(401, 'push_audience is not configured');
  const auth = header(req, 'authorization');
  const m = auth ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
  if (!m) return deny(401, 'missing Bearer token');
  let payload;
  try {
    ({ payload } = await verifyToken(m[1], stringSetting(ctx.settings.jwks_url) ?? GOOGLE_JWKS, ctx, audience));
  } catch (err) {
    if (err instanceof ProviderError) return deny(403, `push token keys could not be fetched: ${err.message}`);
    return deny(403, `invalid push token: ${(err as Error).message}`);
  }
  if (payload.email_verified !== true) return deny(403, 'push token email is not verified');
  const account = stringSetting(ctx.config.push_service_account, ctx.settings.push_service_account);
  if (account && payload.email !== account) return deny(403, 'push token is from another service account');
  return ok;
}
