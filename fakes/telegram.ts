/**
 * A fake Telegram Bot API on loopback. Knows its bot tokens (`/bot<token>/<method>`), checks the
 * documented limits (text 1-4096 after HTML entity parsing, captions <= 1024, valid HTML) and
 * answers with Telegram's `{ok, result}` / `{ok:false, error_code, description}` envelopes.
 *
 * Decision: setWebhook accepts plain http:// URLs only for loopback hosts (127.0.0.1, localhost,
 * ::1) and any port there, so tests and the demo can receive updates; everything else must be
 * https on 443/80/88/8443 as on the real API.
 *
 * Example:
 *   const tg = await startFakeTelegram();
 *   await telegramApi({ botToken: tg.token, baseUrl: tg.url }).sendMessage({ chat_id: 1, text: 'hi' });
 *   tg.sentMessages(1)[0].text === 'hi';
 *   await tg.close();
 */
import { fields, startFakeServer } from './fake-server.js';
import type { FakeReply, FakeServer, RecordedRequest, StatusFailSpec } from './fake-server.js';
import { parseTelegramHtml } from './telegram-html.js';
import { formFields, parseMultipart } from './multipart.js';


export const FAKE_TELEGRAM_TOKEN = '123456789:AAFakeTelegramTokenForSwitchboardTests';

export interface FakeTelegramOptions {
  /** Valid bot tokens; defaults to [FAKE_TELEGRAM_TOKEN]. */
  tokens?: string[];
  port?: number;
}

/** A message the fake holds (sent by a bot through sendMessage/sendPhoto/sendDocument). */
export interface FakeTelegramMessage {
  token: string;
  chat_id: string;
  message_id: number;
  date: number;
  kind: 'text' | 'photo' | 'document' | 'voice' | 'audio' | 'video';
  /** Current text (or caption) exactly as sent, markup included. */
  text: string;
  parse_mode?: string;
  /** Media URL or file_id for photo/document (when not uploaded). */
  media?: string;
  /** A file uploaded with the request (multipart/form-data): its name, type and exact bytes. */
  upload?: { fileName?: string; contentType?: string; bytes: Buffer };
  reply_to_message_id?: number;
  /** Set on the messages of one album (sendMediaGroup). */
  media_group_id?: string;
  /** Earlier texts, oldest first, one per successful edit. */
  edits: string[];
}

export interface FakeTelegramDraft {
  token: string;
  chat_id: string;
  draft_id: number;
  text: string;
  parse_mode?: string;
}

export interface FakeTelegramWebhook {
  url: string;
  secret_token?: string;
  allowed_updates?: string[];
  max_connections: number;
}

export interface FakeTelegram extends FakeServer {
  /** The first valid token. */
  token: string;
  /** Messages sent to `chatId` (all chats when omitted), oldest first. */
  sentMessages(chatId?: number | string): FakeTelegramMessage[];
  /** Draft updates received, oldest first. */
  drafts(chatId?: number | string): FakeTelegramDraft[];
  /** Chat actions received, oldest first. */
  chatActions(): { chat_id: string; action: string }[];
  /** The webhook currently set for a bot token. */
  webhook(token?: string): FakeTelegramWebhook | undefined;
  /** Stores a downloadable file (under `dir`, as Telegram's paths: photos/, voice/, documents/); returns its file_id for getFile. */
  addFile(bytes: Uint8Array, fileName?: string, dir?: string): string;
  /** Forgets a file: getFile and its download answer as for an unknown file from now on. */
  removeFile(fileId: string): void;
  /** Makes sends to this chat fail with 403 "bot was blocked by the user". */
  blockChat(chatId: number | string): void;
  /** The group became a supergroup: sends to `from` fail with 400 naming `to` (migrate_to_chat_id). */
  migrateChat(from: number | string, to: number | string): void;
  /**
   * POSTs an update to the bot's webhook with its secret token header, as Telegram does.
   * Returns the HTTP status the receiver answered.
   */
  deliverUpdate(update: Record<string, unknown>, token?: string): Promise<number>;
}

const ACTIONS = new Set([
  'typing', 'upload_photo', 'record_video', 'upload_video', 'record_voice', 'upload_voice',
  'upload_document', 'choose_sticker', 'find_location', 'record_video_note', 'upload_video_note',
]);
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

type Params = Record<string, unknown>;

