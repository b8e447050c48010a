/**
 * Retell call recordings: `call_ended` names the call's `recording_url`, a public link on Retell's
 * storage (the unguessable URL is the capability). It is fetched without credentials — the API
 * key is never sent there — through the SSRF guard (the configured API origin excepted, where a
 * local fake serves it).
 */
import { download, MediaFetchError, sameOrigin, type ProviderMedia } from '../shared/media.js';

export const retellMedia: ProviderMedia = {
  async fetchMedia(ref, ctx) {
    if (!ref.url) throw new MediaFetchError('failed', 'the item has no recording url');
    const got = await download(ref.url, {
      redirects: 2,
      fetch: sameOrigin(ref.url, ctx.apiBaseUrl) ? ctx.fetch : ctx.guardedFetch,
      guardedFetch: ctx.guardedFetch,
      maxBytes: ctx.maxBytes,
      timeoutMs: ctx.timeoutMs,
      what: 'Retell recording download',
    });
    const type = got.contentType && got.contentType !== 'application/octet-stream' ? got.contentType : ref.mimeType;
    return { bytes: got.bytes, mimeType: type, fileName: ref.fileName };
  },
};
