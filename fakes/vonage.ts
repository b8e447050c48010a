/**
 * A fake Vonage Messages API on loopback: `POST /v1/messages` with HTTP Basic (api_key:api_secret;
 * missing or wrong -> 401), a JSON body checked as Vonage documents it (message_type, channel
 * sms|whatsapp, `to`/`from` as E.164 digits without '+', text length per channel, media only on
 * WhatsApp, client_ref <= 100, webhook_url a URL), 202 `{message_uuid}`; errors are RFC 7807
 * `{type, title, detail, instance}`. WhatsApp numbers outside the customer care window get
 * Vonage's 1340 refusal unless the message is a template. It also signs webhooks the way Vonage
 * does (JWT HS256 with the signature secret, `payload_hash` = hex SHA-256 of the body).
 * Inbound media lives on its media server path `GET /v3/media/{uuid}` as Vonage serves it: without
 * credentials (standard security, the URL is the capability), or — for media added with
 * `secure: true` ("Secure Inbound Media") — only with `Authorization: Bearer <JWT>` signed RS256
 * by the application's private key (`applicationPrivateKey`) with its `application_id`, else 401.
 *
 * Example:
 *   const vg = await startFakeVonage();
 *   const status = await vg.deliverWebhook(channel.webhook_url, vg.credentials.signatureSecret, vg.inboundText({ from: '447700900001', to: '447700900000', text: 'hi' }));
 */
