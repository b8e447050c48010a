import { PayloadError } from '../contract.js';
import type { Contact, DeliveryStatus, InboundEvent, MediaKind, MediaRef, MessageEvent, Party } from '../events.js';
import type { AdapterContext, RawRequest } from '../contract.js';
import { bodyDigest } from '../shared/compare.js';
import { arr, id, num, obj, optArr, optObj, optStr, parseJsonObject, str, type Obj } from '../shared/guards.js';
import { isoFromSeconds } from '../shared/time.js';

const MEDIA_TYPES: Record<string, MediaKind> = {
  image: 'image',
  audio: 'audio',
  video: 'video',
  document: 'document',
  sticker: 'sticker',
};

const STATUSES: Record<string, DeliveryStatus> = { sent: 'sent', delivered: 'delivered', read: 'read', failed: 'failed' };

/** One POST may batch several entries, changes, messages and statuses: each becomes an event. */
export async function parseMeta(req: RawRequest, ctx: AdapterContext): Promise<InboundEvent[]> {
  const body = parseJsonObject(req.body, 'whatsapp webhook');
  const now = new Date(ctx.now()).toISOString();
  // Id-less things (other objects/fields) get a digest of the body so a retry dedupes.
  const digest = bodyDigest(req.body);
  if (body.object !== 'whatsapp_business_account') {
    const type = typeof body.object === 'string' ? body.object : 'unknown';
    return [{ kind: 'unsupported', providerType: type, providerEventId: `${type}:${digest}`, occurredAt: now, raw: body }];
  }
  const events: InboundEvent[] = [];
  arr(body.entry, 'entry').forEach((e, i) => {
    const entry = obj(e, `entry[${i}]`);
    arr(entry.changes, `entry[${i}].changes`).forEach((c, j) => {
      const change = obj(c, `entry[${i}].changes[${j}]`);
      const field = str(change.field, `entry[${i}].changes[${j}].field`);
      const value = obj(change.value, `entry[${i}].changes[${j}].value`);
      if (field === 'user_id_update') {
        events.push(...userIdUpdates(value, `entry[${i}].changes[${j}].value`, `${digest}:${i}.${j}`, ctx));
        return;
      }
      if (field !== 'messages') {
        events.push({ kind: 'unsupported', providerType: field, providerEventId: `${field}:${digest}:${i}.${j}`, occurredAt: now, raw: value });
        return;
      }
      events.push(...changeEvents(value, `entry[${i}].changes[${j}].value`, ctx));
    });
  });
  return events;
}

function changeEvents(value: Obj, path: string, ctx: AdapterContext): InboundEvent[] {
  const meta = obj(value.metadata, `${path}.metadata`);
  const phoneNumberId = id(meta.phone_number_id, `${path}.metadata.phone_number_id`);
  const to: Party = { id: phoneNumberId };
  const display = optStr(meta.display_phone_number, `${path}.metadata.display_phone_number`);
  if (display) to.phone = display;
  const contacts = contactsOf(value, path);
  const out: InboundEvent[] = [];
  optArr(value.messages, `${path}.messages`).forEach((m, i) => {
    out.push(messageEvent(obj(m, `${path}.messages[${i}]`), `${path}.messages[${i}]`, phoneNumberId, to, contacts, ctx));
  });
  optArr(value.statuses, `${path}.statuses`).forEach((s, i) => {
    out.push(statusEvent(obj(s, `${path}.statuses[${i}]`), `${path}.statuses[${i}]`, phoneNumberId, ctx));
  });
  return out;
}

/** What the `contacts` array says about the people of a change: by wa_id and by BSUID. */
interface ContactInfo {
  waId?: string;
  userId?: string;
  name?: string;
  username?: string;
}

function contactsOf(value: Obj, path: string): ContactInfo[] {
  return optArr(value.contacts, `${path}.contacts`).map((c, i) => {
    const contact = obj(c, `${path}.contacts[${i}]`);
    const profile = optObj(contact.profile, `${path}.contacts[${i}].profile`);
    const info: ContactInfo = {};
    const waId = optStr(contact.wa_id, `${path}.contacts[${i}].wa_id`);
    const userId = optStr(contact.user_id, `${path}.contacts[${i}].user_id`);
    const name = optStr(profile?.name, `${path}.contacts[${i}].profile.name`);
    const username = optStr(profile?.username, `${path}.contacts[${i}].profile.username`);
    if (waId) info.waId = waId;
    if (userId) info.userId = userId;
    if (name) info.name = name;
    if (username) info.username = username;
    return info;
  });
}

/**
 * Who sent a message. Since WhatsApp usernames, Meta sends a business-scoped user id (BSUID,
 * `user_id` in contacts, `from_user_id` on the message) with every message, and the phone number
 * (`from`, `wa_id`) only when it may share it. The conversation is keyed on the BSUID when there
 * is one (it outlives a withheld phone number), and the wa_id it stood for is named as the
 * previous key, so a conversation begun under the phone number follows the person.
 */
