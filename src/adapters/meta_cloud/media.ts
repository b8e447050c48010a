/**
 * WhatsApp Cloud media: the media id (valid ~7 days) -> `GET /{media-id}` (Bearer) -> `{url,
 * mime_type, sha256, file_size}`; the url lasts ~5 minutes and is fetched with the same token.
 * The bytes must hash to Graph's sha256, else the item fails: never stored as good.
 * The token only goes to the Graph origin configured for the account or to Meta's own media
 * hosts (lookaside.fbsbx.com), and those through the SSRF guard.
 */
import { ProviderError } from '../shared/provider-error.js';
import { download, MediaFetchError, sameOrigin, type ProviderMedia } from '../shared/media.js';
import { metaCloudApi } from './api.js';

const META_MEDIA_HOST = /(^|\.)(fbsbx\.com|facebook\.com|fbcdn\.net|whatsapp\.net)$/i;

export const metaCloudMedia: ProviderMedia = {
  async fetchMedia(ref, ctx) {
    const accessToken = ctx.secrets.access_token;
    if (!accessToken) throw new MediaFetchError('failed', 'the channel has no access_token');
    if (!ref.providerFileId) throw new MediaFetchError('failed', 'the item has no media id');
    const api = metaCloudApi({ accessToken, baseUrl: ctx.apiBaseUrl, fetch: ctx.fetch, timeoutMs: ctx.timeoutMs });
    let info;
    try {
      info = await api.getMediaUrl(ref.providerFileId);
    } catch (err) {
      if (err instanceof ProviderError) throw new MediaFetchError(err.kind === 'retryable' || err.kind === 'rate_limited' ? 'retry' : 'failed', `WhatsApp media lookup: ${err.message}`);
      throw err;
    }
    if (info.file_size !== undefined && info.file_size > ctx.maxBytes) throw new MediaFetchError('too_large', `the file is ${info.file_size} bytes, over the ${ctx.maxBytes}-byte limit`);
    const onApi = sameOrigin(info.url, ctx.apiBaseUrl);
    let host = '';
    try {
      host = new URL(info.url).hostname;
    } catch {
      throw new MediaFetchError('failed', 'WhatsApp returned an invalid media URL');
    }
    if (!onApi && !META_MEDIA_HOST.test(host)) throw new MediaFetchError('failed', `WhatsApp returned a media URL on an unexpected host (${host}); not fetched with the token`);
    const got = await download(info.url, {
      headers: { authorization: `Bearer ${accessToken}` },
      fetch: onApi ? ctx.fetch : ctx.guardedFetch,
      guardedFetch: ctx.guardedFetch,
      maxBytes: ctx.maxBytes,
      timeoutMs: ctx.timeoutMs,
      what: 'WhatsApp media download',
    });
    return { bytes: got.bytes, mimeType: info.mime_type ?? ref.mimeType ?? got.contentType, fileName: ref.fileName, expectedSha256: info.sha256 ?? ref.sha256 };
  },
};
