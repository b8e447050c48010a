/**
 * Gmail inbound attachments: `messages.get(format=full)` gives the message's part tree, where an
 * attachment part names an `attachmentId` (opaque, and different on every messages.get, so it is
 * looked up at capture time, never stored); `users.messages.attachments.get` then returns the
 * bytes as base64url. Small parts come inline as `body.data`. Parts are matched to the items
 * parse made (mime.ts) by position among the attachment parts, checked by file name.
 * The OAuth access token only goes to the configured Gmail API origin.
 */
import { getGoogleAccessToken } from './api.js';
import { ProviderError } from '../shared/provider-error.js';
import { joinUrl } from '../shared/http.js';
import { lookupJson, MediaFetchError, type FetchedMedia, type MediaFetchContext, type ProviderMedia } from '../shared/media.js';

/** The reference parse gives an attachment: `<message id>/<position among its attachments>`. */
export function gmailAttachmentRef(messageId: string, index: number): string {
  return `${messageId}/${index}`;
}

interface Part {
  mimeType?: string;
  filename?: string;
  headers?: { name?: string; value?: string }[];
  body?: { attachmentId?: string; size?: number; data?: string };
  parts?: Part[];
}

/** Leaf parts that mime.ts counts as attachments, depth first (the same rule, the same order). */
function attachmentParts(p: Part, out: Part[] = []): Part[] {
  const type = (p.mimeType ?? 'text/plain').toLowerCase();
  if (type.startsWith('multipart/') && Array.isArray(p.parts)) {
    for (const c of p.parts) attachmentParts(c, out);
    return out;
  }
  const disposition = (p.headers ?? []).find((h) => h.name?.toLowerCase() === 'content-disposition')?.value?.split(';')[0]?.trim().toLowerCase();
  const inline = disposition !== 'attachment' && !p.filename;
  if (!inline || !type.startsWith('text/')) out.push(p);
  return out;
}

async function token(ctx: MediaFetchContext): Promise<string> {
  const { client_id, client_secret, refresh_token } = ctx.secrets;
  if (!client_id || !client_secret || !refresh_token) throw new MediaFetchError('failed', 'the connection lacks client_id, client_secret or refresh_token');
  try {
    return await getGoogleAccessToken({
      clientId: client_id, clientSecret: client_secret, refreshToken: refresh_token,
      ...(typeof ctx.settings.oauth_token_url === 'string' ? { tokenUrl: ctx.settings.oauth_token_url } : {}),
      fetch: ctx.fetch, timeoutMs: ctx.timeoutMs,
    });
  } catch (err) {
    if (err instanceof ProviderError) throw new MediaFetchError(err.kind === 'auth' ? 'failed' : 'retry', `Gmail token refresh: ${err.message}`);
    throw err;
  }
}

export const gmailMedia: ProviderMedia = {
  async fetchMedia(ref, ctx): Promise<FetchedMedia> {
    const [messageId, pos, ...extra] = (ref.providerFileId ?? '').split('/');
    const index = Number(pos);
    if (!messageId || !Number.isInteger(index) || index < 0 || extra.length) throw new MediaFetchError('failed', 'the item names no Gmail attachment');
    const headers = { authorization: `Bearer ${await token(ctx)}` };
    const base = joinUrl(ctx.apiBaseUrl, `/gmail/v1/users/me/messages/${encodeURIComponent(messageId)}`);
    const opts = { fetch: ctx.fetch, headers, timeoutMs: ctx.timeoutMs };
    const msg = await lookupJson(`${base}?format=full`, { ...opts, what: 'Gmail messages.get' });
    const parts = attachmentParts((msg.payload ?? {}) as Part);
    // By position, as parse counted them; by name when the tree reads differently.
    let part = parts[index];
    if (ref.fileName && part?.filename !== ref.fileName) part = parts.find((p) => p.filename === ref.fileName) ?? part;
    if (!part?.body) throw new MediaFetchError('failed', 'the message has no such attachment (any more)');
    if (typeof part.body.size === 'number' && part.body.size > ctx.maxBytes) throw new MediaFetchError('too_large', `the attachment is ${part.body.size} bytes, over the ${ctx.maxBytes}-byte limit`);
    let data = part.body.data;
    if (!data && part.body.attachmentId) {
      const att = await lookupJson(`${base}/attachments/${encodeURIComponent(part.body.attachmentId)}`, { ...opts, what: 'Gmail messages.attachments.get' });
      data = typeof att.data === 'string' ? att.data : undefined;
    }
    if (data === undefined) throw new MediaFetchError('failed', 'Gmail gave no attachment data');
    const bytes = Buffer.from(data, 'base64url');
    if (bytes.length > ctx.maxBytes) throw new MediaFetchError('too_large', `${bytes.length} bytes, over the ${ctx.maxBytes}-byte limit`);
    return { bytes, mimeType: part.mimeType ?? ref.mimeType, fileName: part.filename || ref.fileName };
  },
};