export async function startFakeTelegram(opts: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  const tokens = opts.tokens ?? [FAKE_TELEGRAM_TOKEN];
  const messages: FakeTelegramMessage[] = [];
  const drafts: FakeTelegramDraft[] = [];
  const actions: { chat_id: string; action: string }[] = [];
  const webhooks = new Map<string, FakeTelegramWebhook>();
  const nextId = new Map<string, number>();
  const files = new Map<string, { bytes: Uint8Array; path: string }>();
  const blocked = new Set<string>();
  const migrated = new Map<string, number>();
  let updateCounter = 1000;
  let fileCounter = 0;

  const ok = (result: unknown): FakeReply => ({ status: 200, json: { ok: true, result } });
  const err = (status: number, description: string, extra?: Params): FakeReply => ({
    status,
    json: { ok: false, error_code: status, description, ...(extra ? { parameters: extra } : {}) },
  });
  const bad = (description: string): FakeReply => err(400, `Bad Request: ${description}`);

  function paramsOf(req: RecordedRequest): Params {
    const p: Params = {};
    for (const [k, v] of req.query) p[k] = v;
    Object.assign(p, fields(req.body));
    if (/^multipart\/form-data/i.test(String(req.headers['content-type'] ?? ''))) {
      const parts = parseMultipart(req.headers['content-type'], req.rawBody);
      if (!parts) return { __invalid: 'multipart body' };
      Object.assign(p, formFields(parts));
      // A file part is an upload ("attach" a new file), as Telegram takes them.
      for (const part of parts) if (part.fileName !== undefined) p[part.name] = { __upload: true, fileName: part.fileName, contentType: part.contentType, bytes: part.bytes };
    }
    // Form and query callers send nested objects as JSON strings, as Telegram allows.
    for (const key of ['reply_parameters', 'link_preview_options', 'allowed_updates']) {
      const v = p[key];
      if (typeof v === 'string') {
        try {
          p[key] = JSON.parse(v) as unknown;
        } catch {
          return { __invalid: key };
        }
      }
    }
    return p;
  }

  function chatKey(v: unknown): string | undefined {
    if (typeof v === 'number' && Number.isInteger(v)) return String(v);
    if (typeof v === 'string' && /^(-?\d+|@[A-Za-z0-9_]{4,})$/.test(v)) return v;
    return undefined;
  }

  /** Checks text against the limits; returns an error reply or the visible length. */
  function checkText(text: unknown, parseMode: unknown, max: number, what: 'text' | 'caption', allowEmpty: boolean): FakeReply | undefined {
    if (text === undefined && what === 'caption') return undefined;
    if (typeof text !== 'string') return bad(what === 'text' ? 'message text is empty' : 'caption must be a string');
    let visible = text;
    if (parseMode === 'HTML') {
      const parsed = parseTelegramHtml(text);
      if (!parsed.ok) return { status: 400, json: { ok: false, error_code: 400, description: parsed.error } };
      visible = parsed.text;
    } else if (parseMode !== undefined && parseMode !== 'MarkdownV2' && parseMode !== 'Markdown') {
      return bad(`unsupported parse_mode`);
    }
    if (!allowEmpty && visible.trim().length === 0) return bad(what === 'text' ? 'message text is empty' : 'caption is empty');
    // Limits count UTF-16 code units here, the strictest reading of "characters".
    if (visible.length > max) return bad(what === 'text' ? 'message is too long' : 'message caption is too long');
    return undefined;
  }

  function newMessage(token: string, chat: string, kind: FakeTelegramMessage['kind'], p: Params, text: string, media?: string, upload?: FakeTelegramMessage['upload']): FakeReply {
    const id = (nextId.get(`${token}|${chat}`) ?? 0) + 1;
    nextId.set(`${token}|${chat}`, id);
    const reply = fields(p.reply_parameters).message_id;
    const msg: FakeTelegramMessage = {
      token, chat_id: chat, message_id: id, date: Math.floor(Date.now() / 1000), kind, text,
      parse_mode: typeof p.parse_mode === 'string' ? p.parse_mode : undefined,
      media, reply_to_message_id: typeof reply === 'number' ? reply : undefined, edits: [], ...(upload ? { upload } : {}),
    };
    messages.push(msg);
    return ok(apiMessage(msg));
  }

  /**
   * sendMediaGroup as the Bot API takes it: `media` a JSON array of 2-10 InputMedia (photo and
   * video may mix; documents and audio only with their own kind), each `media` an `attach://<name>`
   * naming a multipart file part, or a URL/file_id; captions up to 1024 characters each.
   */
  function mediaGroup(token: string, chat: string, p: Params): FakeReply {
    let list: unknown = p.media;
    if (typeof list === 'string') {
      try {
        list = JSON.parse(list) as unknown;
      } catch {
        return bad("can't parse media JSON object");
      }
    }
    if (!Array.isArray(list)) return bad('media must be an array');
    if (list.length < 2 || list.length > 10) return bad('wrong number of media in the album: 2-10 allowed');
    const types = list.map((m) => fields(m).type);
    if (!types.every((t) => t === 'photo' || t === 'video' || t === 'document' || t === 'audio')) return bad('unsupported InputMedia type');
    const kinds = new Set(types.map((t) => (t === 'photo' || t === 'video' ? 'visual' : t)));
    if (kinds.size > 1) return bad('documents and audio files can be only grouped in an album with messages of the same type');
    const items: { kind: FakeTelegramMessage['kind']; caption: string; parseMode?: string; media?: string; upload?: FakeTelegramMessage['upload'] }[] = [];
    for (const raw of list) {
      const m = fields(raw);
      const kind = m.type as FakeTelegramMessage['kind'];
      const ref = m.media;
      if (typeof ref !== 'string' || ref === '') return bad('media not specified');
      const bad2 = checkText(m.caption, m.parse_mode, 1024, 'caption', true);
      if (bad2) return bad2;
      const caption = typeof m.caption === 'string' ? m.caption : '';
      const parseMode = typeof m.parse_mode === 'string' ? m.parse_mode : undefined;
      if (ref.startsWith('attach://')) {
        const up = fields(p[ref.slice('attach://'.length)]);
        if (up.__upload !== true) return bad(`file attach://${ref.slice(9)} not found in the request`);
        const bytes = up.bytes as Buffer;
        if (bytes.length === 0) return bad('file must be non-empty');
        if (bytes.length > (kind === 'photo' ? 10 : 50) * 1024 * 1024) return err(413, 'Request Entity Too Large');
        if (kind === 'photo' && !/^image\//.test(String(up.contentType ?? ''))) return bad('IMAGE_PROCESS_FAILED');
        items.push({ kind, caption, parseMode, upload: { fileName: up.fileName as string, contentType: up.contentType as string | undefined, bytes } });
      } else items.push({ kind, caption, parseMode, media: ref });
    }
    const groupId = String(Date.now()) + String(nextId.size);
    const out: Params[] = [];
    for (const it of items) {
      const reply = newMessage(token, chat, it.kind, { ...p, parse_mode: it.parseMode }, it.caption, it.media, it.upload);
      const msg = messages[messages.length - 1]!;
      msg.media_group_id = groupId;
      out.push({ ...((reply.json as { result: Params }).result), media_group_id: groupId });
    }
    return ok(out);
  }

  function apiMessage(m: FakeTelegramMessage): Params {
    const chatId = /^-?\d+$/.test(m.chat_id) ? Number(m.chat_id) : m.chat_id;
    const out: Params = {
      message_id: m.message_id,
      date: m.date,
      chat: { id: chatId, type: typeof chatId === 'number' && chatId > 0 ? 'private' : 'supergroup' },
      from: { id: Number(m.token.split(':')[0]), is_bot: true, first_name: 'Switchboard Test Bot', username: 'switchboard_test_bot' },
    };
    if (m.kind === 'text') out.text = m.text;
    else out.caption = m.text || undefined;
    if (m.kind === 'photo') out.photo = [{ file_id: `photo-${m.message_id}`, file_unique_id: `u${m.message_id}`, width: 90, height: 90 }];
    if (m.kind === 'document') out.document = { file_id: `doc-${m.message_id}`, file_unique_id: `d${m.message_id}` };
    if (m.kind === 'voice' || m.kind === 'audio' || m.kind === 'video') out[m.kind] = { file_id: `${m.kind}-${m.message_id}`, file_unique_id: `${m.kind[0]}${m.message_id}`, duration: 1 };
    if (m.edits.length > 0) out.edit_date = Math.floor(Date.now() / 1000);
    return out;
  }

  function setWebhook(token: string, p: Params): FakeReply {
    const url = p.url;
    if (typeof url !== 'string' || url === '') {
      webhooks.delete(token);
      return ok(true);
    }
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return bad('bad webhook: Failed to resolve host: Name or service not known');
    }
    const loopback = LOOPBACK.has(u.hostname);
    if (u.protocol !== 'https:' && !(loopback && u.protocol === 'http:')) return bad('bad webhook: An HTTPS URL must be provided for webhook');
    const port = u.port === '' ? (u.protocol === 'https:' ? '443' : '80') : u.port;
    if (!loopback && !['443', '80', '88', '8443'].includes(port)) return bad('bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443');
    const secret = p.secret_token;
    if (secret !== undefined && (typeof secret !== 'string' || !/^[A-Za-z0-9_-]{1,256}$/.test(secret))) {
      return bad('secret token contains unallowed characters');
    }
    const max = p.max_connections === undefined ? 40 : Number(p.max_connections);
    if (!Number.isInteger(max) || max < 1 || max > 100) return bad('bad webhook: max_connections must be between 1 and 100');
    const allowed = Array.isArray(p.allowed_updates) ? p.allowed_updates.filter((x): x is string => typeof x === 'string') : undefined;
    webhooks.set(token, { url, secret_token: secret as string | undefined, allowed_updates: allowed, max_connections: max });
    return ok(true);
  }

  function handleMethod(token: string, method: string, p: Params): FakeReply {
    if ('__invalid' in p) return bad(`can't parse ${String(p.__invalid)} JSON object`);
    switch (method) {
      case 'getme':
        return ok({ id: Number(token.split(':')[0]), is_bot: true, first_name: 'Switchboard Test Bot', username: 'switchboard_test_bot', can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false });
      case 'setwebhook':
        return setWebhook(token, p);
      case 'deletewebhook':
        webhooks.delete(token);
        return ok(true);
      case 'getwebhookinfo': {
        const w = webhooks.get(token);
        return ok(w
          ? { url: w.url, has_custom_certificate: false, pending_update_count: 0, max_connections: w.max_connections, ...(w.allowed_updates ? { allowed_updates: w.allowed_updates } : {}) }
          : { url: '', has_custom_certificate: false, pending_update_count: 0 });
      }
      case 'getfile': {
        const f = typeof p.file_id === 'string' ? files.get(p.file_id) : undefined;
        if (!f) return bad('invalid file_id');
        return ok({ file_id: p.file_id, file_unique_id: `u-${String(p.file_id)}`, file_size: f.bytes.length, file_path: f.path });
      }
    }

    if (p.chat_id === undefined || p.chat_id === '') return bad('chat_id is empty');
    const chat = chatKey(p.chat_id);
    if (!chat) return bad('chat not found');
    if (blocked.has(chat)) return err(403, 'Forbidden: bot was blocked by the user');
    const movedTo = migrated.get(chat);
    if (movedTo !== undefined) return err(400, 'Bad Request: group chat was upgraded to a supergroup chat', { migrate_to_chat_id: movedTo });

    switch (method) {
      case 'sendmessage':
        return checkText(p.text, p.parse_mode, 4096, 'text', false) ?? newMessage(token, chat, 'text', p, p.text as string);
      case 'sendphoto':
      case 'senddocument':
      case 'sendvoice':
      case 'sendaudio':
      case 'sendvideo': {
        const key = method.slice(4) as 'photo' | 'document' | 'voice' | 'audio' | 'video';
        const media = p[key];
        const up = fields(media);
        if (up.__upload === true) {
          const bytes = up.bytes as Buffer;
          if (bytes.length === 0) return bad('file must be non-empty');
          // Bot API upload limits: photos 10 MB, other files 50 MB.
          if (bytes.length > (key === 'photo' ? 10 : 50) * 1024 * 1024) return err(413, 'Request Entity Too Large');
          if (key === 'photo' && !/^image\//.test(String(up.contentType ?? ''))) return bad('IMAGE_PROCESS_FAILED');
          return checkText(p.caption, p.parse_mode, 1024, 'caption', true) ??
            newMessage(token, chat, key, p, typeof p.caption === 'string' ? p.caption : '', undefined, { fileName: up.fileName as string, contentType: up.contentType as string | undefined, bytes });
        }
        if (typeof media !== 'string' || media === '') return bad(`there is no ${key} in the request`);
        return checkText(p.caption, p.parse_mode, 1024, 'caption', true) ??
          newMessage(token, chat, key, p, typeof p.caption === 'string' ? p.caption : '', media);
      }
      case 'sendmediagroup':
        return mediaGroup(token, chat, p);
      case 'editmessagetext': {
        const id = Number(p.message_id);
        const msg = messages.find((m) => m.token === token && m.chat_id === chat && m.message_id === id);
        if (!msg) return bad('message to edit not found');
        if (msg.kind !== 'text') return bad('there is no text in the message to edit');
        const invalid = checkText(p.text, p.parse_mode, 4096, 'text', false);
        if (invalid) return invalid;
        const parseMode = typeof p.parse_mode === 'string' ? p.parse_mode : undefined;
        if (p.text === msg.text && parseMode === msg.parse_mode) {
          return bad('message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
        }
        msg.edits.push(msg.text);
        msg.text = p.text as string;
        msg.parse_mode = parseMode;
        return ok(apiMessage(msg));
      }
      case 'sendmessagedraft': {
        const draftId = Number(p.draft_id);
        if (!Number.isInteger(draftId) || draftId === 0) return bad('draft_id must be non-zero');
        if (!/^\d+$/.test(chat)) return bad('drafts can be sent only to private chats');
        const invalid = checkText(p.text ?? '', p.parse_mode, 4096, 'text', true);
        if (invalid) return invalid;
        drafts.push({ token, chat_id: chat, draft_id: draftId, text: String(p.text ?? ''), parse_mode: typeof p.parse_mode === 'string' ? p.parse_mode : undefined });
        return ok(true);
      }
      case 'sendchataction':
        if (typeof p.action !== 'string' || !ACTIONS.has(p.action)) return bad('wrong parameter action in request');
        actions.push({ chat_id: chat, action: p.action });
        return ok(true);
      default:
        return err(404, 'Not Found');
    }
  }

  function handler(req: RecordedRequest): FakeReply {
    const file = /^\/file\/bot([^/]+)\/(.+)$/.exec(req.path);
    if (file) {
      if (!tokens.includes(file[1])) return err(401, 'Unauthorized');
      const f = [...files.values()].find((x) => x.path === file[2]);
      return f ? { status: 200, bytes: f.bytes } : err(404, 'Not Found');
    }
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(req.path);
    if (!m) return err(404, 'Not Found');
    if (!tokens.includes(m[1])) return err(401, 'Unauthorized');
    return handleMethod(m[1], m[2].toLowerCase(), paramsOf(req));
  }

  function failure(spec: StatusFailSpec): FakeReply {
    if (spec.status === 429) {
      const after = spec.retryAfter ?? 1;
      return err(429, spec.message ?? `Too Many Requests: retry after ${after}`, { retry_after: after });
    }
    const text: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error', 502: 'Bad Gateway' };
    return err(spec.status, spec.message ?? text[spec.status] ?? 'Error');
  }

  const server = await startFakeServer({ handler, failure, port: opts.port });
  const filter = <T extends { chat_id: string }>(list: T[], chatId?: number | string): T[] =>
    chatId === undefined ? [...list] : list.filter((x) => x.chat_id === String(chatId));

  return {
    ...server,
    token: tokens[0],
    sentMessages: (chatId) => filter(messages, chatId),
    drafts: (chatId) => filter(drafts, chatId),
    chatActions: () => [...actions],
    webhook: (token) => webhooks.get(token ?? tokens[0]),
    addFile(bytes, fileName = 'file.bin', dir = 'documents') {
      const n = ++fileCounter;
      const id = `file-${n}`;
      files.set(id, { bytes, path: `${dir}/file_${n}-${fileName}` });
      return id;
    },
    removeFile(fileId) {
      files.delete(fileId);
    },
    migrateChat(from, to) {
      migrated.set(String(from), Number(to));
    },
    blockChat(chatId) {
      blocked.add(String(chatId));
    },
    async deliverUpdate(update, token = tokens[0]) {
      const w = webhooks.get(token);
      if (!w) throw new Error('no webhook set for this bot');
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (w.secret_token) headers['x-telegram-bot-api-secret-token'] = w.secret_token;
      const body = { update_id: ++updateCounter, ...update };
      const res = await fetch(w.url, { method: 'POST', headers, body: JSON.stringify(body), redirect: 'manual' });
      await res.arrayBuffer();
      return res.status;
    },
  };
}
