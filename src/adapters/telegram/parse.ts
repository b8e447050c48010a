import type { Contact, InboundEvent, MediaKind, MediaRef, MessageEvent, Party } from '../events.js';
import type { AdapterContext, RawRequest } from '../contract.js';
import { PayloadError } from '../contract.js';
import { id, isObj, num, obj, optArr, optNum, optObj, optStr, parseJsonObject, type Obj } from '../shared/guards.js';
import { isoFromSeconds } from '../shared/time.js';

/** Update keys that carry a Message we turn into a message event. */
const MESSAGE_KEYS = ['message', 'edited_message'] as const;

/** Single-file media fields, in the order we look at them (animation also sets `document`). */
const FILE_FIELDS: [string, MediaKind][] = [
  ['animation', 'animation'],
  ['document', 'document'],
  ['audio', 'audio'],
  ['voice', 'voice'],
  ['video', 'video'],
  ['video_note', 'video'],
  ['sticker', 'sticker'],
];

export async function parseTelegram(req: RawRequest, ctx: AdapterContext): Promise<InboundEvent[]> {
  const update = parseJsonObject(req.body, 'telegram update');
  const providerEventId = id(update.update_id, 'update_id');
  for (const key of MESSAGE_KEYS) {
    if (update[key] !== undefined) {
      return [messageEvent(obj(update[key], key), key, providerEventId, ctx)];
    }
  }
  if (update.callback_query !== undefined) {
    return [callbackEvent(obj(update.callback_query, 'callback_query'), providerEventId, ctx)];
  }
  const kind = Object.keys(update).find((k) => k !== 'update_id') ?? 'empty';
  return [{ kind: 'unsupported', providerType: kind, providerEventId, occurredAt: new Date(ctx.now()).toISOString(), raw: update }];
}

function messageEvent(m: Obj, key: string, providerEventId: string, ctx: AdapterContext): MessageEvent {
  const chat = obj(m.chat, `${key}.chat`);
  const caption = optStr(m.caption, `${key}.caption`);
  const media = mediaOf(m, key, caption);
  const ev: MessageEvent = {
    kind: 'message',
    providerEventId,
    occurredAt: isoFromSeconds(key === 'edited_message' ? (m.edit_date ?? m.date) : m.date, ctx.now),
    conversationKey: id(chat.id, `${key}.chat.id`),
    providerMessageId: id(m.message_id, `${key}.message_id`),
    // Channel posts and anonymous admins have no `from`: the chat speaks for itself.
    from: party(optObj(m.from, `${key}.from`) ?? optObj(m.sender_chat, `${key}.sender_chat`) ?? chat, key),
    raw: m,
  };
  const text = optStr(m.text, `${key}.text`) ?? caption;
  if (text !== undefined) ev.text = text;
  if (media.length) ev.media = media;
  const loc = optObj(m.location, `${key}.location`);
  if (loc) ev.location = { latitude: num(loc.latitude, 'location.latitude'), longitude: num(loc.longitude, 'location.longitude') };
  const contact = optObj(m.contact, `${key}.contact`);
  if (contact) ev.contacts = [contactOf(contact)];
  const reply = optObj(m.reply_to_message, `${key}.reply_to_message`);
  if (reply) ev.replyToProviderMessageId = id(reply.message_id, 'reply_to_message.message_id');
  if (key === 'edited_message') ev.edited = true;
  return ev;
}

function callbackEvent(q: Obj, providerEventId: string, ctx: AdapterContext): MessageEvent {
  const from = party(obj(q.from, 'callback_query.from'), 'callback_query');
  // Inline-mode callbacks carry no message; the presser's private chat is the conversation then.
  const msg = optObj(q.message, 'callback_query.message');
  const chat = msg ? optObj(msg.chat, 'callback_query.message.chat') : undefined;
  const data = optStr(q.data, 'callback_query.data') ?? optStr(q.game_short_name, 'callback_query.game_short_name') ?? '';
  const ev: MessageEvent = {
    kind: 'message',
    providerEventId,
    occurredAt: new Date(ctx.now()).toISOString(),
    conversationKey: chat ? id(chat.id, 'callback_query.message.chat.id') : from.id,
    providerMessageId: id(q.id, 'callback_query.id'),
    from,
    interactive: { id: data },
    raw: q,
  };
  if (msg && msg.message_id !== undefined) ev.replyToProviderMessageId = id(msg.message_id, 'callback_query.message.message_id');
  // The button's label is not in the update; keyboard lookup would need the sent message.
  const title = findButtonTitle(msg, data);
  if (title !== undefined) ev.interactive = { id: data, title };
  return ev;
}

/** The pressed button's text, when the original message (with its inline keyboard) came along. */
function findButtonTitle(msg: Obj | undefined, data: string): string | undefined {
  const markup = msg && isObj(msg.reply_markup) ? msg.reply_markup : undefined;
  const rows = markup && Array.isArray(markup.inline_keyboard) ? markup.inline_keyboard : [];
  for (const row of rows) {
    if (!Array.isArray(row)) continue;
    for (const b of row) {
      if (isObj(b) && b.callback_data === data && typeof b.text === 'string') return b.text;
    }
  }
  return undefined;
}

function party(u: Obj, path: string): Party {
  const p: Party = { id: id(u.id, `${path}.from.id`) };
  const first = optStr(u.first_name, `${path}.first_name`);
  const last = optStr(u.last_name, `${path}.last_name`);
  const title = optStr(u.title, `${path}.title`);
  const name = [first, last].filter(Boolean).join(' ') || title;
  if (name) p.name = name;
  const username = optStr(u.username, `${path}.username`);
  if (username) p.username = username;
  return p;
}

function mediaOf(m: Obj, key: string, caption: string | undefined): MediaRef[] {
  const out: MediaRef[] = [];
  const photos = optArr(m.photo, `${key}.photo`).map((p, i) => obj(p, `${key}.photo[${i}]`));
  if (photos.length) {
    // Sizes arrive growing, but pick by area rather than trusting the order.
    const largest = photos.reduce((a, b) => (area(b) > area(a) ? b : a));
    out.push(fileRef(largest, 'image', `${key}.photo`, caption));
  }
  for (const [field, kind] of FILE_FIELDS) {
    if (m[field] === undefined) continue;
    if (field === 'document' && m.animation !== undefined) continue;
    out.push(fileRef(obj(m[field], `${key}.${field}`), kind, `${key}.${field}`, caption));
  }
  return out;
}

function area(p: Obj): number {
  return (typeof p.width === 'number' ? p.width : 0) * (typeof p.height === 'number' ? p.height : 0);
}

function fileRef(f: Obj, kind: MediaKind, path: string, caption: string | undefined): MediaRef {
  const ref: MediaRef = { kind, providerFileId: id(f.file_id, `${path}.file_id`) };
  const mime = optStr(f.mime_type, `${path}.mime_type`);
  if (mime) ref.mimeType = mime;
  const name = optStr(f.file_name, `${path}.file_name`);
  if (name) ref.fileName = name;
  const size = optNum(f.file_size, `${path}.file_size`);
  if (size !== undefined) ref.size = size;
  if (caption !== undefined) ref.caption = caption;
  return ref;
}

function contactOf(c: Obj): Contact {
  const phone = optStr(c.phone_number, 'contact.phone_number');
  const name = [optStr(c.first_name, 'contact.first_name'), optStr(c.last_name, 'contact.last_name')].filter(Boolean).join(' ');
  if (!phone && !name) throw new PayloadError('contact has neither phone_number nor name');
  return { name, phones: phone ? [phone] : [], emails: [] };
}
