/**
 * Resend inbound attachments: the `email.received` webhook carries only their metadata, so each
 * is looked up with `GET /emails/receiving/{email_id}/attachments/{id}` (Bearer API key), whose
 * `download_url` is a signed link valid for an hour. That link needs no credentials and gets
 * none: it is fetched through the SSRF guard (unless it is on the configured API origin, as a
 * local fake is).
 */
import { joinUrl } from '../shared/http.js';
import { download, lookupJson, MediaFetchError, sameOrigin, type ProviderMedia } from '../shared/media.js';

/** The reference parse gives an attachment: `<email_id>/<attachment id>`. */
export function resendAttachmentRef(emailId: string, attachmentId: string): string {
  return `${emailId}/${attachmentId}`;
}

export const resendMedia: ProviderMedia = {
  async fetchMedia(ref, ctx) {
    const key = ctx.secrets.api_key;
    if (!key) throw new MediaFetchError('failed', 'the connection has no api_key');
    const [emailId, attachmentId, ...extra] = (ref.providerFileId ?? '').split('/');
    if (!emailId || !attachmentId || extra.length) throw new MediaFetchError('failed', 'the item names no Resend attachment');
    const info = await lookupJson(joinUrl(ctx.apiBaseUrl, `/emails/receiving/${encodeURIComponent(emailId)}/attachments/${encodeURIComponent(attachmentId)}`), {
      fetch: ctx.fetch,
      headers: { authorization: `Bearer ${key}` },
      timeoutMs: ctx.timeoutMs,
      what: 'Resend attachment lookup',
    });
    const size = typeof info.size === 'number' ? info.size : undefined;
    if (size !== undefined && size > ctx.maxBytes) throw new MediaFetchError('too_large', `the attachment is ${size} bytes, over the ${ctx.maxBytes}-byte limit`);
    const url = typeof info.download_url === 'string' ? info.download_url : undefined;
    if (!url) throw new MediaFetchError('failed', 'Resend gave no download_url');
    const got = await download(url, {
      redirects: 2,
      fetch: sameOrigin(url, ctx.apiBaseUrl) ? ctx.fetch : ctx.guardedFetch,
      guardedFetch: ctx.guardedFetch,
      maxBytes: ctx.maxBytes,
      timeoutMs: ctx.timeoutMs,
      what: 'Resend attachment download',
    });
    const mimeType = typeof info.content_type === 'string' ? info.content_type : (ref.mimeType ?? got.contentType);
    return { bytes: got.bytes, mimeType, fileName: typeof info.filename === 'string' ? info.filename : ref.fileName };
  },
};
