/**
 * Capture of inbound media. At ingest (inside the webhook's transaction) each item gets a
 * `pending` row and the event one durable `media` job; the job downloads every item with the
 * channel's own credentials (adapters/<p>/media.ts), checks size and the provider's hash, stores
 * the bytes, and rewrites the event's `data.attachments` with the final items. The event's
 * delivery waits for that (bounded: SWITCHBOARD_MEDIA_CAPTURE_WAIT_MS), so the agent's first
 * delivery carries working links.
 */
import type { Logger } from 'pino';
import { getProvider } from '../adapters/registry.js';
import { MediaFetchError, type MediaFetchContext } from '../adapters/shared/media.js';
import type { MediaRef, MessageEvent } from '../core/events.js';
import type { ChannelContexts } from '../core/channel-context.js';
import type { JobRow } from '../queue/jobs.js';
import type { JobOutcome } from '../queue/runner.js';
import type { ChannelRow } from '../store/repos/channels.js';
import type { Tx } from '../store/repos/inbox.js';
import type { Repos } from '../store/repos/index.js';
import type { EventRow } from '../store/repos/events.js';
import type { MediaRow } from '../store/repos/media.js';
import { newId } from '../store/ids.js';
import { cleanMime, itemKind } from './kinds.js';
import { cleanFileName, sha256, type MediaItem, type MediaService } from './service.js';

/** Retries of a capture: provider links expire (WhatsApp's after ~5 min, refetched each time). */
export const CAPTURE_SCHEDULE_MS = [1_000, 5_000, 30_000, 120_000, 600_000];

/** Voice notes and audio are handed to this after capture (transcription, when configured). */
export type AfterCapture = (row: MediaRow, bytes: Buffer) => Promise<string | undefined>;

export interface CaptureHooks {
  /** Voice notes and audio after capture (transcription, when configured). */
  afterCapture?: AfterCapture;
  /** Called when an event's media is final (wakes its waiting delivery). */
  onFinal?: (eventId: string) => Promise<void>;
}

export class MediaCapture {
  private readonly afterCapture?: AfterCapture;
  private readonly onFinal?: (eventId: string) => Promise<void>;

  constructor(
    private readonly media: MediaService,
    private readonly repos: Repos,
    private readonly contexts: ChannelContexts,
    private readonly guardedFetch: typeof fetch,
    private readonly log: Logger,
    private readonly maxAttempts = CAPTURE_SCHEDULE_MS.length + 1,
    hooks: CaptureHooks = {},
  ) {
    this.afterCapture = hooks.afterCapture;
    this.onFinal = hooks.onFinal;
  }

  /** Inside the ingest transaction: pending rows + the capture job; returns the pending items. */
  async prepare(trx: Tx, channel: ChannelRow, e: { media?: MessageEvent['media']; from?: MessageEvent['from'] }, messageId: string | null, eventId: string, now: string): Promise<MediaItem[]> {
    const refs = e.media ?? [];
    // Files Switchboard already holds (web chat uploads) are bound as they are; the rest are captured.
    const held: MediaItem[] = [];
    for (const [i, ref] of refs.entries()) {
      if (!ref.uploadId) continue;
      // Only the person who uploaded it may send it (the upload names its visitor).
      const up = await this.media.repo.getIn(trx, ref.uploadId);
      const owner = up ? (JSON.parse(up.source) as { visitor_id?: unknown }).visitor_id : undefined;
      const row = up && messageId && owner !== undefined && owner === e.from?.id && (await this.media.repo.bindUpload(trx, up.id, channel.id, messageId, eventId, i)) ? await this.media.repo.getIn(trx, up.id) : undefined;
      if (row) held.push(this.media.item(row));
      else this.log.warn({ media: ref.uploadId, channel: channel.id }, 'an inbound message named an upload it may not use; left out');
    }
    const toCapture = refs.map((ref, i) => ({ ref, i })).filter((x) => !x.ref.uploadId);
    if (!toCapture.length) return held;
    const rows: MediaRow[] = toCapture.map(({ ref, i }) => ({
      id: newId(), instance_id: channel.instance_id, channel_id: channel.id, message_id: messageId, event_id: eventId, direction: 'in', position: i,
      kind: itemKind(ref.kind, ref.mimeType), mime_type: cleanMime(ref.mimeType) ?? null, size: ref.size ?? null, sha256: null,
      file_name: cleanFileName(ref.fileName) ?? null, caption: ref.caption ?? null, status: 'pending', error: null,
      source: JSON.stringify(ref), blob_key: null, transcript: null, created_at: now, updated_at: now,
    }));
    for (const r of rows) await this.media.repo.insert(trx, r);
    await this.repos.jobs.enqueue(trx, { kind: 'media', instanceId: channel.instance_id, groupKey: `media:${eventId}`, refId: eventId }, now);
    return [...held, ...rows.map((r) => this.media.item(r))];
  }

