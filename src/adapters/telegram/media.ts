/**
 * Telegram media: `getFile` gives a `file_path`, the bytes are at `<api>/file/bot<token>/<path>`
 * (the URL carries the token, so it is fetched here and never shown). The public Bot API serves
 * files up to 20 MB; a self-hosted Bot API server has no such limit, so the cap is ours.
 */
import { ProviderError } from '../shared/provider-error.js';
import { download, MediaFetchError, type ProviderMedia } from '../shared/media.js';
import { telegramApi } from './api.js';

/** The public Bot API's download limit. */
export const TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024;

export const telegramMedia: ProviderMedia = {
  async fetchMedia(ref, ctx) {
    const botToken = ctx.secrets.bot_token;
    if (!botToken) throw new MediaFetchError('failed', 'the channel has no bot_token');
    if (!ref.providerFileId) throw new MediaFetchError('failed', 'the item has no file_id');
    const publicApi = /^https:\/\/api\.telegram\.org$/.test(ctx.apiBaseUrl);
    const cap = publicApi ? Math.min(ctx.maxBytes, TELEGRAM_DOWNLOAD_LIMIT) : ctx.maxBytes;
    if (ref.size !== undefined && ref.size > cap) throw new MediaFetchError('too_large', `the file is ${ref.size} bytes, over the ${cap}-byte limit`);
    const api = telegramApi({ botToken, baseUrl: ctx.apiBaseUrl, fetch: ctx.fetch, timeoutMs: ctx.timeoutMs });
    let file;
    try {
      file = await api.getFile(ref.providerFileId);
    } catch (err) {
      if (err instanceof ProviderError) {
        // "file is too big" is Telegram's answer past 20 MB.
        if (/too big/i.test(err.message)) throw new MediaFetchError('too_large', `Telegram: ${err.message}`);
        throw new MediaFetchError(err.kind === 'retryable' || err.kind === 'rate_limited' ? 'retry' : 'failed', `Telegram getFile: ${err.message}`);
      }
      throw err;
    }
    if (file.file_size !== undefined && file.file_size > cap) throw new MediaFetchError('too_large', `the file is ${file.file_size} bytes, over the ${cap}-byte limit`);
    if (!file.file_path) throw new MediaFetchError('failed', 'Telegram getFile returned no file_path');
    const got = await download(api.fileDownloadUrl(file.file_path), { fetch: ctx.fetch, guardedFetch: ctx.guardedFetch, maxBytes: cap, timeoutMs: ctx.timeoutMs, what: 'Telegram file download' });
    const fileName = ref.fileName ?? file.file_path.split('/').pop();
    // Telegram serves files as application/octet-stream; the update's mime_type (or the path) says more.
    return { bytes: got.bytes, mimeType: ref.mimeType ?? mimeFromPath(file.file_path) ?? got.contentType, fileName };
  },
};

function mimeFromPath(p: string): string | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(p)?.[1]?.toLowerCase();
  return ext ? ({ jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif', oga: 'audio/ogg', ogg: 'audio/ogg', mp3: 'audio/mpeg', m4a: 'audio/mp4', mp4: 'video/mp4', pdf: 'application/pdf', tgs: 'application/x-tgsticker', webm: 'video/webm' } as Record<string, string>)[ext] : undefined;
}
