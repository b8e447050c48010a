/**
 * Vonage Messages API webhooks: one JSON object per POST, either an inbound message
 * (`message_type` + its field) or a message status (`status`). Both arrive at the channel's
 * webhook URL. providerEventId = message_uuid (statuses: message_uuid + ':' + status), so a
 * Vonage retry is a no-op; conversationKey = the person's number (E.164 digits, as Vonage
 * writes it), channelIdentity = our number.
 */
import type { DeliveryStatus, InboundEvent, MediaKind, MediaRef, MessageEvent } from '../events.js';
import type { AdapterContext, RawRequest } from '../contract.js';
import { PayloadError } from '../contract.js';
import { id, num, obj, optObj, optStr, parseJsonObject, str, type Obj } from '../shared/guards.js';
import { isoFromDateString } from '../shared/time.js';

const MEDIA: Record<string, MediaKind> = { image: 'image', audio: 'audio', video: 'video', file: 'file', sticker: 'sticker' };

const STATUSES: Record<string, DeliveryStatus> = {
  submitted: 'sent',
  delivered: 'delivered',
  read: 'read',
  rejected: 'failed',
  undeliverable: 'failed',
};

export async function parseVonage(req: RawRequest, ctx: AdapterContext): Promise<InboundEvent[]> {
  const body = parseJsonObject(req.body, 'vonage webhook');
  const uuid = id(body.message_uuid, 'message_uuid');
  const occurredAt = isoFromDateString(body.timestamp, ctx.now);
  const to = str(body.to, 'to');
  const from = str(body.from, 'from');
  if (typeof body.status === 'string') {
    const status = STATUSES[body.status];
    if (!status) return [{ kind: 'unsupported', providerType: `status:${body.status}`, providerEventId: `${uuid}:${body.status}`, occurredAt, conversationKey: to, channelIdentity: from, raw: body }];
    const err = optObj(body.error, 'error');
    return [
      {
        kind: 'status',
        providerEventId: `${uuid}:${body.status}`,
        providerMessageId: uuid,
        status,
        providerStatus: body.status,
        occurredAt,
        conversationKey: to,
        channelIdentity: from,
        ...(err ? { error: { code: errorCode(err), message: optStr(err.title, 'error.title') ?? optStr(err.detail, 'error.detail') } } : {}),
        raw: body,
      },
    ];
  }
  if (typeof body.message_type !== 'string') throw new PayloadError('vonage webhook: neither message_type nor status');
  const message = messageFields(body, body.message_type);
  if (!message) {
    return [{ kind: 'unsupported', providerType: body.message_type, providerEventId: uuid, occurredAt, conversationKey: from, channelIdentity: to, raw: body }];
  }
  const profile = optObj(body.profile, 'profile');
  const name = optStr(profile?.name, 'profile.name');
  const context = optObj(body.context, 'context');
  const replyTo = optStr(context?.message_uuid, 'context.message_uuid');
  const event: MessageEvent = {
    kind: 'message',
    providerEventId: uuid,
    providerMessageId: uuid,
    occurredAt,
    conversationKey: from,
    channelIdentity: to,
    from: { id: from, phone: from, ...(name ? { name } : {}) },
    to: { id: to, phone: to },
    ...message,
    ...(replyTo && !message.reaction ? { replyToProviderMessageId: replyTo } : {}),
    raw: body,
  };
  return [event];
}

type MessageParts = Pick<MessageEvent, 'text' | 'media' | 'location' | 'interactive' | 'reaction'>;

/** The fields of one message type; undefined for types Switchboard does not model. */
function messageFields(body: Obj, type: string): MessageParts | undefined {
  if (type === 'text') return { text: str(body.text, 'text') };
  const kind = MEDIA[type];
  if (kind) {
    const m = obj(body[type], type);
    const ref: MediaRef = { kind, url: str(m.url, `${type}.url`) };
    const caption = optStr(m.caption, `${type}.caption`);
    const fileName = optStr(m.name, `${type}.name`);
    if (caption) ref.caption = caption;
    if (fileName) ref.fileName = fileName;
    return { media: [ref], ...(caption ? { text: caption } : {}) };
  }
  if (type === 'location') {
    const l = obj(body.location, 'location');
    const name = optStr(l.name, 'location.name');
    const address = optStr(l.address, 'location.address');
    return { location: { latitude: num(l.lat, 'location.lat'), longitude: num(l.long, 'location.long'), ...(name ? { name } : {}), ...(address ? { address } : {}) } };
  }
  if (type === 'reply') {
    const r = obj(body.reply, 'reply');
    const title = optStr(r.title, 'reply.title');
    return { interactive: { id: id(r.id, 'reply.id'), ...(title ? { title } : {}) }, ...(title ? { text: title } : {}) };
  }
  if (type === 'button') {
    const b = obj(body.button, 'button');
    const text = optStr(b.text, 'button.text');
    return { interactive: { id: optStr(b.payload, 'button.payload') ?? text ?? '', ...(text ? { title: text } : {}) }, ...(text ? { text } : {}) };
  }
  if (type === 'reaction') {
    const r = obj(body.reaction, 'reaction');
    const target = optStr(optObj(body.context, 'context')?.message_uuid, 'context.message_uuid');
    if (!target) return undefined;
    return { reaction: { emoji: r.action === 'unreact' ? '' : str(r.emoji, 'reaction.emoji'), targetProviderMessageId: target } };
  }
  return undefined;
}

/** The error's code: the fragment or last segment of its `type` URL (`…#1340`), else its title. */
function errorCode(err: Obj): string | undefined {
  const type = optStr(err.type, 'error.type');
  if (type) return type.includes('#') ? type.slice(type.lastIndexOf('#') + 1) : type.slice(type.lastIndexOf('/') + 1);
  const code = err.code;
  return typeof code === 'string' || typeof code === 'number' ? String(code) : undefined;
}
