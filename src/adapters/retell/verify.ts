import type { AdapterContext, RawRequest, VerifyResult } from '../contract.js';
import { hmacSha256Hex, safeEqual } from '../shared/compare.js';
import { deny, header, ok } from '../shared/webhook.js';

const WINDOW_MS = 5 * 60 * 1000;

/**
 * x-retell-signature: `v=<ms>,d=<hex HMAC-SHA256(api_key, body + ms)>` where body and the decimal
 * timestamp are concatenated as text (retell-sdk lib/webhook_auth `symmetric`). The SDK compares
 * with `===`; we compare in constant time.
 */
export async function verifyRetell(req: RawRequest, ctx: AdapterContext): Promise<VerifyResult> {
  if (!ctx.verifySecret) return deny(401, 'no api key configured for this channel');
  const got = header(req, 'x-retell-signature');
  if (!got) return deny(401, 'missing x-retell-signature');
  const m = /^v=(\d{1,16}),d=([0-9a-fA-F]+)$/.exec(got.trim());
  if (!m) return deny(403, 'malformed x-retell-signature');
  const ts = m[1];
  if (Math.abs(ctx.now() - Number(ts)) > WINDOW_MS) return deny(403, 'timestamp outside the 5-minute window');
  const expected = hmacSha256Hex(ctx.verifySecret, req.body, ts);
  return safeEqual(m[2].toLowerCase(), expected) ? ok : deny(403, 'signature mismatch');
}
