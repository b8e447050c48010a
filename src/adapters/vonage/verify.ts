/**
 * Vonage signs Messages API webhooks with `Authorization: Bearer <JWT>`: HS256 keyed with the
 * account's signature secret, claims carrying `iat` and `payload_hash` (hex SHA-256 of the raw
 * body). Fail closed: a wrong algorithm, signature, body hash or a stale/future `iat` is refused.
 */
import { createHash } from 'node:crypto';
import { jwtVerify, errors as joseErrors } from 'jose';
import type { AdapterContext, RawRequest, VerifyResult } from '../contract.js';
import { safeEqual } from '../shared/compare.js';
import { deny, header, ok } from '../shared/webhook.js';

/** How old a token may be (Vonage signs at send time; its retries sign again). */
export const MAX_AGE_S = 5 * 60;
/** How far in the future `iat` may be (clock skew). */
const SKEW_S = 60;

export async function verifyVonage(req: RawRequest, ctx: AdapterContext): Promise<VerifyResult> {
  if (!ctx.verifySecret) return deny(401, 'no signature secret configured for this channel');
  const auth = header(req, 'authorization');
  const m = auth ? /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i.exec(auth.trim()) : null;
  if (!m) return deny(401, 'missing Authorization: Bearer signature');
  let claims: Record<string, unknown>;
  try {
    const r = await jwtVerify(m[1], new TextEncoder().encode(ctx.verifySecret), {
      algorithms: ['HS256'],
      currentDate: new Date(ctx.now()),
      clockTolerance: SKEW_S,
    });
    claims = r.payload as Record<string, unknown>;
  } catch (err) {
    return deny(403, err instanceof joseErrors.JOSEError ? 'invalid webhook signature' : 'unreadable webhook signature');
  }
  const nowS = ctx.now() / 1000;
  const iat = claims.iat;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return deny(403, 'the signature has no iat');
  if (nowS - iat > MAX_AGE_S || iat - nowS > SKEW_S) return deny(403, 'stale or future-dated signature');
  const hash = claims.payload_hash;
  if (typeof hash !== 'string') return deny(403, 'the signature has no payload_hash');
  const actual = createHash('sha256').update(req.body).digest('hex');
  if (!safeEqual(hash.toLowerCase(), actual)) return deny(403, 'payload_hash does not match the body');
  // A token minted for another API key of the same secret is not for this account.
  const key = ctx.secrets.api_key;
  if (key && typeof claims.api_key === 'string' && !safeEqual(claims.api_key, key)) return deny(403, 'the signature is for another API key');
  return ok;
}
