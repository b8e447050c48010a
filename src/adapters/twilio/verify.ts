import type { AdapterContext, RawRequest, VerifyResult } from '../contract.js';
import { safeEqual } from '../shared/compare.js';
import { deny, header, ok } from '../shared/webhook.js';
import { formParams, sha256Hex, twilioSignature, urlVariants } from './signature.js';

/**
 * X-Twilio-Signature over the public URL and the form params. JSON bodies (the URL carries
 * `bodySHA256`) are signed over the URL alone, and the body must hash to that parameter.
 */
export async function verifyTwilio(req: RawRequest, ctx: AdapterContext): Promise<VerifyResult> {
  const token = ctx.verifySecret;
  if (!token) return deny(401, 'no auth token configured for this channel');
  const got = header(req, 'x-twilio-signature');
  if (!got) return deny(401, 'missing X-Twilio-Signature');

  let bodyHash: string | null = null;
  try {
    bodyHash = new URL(req.publicUrl).searchParams.get('bodySHA256');
  } catch {
    return deny(403, 'unparseable webhook URL');
  }
  const params = bodyHash === null ? formParams(req.body) : new Map<string, string[]>();
  if (bodyHash !== null && !safeEqual(bodyHash.toLowerCase(), sha256Hex(req.body))) return deny(403, 'body does not match bodySHA256');

  // Check every variant (no early exit) so timing does not tell which URL form was tried.
  let matched = false;
  for (const url of urlVariants(req.publicUrl)) {
    if (safeEqual(got, twilioSignature(token, url, params))) matched = true;
  }
  return matched ? ok : deny(403, 'signature mismatch');
}