import { createHash, createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { fields, startFakeServer } from './fake-server.js';
import type { FakeReply, FakeServer, RecordedRequest, StatusFailSpec } from './fake-server.js';
import { postWebhook } from './webhook-delivery.js';

export const FAKE_VONAGE_CREDENTIALS = {
  apiKey: 'abcd1234',
  apiSecret: 'FakeVonageSecret1',
  signatureSecret: 'FakeVonageSignatureSecretForSwitchboardTests',
  applicationId: 'aaaaaaaa-bbbb-cccc-dddd-0123456789ab',
};

export interface FakeVonageOptions {
  credentials?: typeof FAKE_VONAGE_CREDENTIALS;
  /** Requests per second before 429 (Vonage's default is 30 per API key); unlimited when omitted. */
  rateLimitPerSecond?: number;
  port?: number;
}

export interface FakeVonageMessage {
  message_uuid: string;
  channel: 'sms' | 'whatsapp';
  message_type: string;
  to: string;
  from: string;
  text?: string;
  client_ref?: string;
  webhook_url?: string;
  body: Record<string, unknown>;
}

export interface FakeVonage extends FakeServer {
  credentials: typeof FAKE_VONAGE_CREDENTIALS;
  /** Messages accepted, oldest first. */
  sentMessages(to?: string): FakeVonageMessage[];
  /** WhatsApp free-form messages to this number are refused (1340) until reopened. */
  closeWindow(to: string): void;
  openWindow(to: string): void;
  /** An inbound text webhook body, as the Messages API posts it. */
  inboundText(p: { from: string; to: string; text: string; channel?: 'sms' | 'whatsapp'; messageUuid?: string; name?: string }): Record<string, unknown>;
  /** A message status webhook body. */
  statusEvent(p: { messageUuid: string; to: string; from: string; status: string; channel?: 'sms' | 'whatsapp'; error?: Record<string, unknown> }): Record<string, unknown>;
  /** The `Authorization: Bearer <JWT>` header value Vonage would sign this body with. */
  signature(body: string | Buffer, secret: string, claims?: { iat?: number; api_key?: string; payload_hash?: string }): Promise<string>;
  /** POSTs a webhook body signed like Vonage; returns the receiver's status. */
  deliverWebhook(url: string, secret: string, payload: Record<string, unknown>): Promise<number>;
  /** The Vonage application's private key (PKCS#8 PEM) that signs media requests under Secure Inbound Media. */
  applicationPrivateKey: string;
  /** Stores inbound media on the media server; returns its URL. `secure`: only with an application JWT. */
  addMedia(bytes: Uint8Array, contentType: string, opts?: { secure?: boolean }): string;
  /** Deletes media (as after Vonage's 48 hours): its URL answers 404. */
  removeMedia(url: string): void;
  /** An inbound media message webhook body (image, audio, video or file). */
  inboundMedia(p: { from: string; to: string; type: 'image' | 'audio' | 'video' | 'file'; url: string; caption?: string; name?: string; channel?: 'whatsapp' | 'mms'; messageUuid?: string }): Record<string, unknown>;
}

const DIGITS = /^[1-9]\d{6,14}$/;
const MEDIA = new Set(['image', 'audio', 'video', 'file']);
const TEXT_LIMIT: Record<string, number> = { sms: 1000, whatsapp: 4096 };
const ERRORS = 'https://developer.vonage.com/api-errors';

function problem(status: number, type: string, title: string, detail: string, headers?: Record<string, string>): FakeReply {
  return { status, headers: { 'content-type': 'application/problem+json', ...headers }, json: { type: `${ERRORS}${type}`, title, detail, instance: randomUUID() } };
}

export async function startFakeVonage(opts: FakeVonageOptions = {}): Promise<FakeVonage> {
  const credentials = opts.credentials ?? FAKE_VONAGE_CREDENTIALS;
  const sent: FakeVonageMessage[] = [];
  const closed = new Set<string>();
  let hits: number[] = [];
  const app = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const appPublicKey = createPublicKey(app.publicKey);
  const media = new Map<string, { bytes: Uint8Array; contentType: string; secure: boolean }>();

  async function mediaServer(req: RecordedRequest, id: string): Promise<FakeReply> {
    const m = media.get(id);
    if (!m) return problem(404, '#not-found', 'Not Found', 'The media file does not exist (or expired).');
    if (m.secure) {
      const auth = req.headers.authorization;
      const jwt = typeof auth === 'string' ? /^Bearer\s+(\S+)$/i.exec(auth)?.[1] : undefined;
      if (!jwt) return problem(401, '#unauthorized', 'Unauthorized', 'Secure inbound media needs a JWT signed with the application key.');
      try {
        const { payload } = await jwtVerify(jwt, appPublicKey, { algorithms: ['RS256'], requiredClaims: ['iat', 'jti', 'exp'] });
        if (payload.application_id !== credentials.applicationId) throw new Error('application_id');
      } catch {
        return problem(401, '#unauthorized', 'Unauthorized', 'The JWT is not valid for this application.');
      }
    }
    return { status: 200, bytes: m.bytes, headers: { 'content-type': m.contentType } };
  }

  function invalid(detail: string): FakeReply {
    return problem(422, '/messages#1150', 'Invalid params', detail);
  }

  function send(req: RecordedRequest): FakeReply {
    if (!String(req.headers['content-type'] ?? '').includes('application/json') || req.body === undefined) return invalid('The request body must be JSON.');
    const b = fields(req.body);
    const channel = b.channel;
    if (channel !== 'sms' && channel !== 'whatsapp') return invalid('`channel` must be one of sms, whatsapp (this fake serves those two).');
    for (const f of ['to', 'from']) {
      if (typeof b[f] !== 'string' || !DIGITS.test(b[f] as string)) return invalid(`\`${f}\` must be an E.164 number without a leading + or 00.`);
    }
    const type = b.message_type;
    if (typeof type !== 'string') return invalid('`message_type` is required.');
    if (b.client_ref !== undefined && (typeof b.client_ref !== 'string' || b.client_ref.length > 100)) return invalid('`client_ref` must be a string of at most 100 characters.');
    if (b.webhook_url !== undefined && (typeof b.webhook_url !== 'string' || !/^https?:\/\//.test(b.webhook_url))) return invalid('`webhook_url` must be a URL.');
    if (b.context !== undefined && (channel !== 'whatsapp' || typeof fields(b.context).message_uuid !== 'string')) return invalid('`context.message_uuid` is a WhatsApp reply field.');
    if (type === 'text') {
      if (typeof b.text !== 'string' || b.text.length === 0) return invalid('`text` is required for message_type text.');
      if (b.text.length > TEXT_LIMIT[channel]) return invalid(`\`text\` is longer than ${TEXT_LIMIT[channel]} characters.`);
    } else if (MEDIA.has(type)) {
      if (channel !== 'whatsapp') return invalid(`message_type ${type} is not supported on channel ${channel}.`);
      const m = fields(b[type]);
      if (typeof m.url !== 'string' || !/^https?:\/\//.test(m.url)) return invalid(`\`${type}.url\` must be a URL.`);
      if (type === 'audio' && m.caption !== undefined) return invalid('`audio` takes no caption.');
    } else if (type === 'custom') {
      if (channel !== 'whatsapp' || typeof fields(b.custom).type !== 'string') return invalid('`custom` needs a WhatsApp message object with a type.');
    } else {
      return invalid(`message_type ${type} is not supported by this fake.`);
    }
    const template = type === 'custom' && fields(b.custom).type === 'template';
    if (channel === 'whatsapp' && !template && closed.has(b.to as string)) {
      return problem(422, '/messages-olympus#1340', 'Outside the allowed window', 'The user has not responded to you in the last 24 hours: only template messages can be sent.');
    }
    const msg: FakeVonageMessage = {
      message_uuid: randomUUID(),
      channel,
      message_type: type,
      to: b.to as string,
      from: b.from as string,
      ...(typeof b.text === 'string' ? { text: b.text } : {}),
      ...(typeof b.client_ref === 'string' ? { client_ref: b.client_ref } : {}),
      ...(typeof b.webhook_url === 'string' ? { webhook_url: b.webhook_url } : {}),
      body: b,
    };
    sent.push(msg);
    return { status: 202, json: { message_uuid: msg.message_uuid } };
  }

  function handler(req: RecordedRequest): FakeReply | Promise<FakeReply> {
    const mediaPath = /^\/v3\/media\/([^/]+)$/.exec(req.path);
    if (mediaPath && req.method === 'GET') return mediaServer(req, mediaPath[1]);
    if (req.path !== '/v1/messages' || req.method !== 'POST') return problem(404, '#not-found', 'Not Found', `${req.method} ${req.path} is not a Messages API endpoint.`);
    const auth = req.headers.authorization;
    const m = typeof auth === 'string' ? /^Basic\s+(.+)$/i.exec(auth) : null;
    const [key, secret] = m ? Buffer.from(m[1], 'base64').toString('utf8').split(':') : [];
    if (key !== credentials.apiKey || secret !== credentials.apiSecret) return problem(401, '#unauthorized', 'Unauthorized', 'You did not provide correct credentials.');
    if (opts.rateLimitPerSecond !== undefined) {
      const now = Date.now();
      hits = hits.filter((t) => now - t < 1000);
      if (hits.length >= opts.rateLimitPerSecond) return problem(429, '#throttled', 'Rate Limit Hit', 'Please wait, then retry your request', { 'retry-after': '1' });
      hits.push(now);
    }
    return send(req);
  }

  function failure(spec: StatusFailSpec): FakeReply {
    const headers = spec.status === 429 && spec.retryAfter !== undefined ? { 'retry-after': String(spec.retryAfter) } : undefined;
    const title = spec.status === 401 ? 'Unauthorized' : spec.status === 429 ? 'Rate Limit Hit' : spec.status >= 500 ? 'Internal Error' : 'Invalid params';
    const type = spec.code !== undefined ? `/messages#${spec.code}` : spec.status === 401 ? '#unauthorized' : spec.status === 429 ? '#throttled' : '#error';
    return problem(spec.status, type, title, spec.message ?? title, headers);
  }

  const server = await startFakeServer({ handler, failure, port: opts.port });

  async function signature(body: string | Buffer, secret: string, claims: { iat?: number; api_key?: string; payload_hash?: string } = {}): Promise<string> {
    const jwt = await new SignJWT({
      application_id: credentials.applicationId,
      api_key: claims.api_key ?? credentials.apiKey,
      payload_hash: claims.payload_hash ?? createHash('sha256').update(body).digest('hex'),
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(claims.iat ?? Math.floor(Date.now() / 1000))
      .setJti(randomUUID())
      .setIssuer('Vonage')
      .sign(new TextEncoder().encode(secret));
    return `Bearer ${jwt}`;
  }

  return {
    ...server,
    credentials,
    sentMessages: (to) => sent.filter((m) => to === undefined || m.to === to),
    closeWindow: (to) => void closed.add(to),
    openWindow: (to) => void closed.delete(to),
    inboundText: (p) => ({
      channel: p.channel ?? 'sms',
      message_uuid: p.messageUuid ?? randomUUID(),
      to: p.to,
      from: p.from,
      timestamp: new Date().toISOString(),
      message_type: 'text',
      text: p.text,
      ...(p.name ? { profile: { name: p.name } } : {}),
      ...((p.channel ?? 'sms') === 'sms' ? { sms: { num_messages: '1' } } : {}),
    }),
    statusEvent: (p) => ({
      message_uuid: p.messageUuid,
      to: p.to,
      from: p.from,
      timestamp: new Date().toISOString(),
      status: p.status,
      channel: p.channel ?? 'sms',
      ...(p.error ? { error: p.error } : {}),
    }),
    signature,
    applicationPrivateKey: app.privateKey,
    addMedia(bytes, contentType, o = {}) {
      const id = randomUUID();
      media.set(id, { bytes, contentType, secure: !!o.secure });
      return `${server.url}/v3/media/${id}`;
    },
    removeMedia(url) {
      media.delete(url.split('/').pop() ?? '');
    },
    inboundMedia: (p) => ({
      channel: p.channel ?? 'whatsapp',
      message_uuid: p.messageUuid ?? randomUUID(),
      to: p.to,
      from: p.from,
      timestamp: new Date().toISOString(),
      message_type: p.type,
      [p.type]: { url: p.url, ...(p.caption ? { caption: p.caption } : {}), ...(p.name ? { name: p.name } : {}) },
    }),
    async deliverWebhook(url, secret, payload) {
      const body = JSON.stringify(payload);
      return postWebhook(url, { 'content-type': 'application/json', authorization: await signature(body, secret) }, body);
    },
  };
}
