import type { InboundEvent, MediaKind, MediaRef } from '../events.js';
import type { AdapterContext, RawRequest } from '../contract.js';
import { PayloadError } from '../contract.js';
import { parseJsonObject, str } from '../shared/guards.js';

const MAX_ID = 200;
const MAX_TEXT = 10_000;

function bounded(v: unknown, path: string, max: number): string {
  const s = str(v, path);
  if (s.length > max) throw new PayloadError(`${path} must be at most ${max} characters`);
  return s;
}

/**
 * Files the visitor uploaded first (`{media_id, kind, mime_type, file_name, size, sha256}` each):
 * Switchboard already holds their bytes, so the reference is its own media id.
 */
function attachments(v: unknown): MediaRef[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > 10) throw new PayloadError('attachments must be a list of at most 10 files');
  return v.map((a, i) => {
    if (!a || typeof a !== 'object') throw new PayloadError(`attachments[${i}] must be an object`);
    const o = a as Record<string, unknown>;
    const opt = (x: unknown) => (typeof x === 'string' && x ? x : undefined);
    return {
      kind: (opt(o.kind) ?? 'document') as MediaKind,
      uploadId: bounded(o.media_id, `attachments[${i}].media_id`, MAX_ID),
      mimeType: opt(o.mime_type),
      fileName: opt(o.file_name),
      size: typeof o.size === 'number' ? o.size : undefined,
      sha256: opt(o.sha256),
    };
  });
}

/** {visitor_id, text, client_message_id, attachments?} from the widget; the client id makes resends idempotent. */
export async function parseWeb(req: RawRequest, ctx: AdapterContext): Promise<InboundEvent[]> {
  const body = parseJsonObject(req.body, 'web chat message');
  const visitorId = bounded(body.visitor_id, 'visitor_id', MAX_ID);
  const clientMessageId = bounded(body.client_message_id, 'client_message_id', MAX_ID);
  const media = attachments(body.attachments);
  // A message of files only may have no text.
  const text = media.length && (body.text === '' || body.text === undefined) ? undefined : bounded(body.text, 'text', MAX_TEXT);
  return [
    {
      kind: 'message',
      providerEventId: clientMessageId,
      providerMessageId: clientMessageId,
      occurredAt: new Date(ctx.now()).toISOString(),
      conversationKey: visitorId,
      from: { id: visitorId },
      text,
      ...(media.length ? { media } : {}),
      raw: body,
    },
  ];
}
