import { MAX_JSON_DEPTH, jsonTooDeepAt } from '../../json-limits.js';
import type { InboundEvent, MessageEvent } from '../events.js';
import type { AdapterContext, RawRequest } from '../contract.js';
import { PayloadError } from '../contract.js';
import { messageIds, parseAddress, splitAddressList } from '../shared/email-address.js';
import { obj, parseJsonObject, str, isObj, id } from '../shared/guards.js';
import { isoFromMillis } from '../shared/time.js';
import { HistoryReader, isInboundMail, type GmailMessageRef } from './history-reader.js';
import { parseMail } from './mime.js';
import { gmailAttachmentRef } from './media.js';

interface Notification {
  emailAddress: string;
  historyId: string;
}

/**
 * A Pub/Sub push says "mailbox X changed up to historyId N"; the messages themselves are read
 * through history.list + messages.get. history.list starts at config.history_id when the channel
 * keeps one (the caller should store the pushed historyId from `raw.notification` after commit),
 * else at N - 1, which only sees the latest change: good enough for one message per push.
 * Gmail keeps about a week of history; when the stored cursor is older than that (404), the inbox
 * is read from the time the cursor last moved (`config.history_at`; a day back when unknown), and
 * the message-id dedupe drops whatever was already stored. Nothing is skipped silently.
 */
export async function parseGmail(req: RawRequest, ctx: AdapterContext): Promise<InboundEvent[]> {
  const note = notificationOf(req);
  const start = startHistoryId(ctx.config.history_id, note.historyId);
  const client = new HistoryReader(ctx);
  const added = await client.addedMessages(start);
  const resync = added === 'stale';
  const refs = resync ? await client.inboxSince(resyncFrom(ctx.config.history_at, ctx.now())) : added;
  const events: InboundEvent[] = [];
  for (const ref of refs) {
    const msg = await client.rawMessage(ref.id);
    if (msg && isInboundMail(msg.labelIds)) events.push(messageEvent(msg, note, ctx, resync));
  }
  return events;
}

export function notificationOf(req: RawRequest): Notification {
  const body = parseJsonObject(req.body, 'pub/sub push');
  const message = obj(body.message, 'message');
  const data = str(message.data, 'message.data');
  let decoded: unknown;
  try {
    const text = Buffer.from(data, 'base64').toString('utf8');
    if (jsonTooDeepAt(text) >= 0) throw new PayloadError(`message.data nests deeper than ${MAX_JSON_DEPTH} levels`);
    decoded = JSON.parse(text);
  } catch {
    throw new PayloadError('message.data is not base64 JSON');
  }
  if (!isObj(decoded)) throw new PayloadError('message.data must hold a JSON object');
  const historyId = id(decoded.historyId, 'message.data.historyId');
  if (!/^\d+$/.test(historyId)) throw new PayloadError('message.data.historyId must be numeric');
  return { emailAddress: str(decoded.emailAddress, 'message.data.emailAddress').toLowerCase(), historyId };
}

function startHistoryId(configured: unknown, pushed: string): string {
  if ((typeof configured === 'string' && /^\d+$/.test(configured)) || (typeof configured === 'number' && Number.isSafeInteger(configured))) {
    return String(configured);
  }
  return (BigInt(pushed) > 1n ? BigInt(pushed) - 1n : 1n).toString();
}

/** Unix seconds to read the inbox from after a stale history: five minutes before the cursor last moved. */
function resyncFrom(historyAt: unknown, nowMs: number): number {
  const at = typeof historyAt === 'string' ? Date.parse(historyAt) : NaN;
  const from = Number.isFinite(at) && at <= nowMs ? at - 5 * 60_000 : nowMs - 24 * 3600_000;
  return Math.floor(from / 1000);
}

function messageEvent(msg: GmailMessageRef & { raw: string; internalDate?: string }, note: Notification, ctx: AdapterContext, resync: boolean): MessageEvent {
  const mail = parseMail(Buffer.from(msg.raw, 'base64url'));
  const h = (name: string) => mail.headers.get(name);
  const from = parseAddress(h('from') ?? '');
  const to = splitAddressList(h('to')).map((a) => parseAddress(a).email);
  const cc = splitAddressList(h('cc')).map((a) => parseAddress(a).email);
  const ev: MessageEvent = {
    kind: 'message',
    providerEventId: msg.id,
    providerMessageId: msg.id,
    occurredAt: isoFromMillis(msg.internalDate ? Number(msg.internalDate) : undefined, ctx.now),
    conversationKey: msg.threadId,
    channelIdentity: note.emailAddress,
    from: { id: from.email, email: from.email, ...(from.name ? { name: from.name } : {}) },
    to: { id: note.emailAddress, email: note.emailAddress },
    email: {
      subject: h('subject') ?? '',
      from: from.email,
      to,
      cc,
      references: messageIds(h('references')),
      threadId: msg.threadId,
      attachments: mail.attachments,
      ...(mail.text !== undefined ? { text: mail.text } : {}),
      ...(mail.html !== undefined ? { html: mail.html } : {}),
      ...(h('message-id') ? { messageId: h('message-id') } : {}),
      ...(h('in-reply-to') ? { inReplyTo: h('in-reply-to') } : {}),
    },
    // The MIME source can be megabytes: keep the message resource and the push, not `raw`.
    raw: { notification: note, message: { id: msg.id, threadId: msg.threadId, labelIds: msg.labelIds, internalDate: msg.internalDate }, ...(resync ? { resync: true } : {}) },
  };
  if (mail.text !== undefined) ev.text = mail.text;
  // Attachments are captured through messages.attachments.get (media.ts), by position.
  if (mail.attachments.length) {
    ev.media = mail.attachments.map((a, i) => ({ kind: 'file', providerFileId: gmailAttachmentRef(msg.id, i), fileName: a.fileName, ...(a.contentType ? { mimeType: a.contentType } : {}), ...(a.size !== undefined ? { size: a.size } : {}) }));
  }
  return ev;
}
