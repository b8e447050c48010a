/**
 * Media as the API and the agent see it: items (the public shape), uploads, the bytes behind a
 * link or an API key, and retention. Capture of inbound media is in capture.ts.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { MediaConfig } from '../config.js';
import { PayloadTooLarge, valueError } from '../errors.js';
import { newId } from '../store/ids.js';
import type { MediaRepo, MediaRow } from '../store/repos/media.js';
import type { BlobStore } from './blob-store.js';
import type { OutboundAttachment } from '../adapters/types.js';
import { cleanMime, inlineSafe, kindOfMime, type ItemKind } from './kinds.js';
import { LinkSigner } from './links.js';
import { parseRange } from './range.js';

export type ItemStatus = 'pending' | 'ready' | 'failed' | 'too_large';

/** The agreed public shape of one media item (events, history, the media API). */
export interface MediaItem {
  id: string;
  kind: ItemKind;
  mime_type: string | null;
  size: number | null;
  sha256: string | null;
  file_name?: string;
  caption?: string;
  status: ItemStatus;
  /** Signed link to the bytes; null until they are stored (and for failed items). */
  url: string | null;
  url_expires_at?: string;
  transcript?: string;
  /** Why capture failed (failed / too_large). */
  error?: string;
}

export interface ServedBytes {
  status: 200 | 206 | 416;
  headers: Record<string, string>;
  body?: Readable;
}

export class MediaService {
  readonly links: LinkSigner;

  constructor(
    readonly config: MediaConfig,
    readonly repo: MediaRepo,
    readonly blobs: BlobStore,
    signingKey: Buffer,
    publicUrl: () => string,
    private readonly log: Logger,
  ) {
    this.links = new LinkSigner(signingKey, publicUrl);
  }

  item(row: MediaRow, ttlSeconds = this.config.linkTtlSeconds): MediaItem {
    const ready = row.status === 'ready';
    const link = ready ? this.links.url(row.id, ttlSeconds) : undefined;
    return {
      id: row.id,
      kind: row.kind as ItemKind,
      mime_type: row.mime_type,
      size: row.size === null ? null : Number(row.size),
      sha256: row.sha256,
      ...(row.file_name ? { file_name: row.file_name } : {}),
      ...(row.caption ? { caption: row.caption } : {}),
      status: row.status as ItemStatus,
      url: link?.url ?? null,
      ...(link ? { url_expires_at: link.expires_at } : {}),
      ...(row.transcript ? { transcript: row.transcript } : {}),
      ...(row.error && !ready ? { error: row.error } : {}),
    };
  }

  /** Items of many messages (history pages), keyed by message id. */
  async itemsForMessages(messageIds: string[]): Promise<Map<string, MediaItem[]>> {
    const out = new Map<string, MediaItem[]>();
    for (const r of await this.repo.forMessages(messageIds)) {
      const list = out.get(r.message_id!) ?? [];
      list.push(this.item(r));
      out.set(r.message_id!, list);
    }
    return out;
  }

  /**
   * An upload: stored, hashed, ready at once. An agent's by default; `inbound` marks a person's own
   * upload on a channel (a web chat visitor's file, bound to their message when they send it).
   */
  async upload(instanceId: string, bytes: Buffer, mimeType: string | undefined, fileName: string | undefined, inbound?: { channelId: string; source: Record<string, unknown> }): Promise<MediaRow> {
    if (bytes.length > this.config.maxBytes) throw tooLarge(this.config.maxBytes);
    if (bytes.length === 0) throw valueError(['body'], 'the file is empty');
    const mime = cleanMime(mimeType) ?? 'application/octet-stream';
    const id = newId();
    const key = `${instanceId}/${id}`;
    await this.blobs.put(key, bytes, mime);
    const now = new Date().toISOString();
    const row: MediaRow = {
      id, instance_id: instanceId, channel_id: inbound?.channelId ?? null, message_id: null, event_id: null, direction: inbound ? 'in' : 'out', position: 0,
      kind: kindOfMime(mime), mime_type: mime, size: bytes.length, sha256: sha256(bytes), file_name: cleanFileName(fileName) ?? null,
      caption: null, status: 'ready', error: null, source: JSON.stringify(inbound?.source ?? {}), blob_key: key, transcript: null, created_at: now, updated_at: now,
    };
    try {
      await this.repo.insertAlone(row);
    } catch (err) {
      await this.blobs.delete(key).catch(() => undefined);
      throw err;
    }
    return row;
  }

