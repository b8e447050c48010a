import type { AdapterContext, RawRequest, VerifyResult } from '../contract.js';
import { hmacSha256Hex, safeEqual } from '../shared/compare.js';
import { isObj } from '../shared/guards.js';
import { deny, header, ok } from '../shared/webhook.js';

/**
 * Every post names its visitor with a signature: hex HMAC-SHA256 of visitor_id with the channel
 * secret. Anonymous visitors get theirs from the web chat session endpoint (which picks a random
 * visitor id); a site that knows its users signs their ids itself. Without this anyone who knows
 * the channel id (it is in the page source) could write into any visitor's conversation.
 */
export async function verifyWeb(req: RawRequest, ctx: AdapterContext): Promise<VerifyResult> {
  const sig = header(req, 'x-switchboard-visitor-signature');
  if (sig === undefined) return deny(401, 'missing X-Switchboard-Visitor-Signature: start a session at /v1/webchat/{channel_id}/session');
  if (!ctx.verifySecret) return deny(403, 'the channel has no secret to check visitor signatures with');
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
