/**
 * A fake Graph API (WhatsApp Cloud) on loopback, served under any `/vNN.N/` prefix. Checks the
 * Bearer token (wrong -> 401 code 190 OAuthException), the phone number id, `messaging_product`,
 * text.body <= 4096, and answers `{messaging_product, contacts, messages:[{id:'wamid…'}]}`.
 * The real API reports 131047 (24-hour window closed) mostly through a failed status webhook;
 * this fake answers it synchronously with 400 so the error path can be tested.
 *
 * Example:
 *   const g = await startFakeGraph();
 *   await metaCloudApi({ accessToken: g.accessToken, baseUrl: g.baseUrl })
 *     .sendText({ phoneNumberId: g.phoneNumberId, to: '4915112345678', body: 'hi' });
 */
import { createHash, randomBytes } from 'node:crypto';
import { bearer, fields, startFakeServer } from './fake-server.js';
import { formFields, parseMultipart } from './multipart.js';
import type { FakeReply, FakeServer, RecordedRequest, StatusFailSpec } from './fake-server.js';
import { metaSignature, postWebhook } from './webhook-delivery.js';

export const FAKE_META_ACCESS_TOKEN = 'EAAFakeGraphAccessTokenForSwitchboardTests';
export const FAKE_META_PHONE_NUMBER_ID = '100200300400500';
export const FAKE_GRAPH_VERSION = 'v24.0';
export const FAKE_META_WABA_ID = 'WABA_FAKE';

export interface FakeGraphOptions {
  accessTokens?: string[];
  phoneNumberIds?: string[];
  /** WhatsApp Business Accounts and the phone number ids each holds (default: WABA_FAKE holds every phoneNumberIds entry). */
  wabas?: Record<string, string[]>;
  port?: number;
  /** How long a media download URL works (default 5 minutes, as Graph's). */
  mediaUrlTtlMs?: number;
}

export interface FakeGraphUpload {
  id: string;
  phoneNumberId: string;
  type: string;
  fileName?: string;
  bytes: Buffer;
}

export interface FakeGraphMessage {
  id: string;
  phoneNumberId: string;
  to: string;
  type: string;
  /** The full request body as sent. */
  payload: Record<string, unknown>;
  /** text.body for text messages. */
  text?: string;
  replyTo?: string;
}

export interface FakeGraph extends FakeServer {
  /** `url` + '/v24.0': pass this as the client's baseUrl. */
  baseUrl: string;
  accessToken: string;
  phoneNumberId: string;
  /** Messages accepted, oldest first (optionally only those to `to`). */
  sentMessages(to?: string): FakeGraphMessage[];
  /** Read receipts / typing indicators received. */
  readReceipts(): { phoneNumberId: string; messageId: string; typing: boolean }[];
  /** From now on, non-template sends to this recipient fail with 131047. */
  closeWindow(to: string): void;
  openWindow(to: string): void;
  /**
   * Stores media; returns its media id for getMediaUrl. `sha256` overrides the hash Graph reports
   * (to test a mismatch). Download URLs expire after `urlTtlMs` (Graph's are ~5 minutes).
   */
  addMedia(bytes: Uint8Array, mimeType: string, opts?: { sha256?: string }): string;
  /** Forgets media (Graph keeps it ~7 days): lookups answer "does not exist" from now on. */
  removeMedia(mediaId: string): void;
  /**
   * The webhook body Meta sends for one inbound text message, and its wamid. With `userId` the
   * person's business-scoped user id (BSUID) is in `contacts[].user_id` and `from_user_id`; with
   * `withholdPhone` (a user with a username) there is no `from` and no `wa_id`.
   */
  inboundText(input: { from?: string; text: string; name?: string; phoneNumberId?: string; replyTo?: string; userId?: string; username?: string; withholdPhone?: boolean }): { payload: Record<string, unknown>; wamid: string };
  /** A `user_id_update` webhook: the person's BSUID changed from `previous` to `current`. */
  userIdUpdate(input: { previous: string; current: string; waId?: string; phoneNumberId?: string }): Record<string, unknown>;
  /** Files uploaded through POST /{phone_number_id}/media, oldest first. */
  uploads(): FakeGraphUpload[];
  /** POSTs a webhook body signed with X-Hub-Signature-256 as Meta does; returns the receiver's status. */
  deliverWebhook(url: string, payload: Record<string, unknown>, appSecret: string): Promise<number>;
}