  /** The bytes of a ready item, whole or one range, with the headers to send them. */
  async serve(row: MediaRow, rangeHeader: string | undefined, maxAgeSeconds: number): Promise<ServedBytes | undefined> {
    if (row.status !== 'ready' || !row.blob_key || row.size === null) return undefined;
    const size = Number(row.size);
    const mime = row.mime_type ?? 'application/octet-stream';
    const headers: Record<string, string> = {
      'content-type': mime,
      'accept-ranges': 'bytes',
      // Links are capabilities: no shared cache may keep the bytes; the browser for as long as the link lives.
      'cache-control': `private, max-age=${maxAgeSeconds}`,
      'x-content-type-options': 'nosniff',
      // User content on our origin: never a document that could run script.
      'content-security-policy': "sandbox; default-src 'none'",
      'content-disposition': `${inlineSafe(mime) ? 'inline' : 'attachment'}${row.file_name ? `; filename*=UTF-8''${encodeURIComponent(row.file_name)}` : ''}`,
      etag: `"${row.sha256 ?? row.id}"`,
    };
    const r = parseRange(rangeHeader, size);
    if (r.kind === 'unsatisfiable') return { status: 416, headers: { ...headers, 'content-range': `bytes */${size}`, 'content-length': '0' } };
    const body = await this.blobs.get(row.blob_key, r.kind === 'range' ? r.range : undefined);
    if (!body) return undefined;
    if (r.kind === 'range') {
      return { status: 206, body, headers: { ...headers, 'content-range': `bytes ${r.range.start}-${r.range.end}/${size}`, 'content-length': String(r.range.end - r.range.start + 1) } };
    }
    return { status: 200, body, headers: { ...headers, 'content-length': String(size) } };
  }

  /** An attachment by media_id as senders take it: a signed link (for providers that fetch) and the bytes. */
  outbound(a: { media_id: string; kind?: string; file_name?: string; mime_type?: string; size?: number }): OutboundAttachment {
    const id = a.media_id;
    return {
      url: this.links.url(id, this.config.linkTtlSeconds).url,
      kind: a.kind,
      fileName: a.file_name,
      mimeType: a.mime_type,
      size: a.size,
      load: async () => {
        const row = await this.repo.get(id);
        if (!row || row.status !== 'ready') throw new Error(`media ${id} is no longer stored (retention?)`);
        return this.bytes(row);
      },
    };
  }

  /** All the bytes of a ready item (senders uploading to a provider). */
  async bytes(row: MediaRow): Promise<Buffer> {
    const s = row.blob_key ? await this.blobs.get(row.blob_key) : undefined;
    if (!s) throw new Error(`media ${row.id} has no stored bytes`);
    const parts: Buffer[] = [];
    for await (const c of s) parts.push(Buffer.from(c as Uint8Array));
    return Buffer.concat(parts);
  }

  /** Retention: deletes items older than the configured days (and those of deleted instances). */
  async cleanup(nowMs = Date.now()): Promise<number> {
    const before = this.config.retentionDays > 0 ? new Date(nowMs - this.config.retentionDays * 86_400_000).toISOString() : undefined;
    let total = 0;
    for (;;) {
      const rows = await this.repo.expired(before, 200);
      if (rows.length === 0) return total;
      // Bytes first: a row whose blob could not be deleted stays, and is tried again next time.
      const gone: string[] = [];
      for (const r of rows) {
        try {
          if (r.blob_key) await this.blobs.delete(r.blob_key);
          gone.push(r.id);
        } catch (err) {
          this.log.warn({ err: (err as Error).message, media: r.id }, 'deleting a media blob failed');
        }
      }
      await this.repo.delete(gone);
      total += gone.length;
      if (gone.length < rows.length) return total;
    }
  }
}

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

export function tooLarge(max: number): PayloadTooLarge {
  return new PayloadTooLarge(`The file is larger than the media size limit (${max} bytes, SWITCHBOARD_MEDIA_MAX_BYTES).`);
}

/** A file name without directories or control characters, at most 255 characters. */
export function cleanFileName(v: string | undefined | null): string | undefined {
  if (!v) return undefined;
  const base = v.split(/[\\/]/).pop()!.replace(/[\u0000-\u001f\u007f"]/g, '').trim().slice(0, 255);
  return base || undefined;
}
