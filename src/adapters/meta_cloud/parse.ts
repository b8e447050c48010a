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
  const names = new Map<string, string>();
  optArr(value.contacts, `${path}.contacts`).forEach((c, i) => {
    const contact = obj(c, `${path}.contacts[${i}]`);
    const name = optStr(optObj(contact.profile, `${path}.contacts[${i}].profile`)?.name, `${path}.contacts[${i}].profile.name`);
    const waId = optStr(contact.wa_id, `${path}.contacts[${i}].wa_id`);
    if (waId && name) names.set(waId, name);
  });
  const out: InboundEvent[] = [];
  optArr(value.messages, `${path}.messages`).forEach((m, i) => {
    out.push(messageEvent(obj(m, `${path}.messages[${i}]`), `${path}.messages[${i}]`, phoneNumberId, to, names, ctx));
  });
  optArr(value.statuses, `${path}.statuses`).forEach((s, i) => {
    out.push(statusEvent(obj(s, `${path}.statuses[${i}]`), `${path}.statuses[${i}]`, phoneNumberId, ctx));
  });
  return out;
}

function messageEvent(m: Obj, path: string, channelIdentity: string, to: Party, names: Map<string, string>, ctx: AdapterContext): InboundEvent {
  const wamid = str(m.id, `${path}.id`);
  const waId = id(m.from, `${path}.from`);
  const type = str(m.type, `${path}.type`);
  const base = { providerEventId: wamid, occurredAt: isoFromSeconds(m.timestamp, ctx.now), conversationKey: waId, channelIdentity, raw: m };
  const from: Party = { id: waId, phone: waId };
  const name = names.get(waId);
  if (name) from.name = name;
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
  const recipient = optStr(s.recipient_id, `${path}.recipient_id`);
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