function senderOf(m: Obj, path: string, contacts: ContactInfo[]): { key: string; previous?: string[]; from: Party } {
  const waId = m.from !== undefined ? id(m.from, `${path}.from`) : undefined;
  const declared = optStr(m.from_user_id, `${path}.from_user_id`);
  const contact = contacts.find((c) => (declared && c.userId === declared) || (waId && c.waId === waId)) ?? (contacts.length === 1 ? contacts[0] : undefined);
  const userId = declared ?? contact?.userId;
  const key = userId ?? waId ?? contact?.waId;
  if (!key) throw new PayloadError(`${path}: a message needs "from" or a user_id`);
  const phone = waId ?? contact?.waId;
  const from: Party = { id: key };
  if (phone) from.phone = phone;
  if (contact?.name) from.name = contact.name;
  if (contact?.username) from.username = contact.username;
  return { key, ...(userId && phone && phone !== userId ? { previous: [phone] } : {}), from };
}

function messageEvent(m: Obj, path: string, channelIdentity: string, to: Party, contacts: ContactInfo[], ctx: AdapterContext): InboundEvent {
  const wamid = str(m.id, `${path}.id`);
  const sender = senderOf(m, path, contacts);
  const type = str(m.type, `${path}.type`);
  const base = {
    providerEventId: wamid,
    occurredAt: isoFromSeconds(m.timestamp, ctx.now),
    conversationKey: sender.key,
    ...(sender.previous ? { previousConversationKeys: sender.previous } : {}),
    channelIdentity,
    raw: m,
  };
  const from = sender.from;
  const ev: MessageEvent = { kind: 'message', ...base, providerMessageId: wamid, from, to };
  const context = optObj(m.context, `${path}.context`);
  const replyTo = context ? optStr(context.id, `${path}.context.id`) : undefined;
  if (replyTo) ev.replyToProviderMessageId = replyTo;

  const part = (key: string) => obj(m[key], `${path}.${key}`);
  if (type === 'text') {
    ev.text = str(part('text').body, `${path}.text.body`);
  } else if (type in MEDIA_TYPES) {
    const media = mediaRef(part(type), type, `${path}.${type}`);
    ev.media = [media];
    if (media.caption !== undefined) ev.text = media.caption;
  } else if (type === 'location') {
    const l = part('location');
    ev.location = { latitude: num(l.latitude, `${path}.location.latitude`), longitude: num(l.longitude, `${path}.location.longitude`) };
    const lname = optStr(l.name, `${path}.location.name`);
    const address = optStr(l.address, `${path}.location.address`);
    if (lname) ev.location.name = lname;
    if (address) ev.location.address = address;
  } else if (type === 'contacts') {
    ev.contacts = arr(m.contacts, `${path}.contacts`).map((c, i) => contactOf(obj(c, `${path}.contacts[${i}]`), `${path}.contacts[${i}]`));
  } else if (type === 'interactive') {
    const it = part('interactive');
    const kind = str(it.type, `${path}.interactive.type`);
    // Flow (nfm_reply) and other answers have no id/title pair: keep them, unparsed.
    if (kind !== 'button_reply' && kind !== 'list_reply') return { kind: 'unsupported', ...base, providerType: `message.interactive.${kind}` };
    const reply = obj(it[kind], `${path}.interactive.${kind}`);
    const title = optStr(reply.title, `${path}.interactive.${kind}.title`);
    ev.interactive = { id: str(reply.id, `${path}.interactive.${kind}.id`), ...(title !== undefined ? { title } : {}) };
    if (title !== undefined) ev.text = title;
  } else if (type === 'button') {
    const b = part('button');
    const text = optStr(b.text, `${path}.button.text`);
    ev.interactive = { id: optStr(b.payload, `${path}.button.payload`) ?? text ?? '', ...(text !== undefined ? { title: text } : {}) };
    if (text !== undefined) ev.text = text;
  } else if (type === 'reaction') {
    const r = part('reaction');
    // An empty/absent emoji means the person removed their reaction.
    ev.reaction = { emoji: optStr(r.emoji, `${path}.reaction.emoji`) ?? '', targetProviderMessageId: str(r.message_id, `${path}.reaction.message_id`) };
  } else {
    return { kind: 'unsupported', ...base, providerType: `message.${type}` };
  }
  return ev;
}

function mediaRef(p: Obj, type: string, path: string): MediaRef {
  const kind: MediaKind = type === 'audio' && p.voice === true ? 'voice' : MEDIA_TYPES[type];
  const ref: MediaRef = { kind, providerFileId: str(p.id, `${path}.id`) };
  const mime = optStr(p.mime_type, `${path}.mime_type`);
  const sha = optStr(p.sha256, `${path}.sha256`);
  const caption = optStr(p.caption, `${path}.caption`);
  const fileName = optStr(p.filename, `${path}.filename`);
  if (mime) ref.mimeType = mime;
  if (sha) ref.sha256 = sha;
  if (caption !== undefined) ref.caption = caption;
  if (fileName) ref.fileName = fileName;
  return ref;
}

