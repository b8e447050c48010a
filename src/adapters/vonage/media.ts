/**
 * Vonage inbound media: an image/audio/video/file message carries a `url` on Vonage's media
 * servers (`https://api-*.nexmo.com/v3/media/{uuid}`, kept 48 hours). With standard security the
 * URL is the capability and is fetched without credentials; with "Secure Inbound Media" Vonage
 * wants `Authorization: Bearer <JWT>` signed (RS256) with the Vonage application's private key —
 * sent when the connection has `application_id` and `private_key`, and only to Vonage's own
 * hosts (or the configured API origin). Everything else goes through the SSRF guard.
 */
import { randomUUID } from 'node:crypto';
import { importPKCS8, SignJWT } from 'jose';
import { download, MediaFetchError, sameOrigin, type ProviderMedia } from '../shared/media.js';

const VONAGE_HOST = /(^|\.)(nexmo\.com|vonage\.com)$/i;

/** The application JWT Vonage documents for its APIs: application_id, iat, exp, jti; RS256. */
async function applicationJwt(applicationId: string, privateKey: string): Promise<string> {
  let key;
  try {
    key = await importPKCS8(privateKey.replace(/\\n/g, '\n'), 'RS256');
  } catch {
    throw new MediaFetchError('failed', 'the connection private_key is not a PKCS#8 PEM RSA key');
  }
  return new SignJWT({ application_id: applicationId })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime('5m')
    .setJti(randomUUID())
    .sign(key);
}

export const vonageMedia: ProviderMedia = {
  async fetchMedia(ref, ctx) {
    if (!ref.url) throw new MediaFetchError('failed', 'the item has no media url');
    let u: URL;
    try {
      u = new URL(ref.url);
    } catch {
      throw new MediaFetchError('failed', 'the media url is not a URL');
    }
    const onApi = sameOrigin(ref.url, ctx.apiBaseUrl);
    const vonageHost = onApi || (u.protocol === 'https:' && VONAGE_HOST.test(u.hostname));
    const { application_id: appId, private_key: pem } = ctx.secrets;
    const headers = vonageHost && appId && pem ? { authorization: `Bearer ${await applicationJwt(appId, pem)}` } : undefined;
    const got = await download(ref.url, {
      ...(headers ? { headers } : {}),
      redirects: 2,
      fetch: onApi ? ctx.fetch : ctx.guardedFetch,
      guardedFetch: ctx.guardedFetch,
      maxBytes: ctx.maxBytes,
      timeoutMs: ctx.timeoutMs,
      what: 'Vonage media download',
    });
    return { bytes: got.bytes, mimeType: got.contentType ?? ref.mimeType, fileName: ref.fileName };
  },
};
