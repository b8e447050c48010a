/**
 * Files a web chat visitor attaches: uploaded first (`POST /v1/webchat/{channel}/media`), then named
 * by id in the message that sends them. An upload is a ready media item of the channel, marked with
 * the visitor who sent it, so only that visitor can attach it, once. What a widget may upload is an
 * allow-list of types that browsers show safely, under a size cap (the channel's
 * `config.max_upload_bytes`, at most the media cap, default 10 MB); `config.uploads: false` turns
 * uploads off. Uploads count against the visitor's message flood limit.
 */
import { PayloadTooLarge, ValidationFailed, Forbidden } from '../errors.js';
import { cleanMime } from '../media/kinds.js';
import type { MediaItem, MediaService } from '../media/service.js';
import type { MediaRow } from '../store/repos/media.js';

export const WEB_UPLOAD_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'text/plain', 'audio/mpeg', 'audio/ogg', 'audio/webm', 'video/mp4'];
export const WEB_UPLOAD_DEFAULT_BYTES = 10 * 1024 * 1024;
export const WEB_MAX_ATTACHMENTS = 5;

export interface UploadPolicy {
  enabled: boolean;
  maxBytes: number;
  types: string[];
}

export function uploadPolicy(config: Record<string, unknown>, mediaMaxBytes: number): UploadPolicy {
  const asked = typeof config.max_upload_bytes === 'number' && config.max_upload_bytes > 0 ? config.max_upload_bytes : WEB_UPLOAD_DEFAULT_BYTES;
  return { enabled: config.uploads !== false, maxBytes: Math.min(asked, mediaMaxBytes), types: WEB_UPLOAD_TYPES };
}

const issue = (loc: (string | number)[], msg: string, input: unknown) => new ValidationFailed([{ type: 'value_error', loc, msg, input }]);

export class WebChatMedia {
  constructor(readonly media: MediaService) {}

  /** Stores a visitor's file after the policy checks; the item carries a signed link for the widget. */
  async upload(channel: { id: string; instance_id: string; config: string }, visitorId: string, bytes: Buffer, mimeType: string | undefined, fileName: string | undefined): Promise<MediaItem> {
    const policy = uploadPolicy(JSON.parse(channel.config) as Record<string, unknown>, this.media.config.maxBytes);
    if (!policy.enabled) throw new Forbidden('This chat does not take files');
    if (bytes.length > policy.maxBytes) throw new PayloadTooLarge(`The file is larger than this chat's limit of ${policy.maxBytes} bytes`);
    const mime = cleanMime(mimeType);
    if (!mime || !policy.types.includes(mime)) throw issue(['header', 'content-type'], `Files of type ${mime ?? 'unknown'} cannot be sent here; allowed: ${policy.types.join(', ')}`, mimeType ?? null);
    const row = await this.media.upload(channel.instance_id, bytes, mime, fileName, { channelId: channel.id, source: { web_upload: true, visitor_id: visitorId } });
    return this.media.item(row);
  }

  /** The uploads a message names: each must be this visitor's, on this channel, not sent yet. */
  async check(channelId: string, visitorId: string, ids: string[]): Promise<MediaRow[]> {
    if (ids.length > WEB_MAX_ATTACHMENTS) throw issue(['body', 'attachments'], `At most ${WEB_MAX_ATTACHMENTS} files per message`, ids.length);
    const rows: MediaRow[] = [];
    for (const [i, id] of ids.entries()) {
      const row = await this.media.repo.get(id);
      const source = row ? (JSON.parse(row.source) as { web_upload?: boolean; visitor_id?: string }) : {};
      if (!row || row.channel_id !== channelId || !source.web_upload || source.visitor_id !== visitorId || row.status !== 'ready') {
        throw issue(['body', 'attachments', i, 'media_id'], 'Not a file you uploaded to this chat', id);
      }
      if (row.message_id) throw issue(['body', 'attachments', i, 'media_id'], 'This file was already sent; upload it again', id);
      rows.push(row);
    }
    return rows;
  }

  /** Binds sent uploads to their message, so history and the widget show them with it. */
  bind(ids: string[], messageId: string): Promise<void> {
    return this.media.repo.attachAlone(ids, messageId);
  }

  /** Items per message id (with fresh links). */
  async of(messageIds: string[]): Promise<Map<string, MediaItem[]>> {
    return messageIds.length ? this.media.itemsForMessages(messageIds) : new Map();
  }
}
