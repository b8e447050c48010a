import type { AdapterContext, RawRequest, VerifyResult, WebhookReply } from '../contract.js';
import { hmacSha256Hex, safeEqual } from '../shared/compare.js';
import { deny, header, ok, stringSetting } from '../shared/webhook.js';

/** X-Hub-Signature-256 = 'sha256=' + hex HMAC-SHA256(app_secret, raw body bytes). */
export async function verifyMeta(req: RawRequest, ctx: AdapterContext): Promise<VerifyResult> {
  if (!ctx.verifySecret) return deny(401, 'no app secret configured for this channel');
  const got = header(req, 'x-hub-signature-256');
  if (!got) return deny(401, 'missing X-Hub-Signature-256');
  const expected = 'sha256=' + hmacSha256Hex(ctx.verifySecret, req.body);
  // Meta sends lower-case hex; normalise so a proxy that upper-cases does not break us.
  return safeEqual(got.trim().toLowerCase(), expected) ? ok : deny(403, 'signature mismatch');
}

/** The GET subscription handshake: echo hub.challenge when hub.verify_token matches the channel's. */
export function metaHandshake(req: RawRequest, ctx: AdapterContext): WebhookReply {
  const forbidden: WebhookReply = { status: 403, contentType: 'text/plain', body: 'forbidden' };
  const expected = stringSetting(ctx.config.verify_token);
  if (!expected) return forbidden;
  let q: URLSearchParams;
  try {
    q = new URL(req.publicUrl).searchParams;
  } catch {
    return forbidden;
  }
  const token = q.get('hub.verify_token');
  const challenge = q.get('hub.challenge');
  if (q.get('hub.mode') !== 'subscribe' || token === null || challenge === null) return forbidden;
  if (!safeEqual(token, expected)) return forbidden;
  return { status: 200, contentType: 'text/plain', body: challenge };
}