const MEDIA_TYPES = new Set(['image', 'document', 'audio', 'video', 'sticker']);

export async function startFakeGraph(opts: FakeGraphOptions = {}): Promise<FakeGraph> {
  const tokens = opts.accessTokens ?? [FAKE_META_ACCESS_TOKEN];
  const phoneIds = opts.phoneNumberIds ?? [FAKE_META_PHONE_NUMBER_ID];
  const wabas = opts.wabas ?? { [FAKE_META_WABA_ID]: phoneIds };
  const sent: FakeGraphMessage[] = [];
  const reads: { phoneNumberId: string; messageId: string; typing: boolean }[] = [];
  const closed = new Set<string>();
  const media = new Map<string, { bytes: Uint8Array; mime: string; sha256?: string }>();
  const urlTtlMs = opts.mediaUrlTtlMs ?? 300_000;
  let base = '';
  let mediaCounter = 0;
  const uploads: FakeGraphUpload[] = [];

  const trace = () => randomBytes(8).toString('base64url');
  const graphError = (status: number, code: number, message: string, extra: Record<string, unknown> = {}): FakeReply => ({
    status,
    json: { error: { message, type: 'OAuthException', code, ...extra, fbtrace_id: trace() } },
  });
  const param = (message: string) => graphError(400, 100, `(#100) ${message}`);
  const digits = (to: string) => to.replace(/\D/g, '');
  /** A recipient as the fake files it: a BSUID as is, a phone number as its digits. */
  const key = (to: string) => (/^[A-Z]{2}\./.test(to) ? to : digits(to));

  function sendMessage(phoneNumberId: string, req: RecordedRequest): FakeReply {
    const b = fields(req.body);
    if (b.messaging_product === undefined) return param('The parameter messaging_product is required.');
    if (b.messaging_product !== 'whatsapp') return param('Param messaging_product must be one of {WHATSAPP} - got "' + String(b.messaging_product) + '".');

    if (b.status !== undefined) {
      if (b.status !== 'read' || typeof b.message_id !== 'string') return param('Invalid parameter');
      const typing = fields(b.typing_indicator).type === 'text';
      reads.push({ phoneNumberId, messageId: b.message_id, typing });
      return { status: 200, json: { success: true } };
    }

    // `to` (a phone number) or `recipient` (a BSUID); `to` wins when both are given.
    const recipient = typeof b.recipient === 'string' ? b.recipient : undefined;
    if (recipient !== undefined && !/^[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$/.test(recipient)) return param('Param recipient must be a business-scoped user id.');
    if (recipient === undefined && (typeof b.to !== 'string' || digits(b.to).length < 8)) return param('The parameter to is required.');
    const address = typeof b.to === 'string' ? b.to : (recipient as string);
    const type = typeof b.type === 'string' ? b.type : 'text';
    let text: string | undefined;
    if (type === 'text') {
      const body = fields(b.text).body;
      if (typeof body !== 'string' || body.length === 0) return param('The parameter text[\'body\'] is required.');
      if (body.length > 4096) return param('Param text[\'body\'] must be at most 4096 characters long.');
      text = body;
    } else if (MEDIA_TYPES.has(type)) {
      const m = fields(b[type]);
      if (typeof m.link !== 'string' && typeof m.id !== 'string') return param(`Param ${type} must have a link or an id.`);
      if (typeof m.id === 'string' && !media.has(m.id)) return param(`Param ${type}['id'] is not a valid media id.`);
      if (typeof m.caption === 'string' && m.caption.length > 1024) return param('Param caption must be at most 1024 characters long.');
    } else if (type === 'template') {
      const t = fields(b.template);
      if (typeof t.name !== 'string' || typeof fields(t.language).code !== 'string') return param('The parameter template[\'name\'] and template[\'language\'] are required.');
    } else {
      return param(`Param type must be one of {TEXT, IMAGE, DOCUMENT, AUDIO, VIDEO, STICKER, TEMPLATE, ...} - got "${type}".`);
    }
    if (type !== 'template' && closed.has(key(address))) {
      return graphError(400, 131047, '(#131047) Re-engagement message', {
        error_data: { messaging_product: 'whatsapp', details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.' },
      });
    }
    const id = 'wamid.' + Buffer.from(`${phoneNumberId}:${randomBytes(12).toString('hex')}`).toString('base64url');
    const replyTo = fields(b.context).message_id;
    sent.push({ id, phoneNumberId, to: address, type, payload: b, text, replyTo: typeof replyTo === 'string' ? replyTo : undefined });
    const contact = typeof b.to === 'string' ? { input: b.to, wa_id: digits(b.to) } : { input: recipient, user_id: recipient };
    return { status: 200, json: { messaging_product: 'whatsapp', contacts: [contact], messages: [{ id }] } };
  }

  /** POST /{phone_number_id}/media: multipart with messaging_product, type and file, checked field by field. */
  function uploadMedia(phoneNumberId: string, req: RecordedRequest): FakeReply {
    if (!phoneIds.includes(phoneNumberId)) return graphError(400, 100, `Unsupported post request. Object with ID '${phoneNumberId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`, { type: 'GraphMethodException', error_subcode: 33 });
    const parts = parseMultipart(req.headers['content-type'], req.rawBody);
    if (!parts) return param('The request must be multipart/form-data.');
    const f = formFields(parts);
    if (f.messaging_product !== 'whatsapp') return param('The parameter messaging_product is required.');
    const file = parts.find((p) => p.name === 'file' && p.fileName !== undefined);
    if (!file) return param('The parameter file is required.');
    if (!f.type) return param('The parameter type is required.');
    if (file.contentType && file.contentType !== f.type) return param(`Param type (${f.type}) does not match the file's type (${file.contentType}).`);
    const mediaId = String(900000000 + ++mediaCounter);
    media.set(mediaId, { bytes: file.bytes, mime: f.type });
    uploads.push({ id: mediaId, phoneNumberId, type: f.type, fileName: file.fileName, bytes: file.bytes });
    return { status: 200, json: { id: mediaId } };
  }

  function handler(req: RecordedRequest): FakeReply {
    const dl = /^\/media-download\/([^/]+)$/.exec(req.path);
    const token = bearer(req);
    if (!token || !tokens.includes(token)) return graphError(401, 190, 'Invalid OAuth access token - Cannot parse access token');
    if (dl) {
      const m = media.get(dl[1]);
      // Like lookaside.fbsbx.com: the signed URL stops working after a few minutes.
      const exp = Number(req.query.get('ext') ?? 0) * 1000;
      if (!m || !(exp > Date.now())) return { status: 404, text: 'Not Found' };
      return { status: 200, bytes: m.bytes, headers: { 'content-type': m.mime } };
    }
    const w = /^\/v\d+\.\d+\/([^/]+)\/phone_numbers$/.exec(req.path);
    if (w && req.method === 'GET') {
      // GET /{waba-id}/phone_numbers: the numbers a WhatsApp Business Account holds.
      const held = wabas[w[1]];
      if (!held) {
        return graphError(400, 100, `Unsupported get request. Object with ID '${w[1]}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`, { type: 'GraphMethodException', error_subcode: 33 });
      }
      return { status: 200, json: { data: held.map((id, i) => ({ id, display_phone_number: `1 555-010-${String(1000 + i)}`, verified_name: 'Fake Business', quality_rating: 'GREEN' })) } };
    }
    const up = /^\/v\d+\.\d+\/([^/]+)\/media$/.exec(req.path);
    if (up && req.method === 'POST') return uploadMedia(up[1], req);
    const m = /^\/v\d+\.\d+\/([^/]+)(?:\/(messages))?$/.exec(req.path);
    if (!m) return graphError(400, 2500, 'Unknown path components');
    const [, id, edge] = m;
    if (edge === 'messages' && req.method === 'POST') {
      if (!phoneIds.includes(id)) {
        return graphError(400, 100, `Unsupported post request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`, { type: 'GraphMethodException', error_subcode: 33 });
      }
      return sendMessage(id, req);
    }
    if (!edge && req.method === 'GET') {
      const item = media.get(id);
      if (!item) {
        return graphError(400, 100, `Unsupported get request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`, { type: 'GraphMethodException', error_subcode: 33 });
      }
      return {
        status: 200,
        json: {
          messaging_product: 'whatsapp', url: `${base}/media-download/${id}?ext=${Math.floor((Date.now() + urlTtlMs) / 1000)}&hash=${randomBytes(6).toString('hex')}`, mime_type: item.mime,
          sha256: item.sha256 ?? createHash('sha256').update(item.bytes).digest('hex'), file_size: item.bytes.length, id,
        },
      };
    }
    return graphError(400, 100, 'Unsupported request');
  }

  function failure(spec: StatusFailSpec): FakeReply {
    const code = spec.code !== undefined ? Number(spec.code) : spec.status === 401 ? 190 : spec.status === 429 ? 130429 : spec.status >= 500 ? 131000 : 100;
    const headers: Record<string, string> = spec.retryAfter !== undefined ? { 'retry-after': String(spec.retryAfter) } : {};
    const msg = spec.message ?? (code === 190 ? 'Error validating access token: Session has expired.' : code === 130429 ? '(#130429) Rate limit hit' : code === 131000 ? 'Something went wrong' : code === 131047 ? '(#131047) Re-engagement message' : '(#100) Invalid parameter');
    const reply = graphError(spec.status, code, msg);
    return { ...reply, headers };
  }

  const openWindow = (to: string): void => void closed.delete(key(to));
  const server = await startFakeServer({ handler, failure, port: opts.port });
  base = server.url;
  return {
    ...server,
    baseUrl: `${server.url}/${FAKE_GRAPH_VERSION}`,
    accessToken: tokens[0],
    phoneNumberId: phoneIds[0],
    sentMessages: (to) => (to === undefined ? [...sent] : sent.filter((m) => key(m.to) === key(to))),
    readReceipts: () => [...reads],
    closeWindow: (to) => void closed.add(key(to)),
    openWindow,
    inboundText(input) {
      const phoneNumberId = input.phoneNumberId ?? phoneIds[0];
      const wamid = 'wamid.' + Buffer.from(`in:${randomBytes(12).toString('hex')}`).toString('base64url');
      const phone = input.from && !input.withholdPhone ? digits(input.from) : undefined;
      const message: Record<string, unknown> = {
        ...(phone ? { from: phone } : {}), ...(input.userId ? { from_user_id: input.userId } : {}), id: wamid, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: input.text },
        ...(input.replyTo ? { context: { from: '15550000000', id: input.replyTo } } : {}),
      };
      const payload = {
        object: 'whatsapp_business_account',
        entry: [{
          id: 'WABA_FAKE',
          changes: [{
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550000000', phone_number_id: phoneNumberId },
              contacts: [{
                profile: { name: input.name ?? 'Test User', ...(input.username ? { username: input.username } : {}) },
                ...(phone ? { wa_id: phone } : {}), ...(input.userId ? { user_id: input.userId } : {}),
              }],
              messages: [message],
            },
          }],
        }],
      };
      if (input.from) openWindow(input.from);
      if (input.userId) openWindow(input.userId);
      return { payload, wamid };
    },
    userIdUpdate(input) {
      return {
        object: 'whatsapp_business_account',
        entry: [{
          id: 'WABA_FAKE',
          changes: [{
            field: 'user_id_update',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550000000', phone_number_id: input.phoneNumberId ?? phoneIds[0] },
              user_id_update: [{ previous_user_id: input.previous, user_id: input.current, ...(input.waId ? { wa_id: digits(input.waId) } : {}), timestamp: String(Math.floor(Date.now() / 1000)) }],
            },
          }],
        }],
      };
    },
    deliverWebhook(url, payload, appSecret) {
      const body = JSON.stringify(payload);
      return postWebhook(url, { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(appSecret, body) }, body);
    },
    addMedia(bytes, mimeType, o = {}) {
      const id = String(900000000 + ++mediaCounter);
      media.set(id, { bytes, mime: mimeType, sha256: o.sha256 });
      return id;
    },
    removeMedia(mediaId) {
      media.delete(mediaId);
    },
    uploads: () => [...uploads],
  };
}
