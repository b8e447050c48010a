import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { AdapterContext, RawRequest, VerifyResult } from '../contract.js';
import { deny, header, ok, stringSetting } from '../shared/webhook.js';

const GOOGLE_JWKS = 'https://www.googleapis.com/oauth2/v3/certs';
const ISSUERS = ['accounts.google.com', 'https://accounts.google.com'];

// Google's public keys, fetched and cached by jose; one cache per JWKS URL (no tenant data here).
const jwksByUrl = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function jwks(url: string): ReturnType<typeof createRemoteJWKSet> {
  let set = jwksByUrl.get(url);
  if (!set) {
    set = createRemoteJWKSet(new URL(url));
    jwksByUrl.set(url, set);
  }
  return set;
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
    ({ payload } = await jwtVerify(m[1], jwks(stringSetting(ctx.settings.jwks_url) ?? GOOGLE_JWKS), {
      issuer: ISSUERS,
      audience,
      currentDate: new Date(ctx.now()),
      algorithms: ['RS256'],
    }));
  } catch (err) {
    return deny(403, `invalid push token: ${(err as Error).message}`);
  }
  if (payload.email_verified !== true) return deny(403, 'push token email is not verified');
  const account = stringSetting(ctx.config.push_service_account, ctx.settings.push_service_account);
  if (account && payload.email !== account) return deny(403, 'push token is from another service account');
  return ok;
}
