/**
 * Twilio media: `MediaUrl{N}` of the inbound message, fetched with HTTP Basic (AccountSid +
 * auth token) — only when it is on Twilio's API host or the account's configured base URL, so a
 * forged URL cannot collect the credentials. Twilio answers with a redirect to its CDN, followed
 * without the credentials and through the SSRF guard.
 */
import { download, MediaFetchError, sameOrigin, type ProviderMedia } from '../shared/media.js';

const TWILIO_API = 'https://api.twilio.com';

export const twilioMedia: ProviderMedia = {
  async fetchMedia(ref, ctx) {
    const sid = ctx.secrets.account_sid;
    const token = ctx.secrets.auth_token;
    if (!ref.url) throw new MediaFetchError('failed', 'the item has no MediaUrl');
    const trusted = sameOrigin(ref.url, TWILIO_API) || sameOrigin(ref.url, ctx.apiBaseUrl);
    if (!trusted) throw new MediaFetchError('failed', "the MediaUrl is not on Twilio's API host; not fetched");
    const headers: Record<string, string> = sid && token ? { authorization: `Basic ${Buffer.from(`${sid}:${token}`).toString('base64')}` } : {};
    const got = await download(ref.url, {
      headers,
      redirects: 3,
      fetch: sameOrigin(ref.url, ctx.apiBaseUrl) ? ctx.fetch : ctx.guardedFetch,
      guardedFetch: ctx.guardedFetch,
      maxBytes: ctx.maxBytes,
      timeoutMs: ctx.timeoutMs,
      what: 'Twilio media download',
    });
    return { bytes: got.bytes, mimeType: ref.mimeType ?? got.contentType };
  },
};
