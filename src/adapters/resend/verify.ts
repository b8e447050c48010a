import { createHmac } from 'node:crypto';
import type { AdapterContext, RawRequest, VerifyResult } from '../contract.js';
import { safeEqual } from '../shared/compare.js';
import { deny, header, ok } from '../shared/webhook.js';

const TOLERANCE_S = 5 * 60;

/**
 * Svix (Standard Webhooks) verification as Resend uses it: key = base64 of the secret after
 * `whsec_`, signature `v1,` + base64(HMAC-SHA256(key, id.timestamp.body)); the header may hold
 * several space-separated signatures during key rotation and any one passing is enough.
 * `webhook-*` header names are accepted too: same scheme, Standard Webhooks spelling.
 */
export async function verifySvix(req: RawRequest, ctx: AdapterContext): Promise<VerifyResult> {
  if (!ctx.verifySecret) return deny(401, 'no webhook secret configured for this channel');
  const msgId = header(req, 'svix-id') ?? header(req, 'webhook-id');
  const ts = header(req, 'svix-timestamp') ?? header(req, 'webhook-timestamp');
  const sigs = header(req, 'svix-signature') ?? header(req, 'webhook-signature');
  if (!msgId || !ts || !sigs) return deny(401, 'missing svix-id, svix-timestamp or svix-signature');
  if (!/^\d{1,12}$/.test(ts)) return deny(403, 'malformed svix-timestamp');
  if (Math.abs(ctx.now() / 1000 - Number(ts)) > TOLERANCE_S) return deny(403, 'timestamp outside the 5-minute window');

  const secret = ctx.verifySecret.startsWith('whsec_') ? ctx.verifySecret.slice('whsec_'.length) : ctx.verifySecret;
  const key = Buffer.from(secret, 'base64');
  if (key.length === 0) return deny(401, 'webhook secret is not valid base64');
  const expected = createHmac('sha256', key).update(`${msgId}.${ts}.`).update(req.body).digest('base64');

  let matched = false;
  for (const part of sigs.split(' ')) {
    const comma = part.indexOf(',');
    if (comma < 0 || part.slice(0, comma) !== 'v1') continue;
    if (safeEqual(part.slice(comma + 1), expected)) matched = true;
  }
  return matched ? ok : deny(403, 'no matching v1 signature');
}