  /**
   * For the delivery of `event`: how long to wait before delivering it (its media is still being
   * captured and the wait has time left), or undefined to deliver now. Messages and calls (a
   * recording) carry media; only events with attachments are looked at.
   */
  waitMs(event: EventRow, nowMs = Date.now()): number | undefined {
    if ((event.type !== 'message.received' && !event.type.startsWith('call.')) || !event.payload.includes('"attachments":[') || !event.payload.includes('"status":"pending"')) return undefined;
    const left = Date.parse(event.created_at) + this.media.config.captureWaitMs - nowMs;
    return left > 0 ? Math.min(250, left) : undefined;
  }

  async handle(job: JobRow): Promise<JobOutcome> {
    const event = await this.repos.events.get(job.ref_id);
    if (!event) return { kind: 'done' };
    const rows = await this.media.repo.forEvent(event.id);
    const channel = event.channel_id ? await this.repos.channels.get(event.channel_id) : undefined;
    const lastTry = job.attempts >= this.maxAttempts;
    let retryError: string | undefined;
    const ctx = channel ? await this.context(channel) : undefined;
    for (const row of rows) {
      if (row.status !== 'pending') continue;
      const fetchMedia = channel ? getProvider(channel.provider)?.media?.fetchMedia : undefined;
      if (!ctx || !fetchMedia) {
        await this.finish(row, 'failed', channel ? `capturing media from ${channel.provider} is not supported` : 'the channel was deleted');
        continue;
      }
      try {
        await this.captureOne(row, fetchMedia, ctx);
      } catch (err) {
        const e = err instanceof MediaFetchError ? err : new MediaFetchError('retry', (err as Error).message);
        if (e.kind === 'retry' && !lastTry) {
          retryError = e.message;
          continue;
        }
        await this.finish(row, e.kind === 'too_large' ? 'too_large' : 'failed', e.message);
      }
    }
    if (retryError) return { kind: 'retry', error: retryError };
    await this.finalize(event);
    return { kind: 'done' };
  }

  private async captureOne(row: MediaRow, fetchMedia: (ref: MediaRef, ctx: MediaFetchContext) => Promise<import('../adapters/shared/media.js').FetchedMedia>, ctx: MediaFetchContext): Promise<void> {
    const got = await fetchMedia(JSON.parse(row.source) as MediaRef, ctx);
    if (got.bytes.length > this.media.config.maxBytes) throw new MediaFetchError('too_large', `${got.bytes.length} bytes, over the ${this.media.config.maxBytes}-byte limit`);
    const hash = sha256(got.bytes);
    if (got.expectedSha256 && got.expectedSha256.toLowerCase() !== hash) {
      // Never stored as good: a truncated or substituted file is reported, not handed on.
      throw new MediaFetchError('failed', `the bytes do not match the provider's sha256 (expected ${got.expectedSha256}, got ${hash})`);
    }
    const mime = cleanMime(got.mimeType) ?? row.mime_type ?? 'application/octet-stream';
    const key = `${row.instance_id}/${row.id}`;
    await this.media.blobs.put(key, got.bytes, mime);
    const now = new Date().toISOString();
    const ready: Partial<MediaRow> = { status: 'ready', error: null, blob_key: key, size: got.bytes.length, sha256: hash, mime_type: mime, file_name: row.file_name ?? cleanFileName(got.fileName) ?? null, updated_at: now };
    if (row.kind === 'image' && mime === 'image/webp' && JSON.parse(row.source).kind === 'sticker') ready.kind = 'sticker';
    await this.media.repo.update(row.id, ready);
    if (this.afterCapture && (row.kind === 'voice' || row.kind === 'audio')) {
      try {
        const transcript = await this.afterCapture({ ...row, ...ready } as MediaRow, got.bytes);
        if (transcript) await this.media.repo.update(row.id, { transcript });
      } catch (err) {
        this.log.warn({ err: (err as Error).message, media: row.id }, 'transcription failed');
      }
    }
  }

  private async finish(row: MediaRow, status: 'failed' | 'too_large', error: string): Promise<void> {
    this.log.warn({ media: row.id, status, error }, 'media capture did not succeed');
    await this.media.repo.update(row.id, { status, error: error.slice(0, 1000), updated_at: new Date().toISOString() });
  }

  /** The event as delivered and listed carries the final items (and a transcript as its text). */
  private async finalize(event: EventRow): Promise<void> {
    const rows = await this.media.repo.forEvent(event.id);
    const envelope = JSON.parse(event.payload) as { data: Record<string, unknown> };
    const items = rows.map((r) => this.media.item(r));
    envelope.data.attachments = items;
    const transcript = items.map((i) => i.transcript).filter(Boolean).join('\n');
    if (transcript && (envelope.data.text === undefined || envelope.data.text === '')) envelope.data.text = transcript;
    await this.media.repo.setEventPayload(event.id, JSON.stringify(envelope));
    if (transcript && rows[0]?.message_id) await this.media.repo.setMessageTextIfEmpty(rows[0].message_id, transcript);
    await this.onFinal?.(event.id);
  }

  private async context(channel: ChannelRow): Promise<MediaFetchContext> {
    const c = await this.contexts.send(channel, '', 'media');
    return { secrets: c.secrets, settings: c.settings, config: c.config, apiBaseUrl: c.apiBaseUrl, fetch: c.fetch, guardedFetch: this.guardedFetch, maxBytes: this.media.config.maxBytes, timeoutMs: 60_000 };
  }
}
