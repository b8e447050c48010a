/**
 * What each provider accepts as attachments, checked when a message is accepted (a clear 422
 * up front instead of a failed send later). Figures are the providers' documented limits for
 * uploaded files: Telegram Bot API uploads (photos 10 MB, other files 50 MB), WhatsApp Cloud
 * media (images 5 MB JPEG/PNG, audio and video 16 MB, stickers 500 KB, documents 100 MB),
 * Twilio MMS (5 MB per message, 10 media), Resend (40 MB per email), Gmail (25 MB per message,
 * base64 included: about 18 MB of files), Vonage (WhatsApp: WhatsApp's own limits, the file
 * fetched by Vonage from a signed link; SMS: none).
 */
import type { ValidationIssue } from '../errors.js';
import type { MediaRow } from '../store/repos/media.js';

interface Limits {
  maxCount: number;
  /** Per file, by item kind (default when absent). */
  perFile: (kind: string, mime: string) => number;
  /** All files of one message together. */
  total?: number;
}

const MB = 1024 * 1024;

const LIMITS: Record<string, Limits> = {
  telegram: { maxCount: 10, perFile: (kind, mime) => (kind === 'image' && /^image\/(jpeg|png|webp)$/.test(mime) ? 10 * MB : 50 * MB) },
  meta_cloud: {
    maxCount: 10,
    perFile: (kind, mime) => {
      if (kind === 'image' && /^image\/(jpeg|png)$/.test(mime)) return 5 * MB;
      if (kind === 'sticker') return 500 * 1024;
      if (kind === 'audio' || kind === 'voice' || kind === 'video') return 16 * MB;
      return 100 * MB;
    },
  },
  twilio: { maxCount: 10, perFile: () => 5 * MB, total: 5 * MB },
  resend: { maxCount: 20, perFile: () => 40 * MB, total: 40 * MB },
  gmail: { maxCount: 20, perFile: () => 18 * MB, total: 18 * MB },
  web: { maxCount: 10, perFile: () => Number.POSITIVE_INFINITY },
};

/** Per channel type where one provider's channels differ. */
const CHANNEL_LIMITS: Record<string, Record<string, Limits>> = {
  vonage: {
    // Sent as image/audio/video only in the types WhatsApp takes for them, else as a file (adapters/vonage/send.ts).
    whatsapp: {
      maxCount: 10,
      perFile: (kind, mime) => {
        if (kind === 'image' && /^image\/(jpeg|png)$/.test(mime)) return 5 * MB;
        if ((kind === 'audio' || kind === 'voice') && /^audio\/(aac|amr|mpeg|mp4|ogg)$/.test(mime)) return 16 * MB;
        if (kind === 'video' && /^video\/(mp4|3gpp)$/.test(mime)) return 16 * MB;
        return 100 * MB;
      },
    },
    sms: { maxCount: 0, perFile: () => 0 },
  },
};

/** Issues for the uploaded items of one message to `provider` (their positions in `attachments`). */
export function attachmentIssues(provider: string, items: { index: number; row: MediaRow }[], totalCount: number, channelType?: string): ValidationIssue[] {
  const l = (channelType !== undefined ? CHANNEL_LIMITS[provider]?.[channelType] : undefined) ?? LIMITS[provider];
  if (!l) return [];
  const issues: ValidationIssue[] = [];
  if (l.maxCount === 0 && totalCount > 0) {
    return [{ type: 'too_long', loc: ['body', 'attachments'], msg: `List should have at most 0 items after validation, not ${totalCount}: ${provider} ${channelType ?? ''} channels cannot carry attachments`.replace('  ', ' '), ctx: { field_type: 'List', max_length: 0, actual_length: totalCount } }];
  }
  if (totalCount > l.maxCount) {
    issues.push({ type: 'too_long', loc: ['body', 'attachments'], msg: `List should have at most ${l.maxCount} items after validation, not ${totalCount} (${provider} limit)`, ctx: { field_type: 'List', max_length: l.maxCount, actual_length: totalCount } });
  }
  let total = 0;
  for (const { index, row } of items) {
    const size = Number(row.size ?? 0);
    total += size;
    const max = l.perFile(row.kind, row.mime_type ?? '');
    if (size > max) {
      issues.push({ type: 'value_error', loc: ['body', 'attachments', index, 'media_id'], msg: `Value error, the file is ${size} bytes; ${provider} accepts at most ${max} bytes for a ${row.kind} (${row.mime_type})`, input: row.id, ctx: { error: `${provider} size limit` } });
    }
  }
  if (l.total !== undefined && total > l.total) {
    issues.push({ type: 'value_error', loc: ['body', 'attachments'], msg: `Value error, the files add up to ${total} bytes; ${provider} accepts at most ${l.total} bytes per message`, ctx: { error: `${provider} size limit` } });
  }
  return issues;
}
