import type { AdapterContext, RawRequest, VerifyResult } from '../types.js';
import { hmacSha256Hex, safeEqual } from '../shared/compare.js';
import { isObj } from '../shared/guards.js';
import { deny, header, ok } from '../shared/webhook.js';

/**
 * The web channel is public: unsigned posts are anonymous visitors and pass. A site that
 * identifies its visitors signs visitor_id (hex HMAC-SHA256 with the channel secret); a signature
 * that is present must then be right, so a forged identity is refused instead of downgraded.
 */
export async function verifyWeb(req: RawRequest, ctx: AdapterContext): Promise<VerifyResult> {
  const sig = header(req, 'x-switchboard-visitor-signature');
  if (sig === undefined) return ok;
  if (!ctx.verifySecret) return deny(403, 'visitor signature sent but the channel has no secret');
  let visitorId: unknown;
  try {
    const body: unknown = JSON.parse(req.body.toString('utf8'));
    visitorId = isObj(body) ? body.visitor_id : undefined;
  } catch {
    return deny(403, 'signed request with an unreadable body');
  }
  if (typeof visitorId !== 'string' || visitorId === '') return deny(403, 'signed request without visitor_id');
  return safeEqual(sig.trim().toLowerCase(), hmacSha256Hex(ctx.verifySecret, visitorId)) ? ok : deny(403, 'visitor signature mismatch');
}
