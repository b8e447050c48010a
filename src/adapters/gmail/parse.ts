import type { InboundEvent, MessageEvent } from '../../core/events.js';
import type { AdapterContext, RawRequest } from '../types.js';
import { PayloadError } from '../types.js';
import { messageIds, parseAddress, splitAddressList } from '../shared/email-address.js';
import { obj, parseJsonObject, str, isObj, id } from '../shared/guards.js';
import { isoFromMillis } from '../shared/time.js';
import { HistoryReader, type GmailMessageRef } from './history-reader.js';
import { parseMail } from './mime.js';

interface Notification {
  emailAddress: string;
  historyId: string;
}

/**
 * A Pub/Sub push says "mailbox X changed up to historyId N"; the messages themselves are read
 * through history.list + messages.get. history.list starts at config.history_id when the channel
 * keeps one (the caller should store the pushed historyId from `raw.notification` after commit),
 * else at N - 1, which only sees the latest change: good enough for one message per push.
 */
export async function parseGmail(req: RawRequest, ctx: AdapterContext): Promise<InboundEvent[]> {
  const note = notificationOf(req);
  const start = startHistoryId(ctx.config.history_id, note.historyId);
  const client = new HistoryReader(ctx);
  const refs = await client.addedMessages(start);
  if (refs === 'stale') {
    return [{
      kind: 'unsupported',
      providerType: 'history.stale',
      providerEventId: `history-stale:${note.historyId}`,
      occurredAt: new Date(ctx.now()).toISOString(),
      channelIdentity: note.emailAddress,
      raw: { notification: note, startHistoryId: start },
    }];
  }
  const events: InboundEvent[] = [];
  for (const ref of refs) {
    const msg = await client.rawMessage(ref.id);
    if (msg) events.push(messageEvent(msg, note, ctx));
  }
  return events;
}

export function notificationOf(req: RawRequest): Notification {
  const body = parseJsonObject(req.body, 'pub/sub push');
  const message = obj(body.message, 'message');
  const data = str(message.data, 'message.data');
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
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

function messageEvent(msg: GmailMessageRef & { raw: string; internalDate?: string }, note: Notification, ctx: AdapterContext): MessageEvent {
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
    raw: { notification: note, message: { id: msg.id, threadId: msg.threadId, labelIds: msg.labelIds, internalDate: msg.internalDate } },
  };
  if (mail.text !== undefined) ev.text = mail.text;
  return ev;
}