function contactOf(c: Obj, path: string): Contact {
  const n = optObj(c.name, `${path}.name`);
  const name = (n && (optStr(n.formatted_name, `${path}.name.formatted_name`) ?? optStr(n.first_name, `${path}.name.first_name`))) ?? '';
  const phones = optArr(c.phones, `${path}.phones`).map((p, i) => optStr(obj(p, `${path}.phones[${i}]`).phone, `${path}.phones[${i}].phone`));
  const emails = optArr(c.emails, `${path}.emails`).map((e, i) => optStr(obj(e, `${path}.emails[${i}]`).email, `${path}.emails[${i}].email`));
  return { name, phones: phones.filter((p): p is string => !!p), emails: emails.filter((e): e is string => !!e) };
}

function statusEvent(s: Obj, path: string, channelIdentity: string, ctx: AdapterContext): InboundEvent {
  const wamid = str(s.id, `${path}.id`);
  const providerStatus = str(s.status, `${path}.status`);
  // The BSUID when the status has one (the conversation's key), else the phone number.
  const recipient = optStr(s.recipient_user_id, `${path}.recipient_user_id`) ?? optStr(s.recipient_id, `${path}.recipient_id`);
  const base = {
    providerEventId: `${wamid}:${providerStatus}`,
    occurredAt: isoFromSeconds(s.timestamp, ctx.now),
    channelIdentity,
    ...(recipient ? { conversationKey: recipient } : {}),
    raw: s,
  };
  const status = STATUSES[providerStatus];
  if (!status) return { kind: 'unsupported', ...base, providerType: `status.${providerStatus}` };
  const ev: InboundEvent = { kind: 'status', ...base, providerMessageId: wamid, status, providerStatus };
  const errors = optArr(s.errors, `${path}.errors`);
  if (errors.length) {
    const e = obj(errors[0], `${path}.errors[0]`);
    const title = optStr(e.title, `${path}.errors[0].title`);
    const message = optStr(e.message, `${path}.errors[0].message`);
    const details = optStr(optObj(e.error_data, `${path}.errors[0].error_data`)?.details, `${path}.errors[0].error_data.details`);
    const text = [title, message !== title ? message : undefined, details].filter(Boolean).join(': ');
    ev.error = {
      ...(e.code !== undefined ? { code: id(e.code, `${path}.errors[0].code`) } : {}),
      ...(text ? { message: text } : {}),
    };
  }
  return ev;
}

/**
 * `user_id_update`: a person's BSUID changed (Meta issues a new one when they change their phone
 * number). Each update names the previous and the new id; the conversation under the previous id
 * (or the wa_id, when given) moves to the new one. Field names are read leniently
 * (`previous_user_id`/`old_user_id`/`previous.user_id`, `user_id`/`new_user_id`/`current.user_id`),
 * as the payload is young; anything without both ids is kept as unsupported.
 */
function userIdUpdates(value: Obj, path: string, digest: string, ctx: AdapterContext): InboundEvent[] {
  const meta = optObj(value.metadata, `${path}.metadata`);
  const channelIdentity = meta ? optStr(meta.phone_number_id, `${path}.metadata.phone_number_id`) : undefined;
  const items = Array.isArray(value.user_id_update) ? value.user_id_update : [value];
  return items.map((raw, k) => {
    const item = obj(raw, `${path}.user_id_update[${k}]`);
    const prevObj = optObj(item.previous, `${path}.previous`);
    const curObj = optObj(item.current, `${path}.current`);
    const previous = optStr(item.previous_user_id, 'previous_user_id') ?? optStr(item.old_user_id, 'old_user_id') ?? (prevObj ? optStr(prevObj.user_id, 'previous.user_id') : undefined);
    const current = optStr(item.new_user_id, 'new_user_id') ?? (curObj ? optStr(curObj.user_id, 'current.user_id') : undefined) ?? optStr(item.user_id, 'user_id');
    const waId = optStr(item.wa_id, 'wa_id');
    const occurredAt = isoFromSeconds(item.timestamp, ctx.now);
    const providerEventId = `user_id_update:${previous ?? ''}:${current ?? ''}:${digest}:${k}`;
    const base = { kind: 'unsupported' as const, providerType: 'user_id_update', providerEventId, occurredAt, ...(channelIdentity ? { channelIdentity } : {}), raw: item };
    if (!previous || !current || previous === current) return base;
    return { ...base, conversationKey: current, previousConversationKeys: [previous, ...(waId ? [waId] : [])] };
  });
}
