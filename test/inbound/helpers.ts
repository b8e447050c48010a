/**
 * Shared pieces of the inbound end-to-end tests: one "kit" per provider that provisions a
 * connection + channel through the public API and produces requests signed the way the provider
 * signs them, using the official SDKs (twilio, svix, retell-sdk, jose) rather than re-implemented
 * schemes. Provider APIs the inbound path calls (Resend body fetch, Gmail history) are local fakes.
 */
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, importPKCS8, SignJWT, type JWK } from 'jose';
import Retell from 'retell-sdk';
import { symmetric as retellSymmetric } from 'retell-sdk/lib/webhook_auth';
import { Webhook as SvixWebhook } from 'svix';
import twilio from 'twilio';
import { startFakeTwilio } from '../../fakes/twilio.js';
import { startFakeGmail, type FakeGmail } from '../../fakes/gmail.js';
import { startFakeResend, type FakeResend } from '../../fakes/resend.js';
import type { TestServer } from '../helpers/server.js';
import { vonageKit } from '../providers/vonage/kit.js';

export interface WireRequest {
  url: string;
  method?: string;
  headers: Record<string, string>;
  body: string | Buffer;
}

export interface WireResponse {
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Sends a request with node:http so that any status (413 mid-upload included) is observed
 * instead of a fetch-level socket error. A reset after the server answered still yields its status.
 */
export function send(r: WireRequest): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
    const req = httpRequest(r.url, { method: r.method ?? 'POST', headers: { ...r.headers, 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', (err) => reject(err));
    req.end(body);
  });
}

export async function waitUntil<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A local JWKS endpoint plus an RS256 signer: stands in for Google's OIDC keys. */
export interface GoogleKeys {
  jwksUrl: string;
  sign(claims: Record<string, unknown>, opts?: { iat?: number; otherKey?: boolean }): Promise<string>;
  close(): Promise<void>;
}

export async function startGoogleKeys(): Promise<GoogleKeys> {
  const mk = () => generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const good = mk();
  const other = mk();
  const key = await importPKCS8(good.privateKey, 'RS256', { extractable: true });
  const otherKey = await importPKCS8(other.privateKey, 'RS256');
  const { createPublicKey } = await import('node:crypto');
  const jwk: JWK = { ...(await exportJWK(createPublicKey(good.publicKey))), kid: 'k1', alg: 'RS256', use: 'sig' };
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/certs`;
  void key;
  return {
    jwksUrl: url,
    async sign(claims, opts = {}) {
      const iat = opts.iat ?? Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: 'https://accounts.google.com', email_verified: true, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuedAt(iat)
        .setExpirationTime(iat + 3600)
        .sign(opts.otherKey ? otherKey : key);
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** What every provider kit offers the tests. */
export interface Kit {
  provider: string;
  channelId: string;
  /** Where the provider posts (the channel's webhook_url, or the account URL for per-account kits). */
  url: string;
  /**
   * A valid request for the n-th distinct event (n >= 1). `conv` picks the conversation (default 1).
   * Calling it twice with the same n and conv produces the provider's retry of the same event.
   */
  valid(n: number, conv?: number): Promise<WireRequest>;
  /** Variants that must be refused and change nothing; `undefined` = not applicable to this scheme. */
  badSignature(n: number): Promise<WireRequest>;
  missingSignature(n: number): Promise<WireRequest | undefined>;
  staleSignature(n: number): Promise<WireRequest | undefined>;
  /** Signs an arbitrary body the way the provider would (for malformed-body tests), keeping `contentType`. */
  signRaw(body: Buffer, contentType: string): Promise<WireRequest>;
  /** The JSON-ness of the provider's own bodies (junk for "wrong content type" differs). */
  format: 'json' | 'form';
  close(): Promise<void>;
}

export interface KitContext {
  s: TestServer;
  instanceId: string;
  /** Suffix keeping identities unique when one server hosts several kits of a provider. */
  tag?: string;
}

async function createChannel(s: TestServer, instanceId: string, body: Record<string, unknown>): Promise<{ id: string; webhook_url: string }> {
  const r = await s.api('POST', `/v1/instances/${instanceId}/channels`, body);
  if (r.status !== 201) throw new Error(`channel create failed: ${r.status} ${r.text}`);
  return r.body;
}

async function createConnection(s: TestServer, instanceId: string, body: Record<string, unknown>): Promise<{ id: string; webhook_url: string }> {
  const r = await s.api('POST', `/v1/instances/${instanceId}/connections`, body);
  if (r.status !== 201) throw new Error(`connection create failed: ${r.status} ${r.text}`);
  return r.body;
}

const noop = async () => undefined;

// ---------------------------------------------------------------- telegram
export async function telegramKit({ s, instanceId, tag = '' }: KitContext): Promise<Kit> {
  const secret = 'tg-secret_' + randomBytes(8).toString('hex');
  const ch = await createChannel(s, instanceId, { channel_type: 'telegram', provider: 'telegram', external_identifier: `bot${tag}_${randomBytes(3).toString('hex')}`, webhook_secret: secret });
  const update = (n: number, conv = 1) => JSON.stringify({ update_id: 100000 + n, message: { message_id: n, from: { id: 7000 + conv, is_bot: false, first_name: 'Ada' }, chat: { id: 7000 + conv, type: 'private' }, date: 1714560000 + n, text: `hello ${n}` } });
  const h = (sec?: string) => ({ 'content-type': 'application/json', ...(sec !== undefined ? { 'x-telegram-bot-api-secret-token': sec } : {}) });
  return {
    provider: 'telegram', channelId: ch.id, url: ch.webhook_url, format: 'json',
    valid: async (n, conv) => ({ url: ch.webhook_url, headers: h(secret), body: update(n, conv) }),
    badSignature: async (n) => ({ url: ch.webhook_url, headers: h(secret + 'x'), body: update(n) }),
    missingSignature: async (n) => ({ url: ch.webhook_url, headers: h(), body: update(n) }),
    staleSignature: async () => undefined, // Telegram's secret token carries no timestamp
    signRaw: async (body, ct) => ({ url: ch.webhook_url, headers: { 'content-type': ct, 'x-telegram-bot-api-secret-token': secret }, body }),
    close: noop,
  };
}

// ---------------------------------------------------------------- meta_cloud
export const metaSign = (secret: string, body: string | Buffer) => 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');

export function metaBody(phoneNumberId: string, n: number, conv = 1): string {
  const waId = String(16505550000 + conv);
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: 'WABA1', changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550001111', phone_number_id: phoneNumberId },
      contacts: [{ profile: { name: 'Sheena' }, wa_id: waId }],
      messages: [{ from: waId, id: `wamid.${phoneNumberId}.${n}`, timestamp: String(1714560000 + n), type: 'text', text: { body: `hello ${n}` } }],
    } }] }],
  });
}

export async function metaKit({ s, instanceId, tag = '' }: KitContext, opts: { viaAccount?: boolean } = {}): Promise<Kit & { appSecret: string; connectionId: string; phoneNumberId: string }> {
  const appSecret = 'meta-app-secret-' + randomBytes(6).toString('hex');
  const phoneNumberId = String(100000000000000 + Math.floor(Math.random() * 1e9)) + tag.replace(/\D/g, '');
  const conn = await createConnection(s, instanceId, { provider: 'meta_cloud', secrets: { access_token: 'EAAG-test', app_secret: appSecret } });
  const ch = await createChannel(s, instanceId, { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: `+1555${randomBytes(3).toString('hex')}`, connection_id: conn.id, config: { phone_number_id: phoneNumberId } });
  const url = opts.viaAccount ? conn.webhook_url : ch.webhook_url;
  const signed = (body: string | Buffer, secret = appSecret, ct = 'application/json') => ({ url, headers: { 'content-type': ct, 'x-hub-signature-256': metaSign(secret, body) }, body });
  return {
    provider: 'meta_cloud', channelId: ch.id, url, format: 'json', appSecret, connectionId: conn.id, phoneNumberId,
    valid: async (n, conv) => signed(metaBody(phoneNumberId, n, conv)),
    badSignature: async (n) => signed(metaBody(phoneNumberId, n), appSecret + 'x'),
    missingSignature: async (n) => ({ url, headers: { 'content-type': 'application/json' }, body: metaBody(phoneNumberId, n) }),
    staleSignature: async () => undefined, // X-Hub-Signature-256 carries no timestamp
    signRaw: async (body, ct) => signed(body, appSecret, ct),
    close: noop,
  };
}

// ---------------------------------------------------------------- twilio
export async function twilioKit({ s, instanceId }: KitContext): Promise<Kit> {
  const token = 'twilio-token-' + randomBytes(8).toString('hex');
  const number = `+1415${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
  const accountSid = 'AC' + randomBytes(16).toString('hex');
  // Creating the channel points the number's SMS URL at it (provisioning): a fake Twilio owns it.
  const fake = await startFakeTwilio({ accountSid, authToken: token, phoneNumbers: [number] });
  const conn = await createConnection(s, instanceId, { provider: 'twilio', secrets: { account_sid: accountSid, auth_token: token }, settings: { api_base_url: fake.url } });
  const ch = await createChannel(s, instanceId, { channel_type: 'sms', provider: 'twilio', external_identifier: number, connection_id: conn.id });
  const params = (n: number, conv = 1) => ({ MessageSid: `SM${String(n).padStart(32, '0')}`, AccountSid: 'AC1', From: `+1650555${String(conv).padStart(4, '0')}`, To: number, Body: `hello ${n}`, NumMedia: '0', NumSegments: '1', SmsStatus: 'received' });
  const form = (p: Record<string, string>) => new URLSearchParams(p).toString();
  const FORM = 'application/x-www-form-urlencoded';
  const url = ch.webhook_url;
  return {
    provider: 'twilio', channelId: ch.id, url, format: 'form',
    valid: async (n, conv) => ({ url, headers: { 'content-type': FORM, 'x-twilio-signature': twilio.getExpectedTwilioSignature(token, url, params(n, conv)) }, body: form(params(n, conv)) }),
    badSignature: async (n) => ({ url, headers: { 'content-type': FORM, 'x-twilio-signature': twilio.getExpectedTwilioSignature(token + 'x', url, params(n)) }, body: form(params(n)) }),
    missingSignature: async (n) => ({ url, headers: { 'content-type': FORM }, body: form(params(n)) }),
    staleSignature: async () => undefined, // X-Twilio-Signature carries no timestamp
    // Raw junk is signed as Twilio would sign a form post with no parseable fields, or a JSON body (bodySHA256).
    async signRaw(body, ct) {
      const fields: Record<string, string> = {};
      if (!ct.includes('json')) for (const [k, v] of new URLSearchParams(body.toString('utf8'))) fields[k] ??= v;
      return { url, headers: { 'content-type': ct, 'x-twilio-signature': twilio.getExpectedTwilioSignature(token, url, fields) }, body };
    },
    close: () => fake.close(),
  };
}

// ---------------------------------------------------------------- resend
export async function resendKit({ s, instanceId, tag = '' }: KitContext, opts: { viaAccount?: boolean; fake?: FakeResend } = {}): Promise<Kit & { fake: FakeResend; address: string; connectionId: string; signEvent(event: unknown): WireRequest }> {
  const fake = opts.fake ?? (await startFakeResend());
  const whsec = 'whsec_' + randomBytes(24).toString('base64');
  const address = `support${tag}-${randomBytes(3).toString('hex')}@sb.test`;
  const conn = await createConnection(s, instanceId, { provider: 'resend', secrets: { api_key: fake.apiKey, webhook_secret: whsec }, settings: { api_base_url: fake.url } });
  const ch = await createChannel(s, instanceId, { channel_type: 'email', provider: 'resend', external_identifier: address, connection_id: conn.id });
  const url = opts.viaAccount ? conn.webhook_url : ch.webhook_url;
  // One stored email + svix id per (n, conv): a retry re-sends the same svix-id (re-signed, as Svix does).
  const events = new Map<string, { svixId: string; body: string }>();
  const eventFor = (n: number, conv = 1) => {
    const key = `${n}/${conv}`;
    let e = events.get(key);
    if (!e) {
      const { event } = fake.receiveEmail({ from: `Customer ${conv} <c${conv}@example.com>`, to: [address], subject: `Question ${n}`, text: `hello ${n}`, message_id: `<m${n}.${tag}@example.com>`, headers: conv > 1 ? { references: `<root${conv}@example.com>` } : { references: `<root1${tag}@example.com>` } });
      e = { svixId: `msg_${randomBytes(12).toString('hex')}`, body: JSON.stringify(event) };
      events.set(key, e);
    }
    return e;
  };
  const sign = (id: string, body: string | Buffer, at = new Date(), secret = whsec, ct = 'application/json'): WireRequest => ({
    url,
    headers: { 'content-type': ct, 'svix-id': id, 'svix-timestamp': String(Math.floor(at.getTime() / 1000)), 'svix-signature': new SvixWebhook(secret).sign(id, at, body) },
    body,
  });
  return {
    provider: 'resend', channelId: ch.id, url, format: 'json', fake, address, connectionId: conn.id,
    signEvent: (event) => sign(`msg_${randomBytes(12).toString('hex')}`, JSON.stringify(event)),
    valid: async (n, conv) => {
      const e = eventFor(n, conv);
      return sign(e.svixId, e.body);
    },
    badSignature: async (n) => sign(eventFor(n).svixId, eventFor(n).body, new Date(), 'whsec_' + randomBytes(24).toString('base64')),
    missingSignature: async (n) => ({ url, headers: { 'content-type': 'application/json', 'svix-id': eventFor(n).svixId }, body: eventFor(n).body }),
    staleSignature: async (n) => sign(eventFor(n).svixId, eventFor(n).body, new Date(Date.now() - 10 * 60_000)),
    signRaw: async (body, ct) => sign(`msg_${randomBytes(12).toString('hex')}`, body, new Date(), whsec, ct),
    close: async () => {
      if (!opts.fake) await fake.close();
    },
  };
}

// ---------------------------------------------------------------- retell
export function retellBody(agentId: string, n: number, conv = 1): string {
  // Events of one call share its conversation; n picks the event (call_started, call_ended, ...).
  const kinds = ['call_started', 'call_ended', 'call_analyzed'];
  const event = kinds[(n - 1) % kinds.length];
  const callId = `call_${conv}_${Math.ceil(n / kinds.length)}`;
  return JSON.stringify({ event, call: { call_type: 'phone_call', call_id: callId, agent_id: agentId, call_status: event === 'call_started' ? 'ongoing' : 'ended', from_number: '+12137771234', to_number: '+12137771235', direction: 'inbound', start_timestamp: 1714608475945 } });
}

export async function retellKit({ s, instanceId, tag = '' }: KitContext, opts: { viaAccount?: boolean } = {}): Promise<Kit & { agentId: string; connectionId: string }> {
  const apiKey = 'key_' + randomBytes(12).toString('hex');
  const agentId = `agent_${tag}${randomBytes(6).toString('hex')}`;
  const conn = await createConnection(s, instanceId, { provider: 'retell', secrets: { api_key: apiKey } });
  const ch = await createChannel(s, instanceId, { channel_type: 'voice', provider: 'retell', external_identifier: `+1213${randomBytes(3).toString('hex')}`, connection_id: conn.id, config: { agent_id: agentId } });
  const url = opts.viaAccount ? conn.webhook_url : ch.webhook_url;
  const h = (sig?: string, ct = 'application/json') => ({ 'content-type': ct, ...(sig ? { 'x-retell-signature': sig } : {}) });
  return {
    provider: 'retell', channelId: ch.id, url, format: 'json', agentId, connectionId: conn.id,
    valid: async (n, conv) => {
      const body = retellBody(agentId, n, conv);
      return { url, headers: h(Retell.sign(body, apiKey)), body };
    },
    badSignature: async (n) => ({ url, headers: h(Retell.sign(retellBody(agentId, n), apiKey + 'x')), body: retellBody(agentId, n) }),
    missingSignature: async (n) => ({ url, headers: h(), body: retellBody(agentId, n) }),
    staleSignature: async (n) => ({ url, headers: h(retellSymmetric.sign(retellBody(agentId, n), apiKey, Date.now() - 10 * 60_000)), body: retellBody(agentId, n) }),
    signRaw: async (body, ct) => ({ url, headers: h(Retell.sign(body.toString('utf8'), apiKey), ct), body }),
    close: noop,
  };
}

// ---------------------------------------------------------------- gmail
export async function gmailKit({ s, instanceId, tag = '' }: KitContext, opts: { viaAccount?: boolean; google?: GoogleKeys } = {}): Promise<Kit & { fake: FakeGmail; address: string; connectionId: string }> {
  const address = `owner${tag}-${randomBytes(3).toString('hex')}@gmail.test`;
  const fake = await startFakeGmail({ emailAddress: address });
  const google = opts.google ?? (await startGoogleKeys());
  const audience = `https://sb.example/push/${randomBytes(4).toString('hex')}`;
  const sa = 'gmail-push@proj.iam.gserviceaccount.com';
  const conn = await createConnection(s, instanceId, {
    provider: 'gmail',
    secrets: { client_id: fake.credentials.clientId, client_secret: fake.credentials.clientSecret, refresh_token: fake.credentials.refreshToken },
    settings: { api_base_url: fake.url, oauth_token_url: fake.tokenUrl, jwks_url: google.jwksUrl, push_audience: audience, push_service_account: sa },
  });
  const ch = await createChannel(s, instanceId, { channel_type: 'email', provider: 'gmail', external_identifier: address, connection_id: conn.id });
  const url = opts.viaAccount ? conn.webhook_url : ch.webhook_url;
  const added = new Map<string, { historyId: string }>();
  const threads = new Map<number, string>();
  const push = (n: number, conv = 1) => {
    const key = `${n}/${conv}`;
    let m = added.get(key);
    if (!m) {
      const thread = threads.get(conv);
      const r = fake.addMessage({ rfc2822: `From: Customer ${conv} <c${conv}@example.com>\r\nTo: ${address}\r\nSubject: Thread ${conv}\r\nMessage-ID: <g${n}.${conv}.${tag}@example.com>\r\n\r\nhello ${n}`, ...(thread ? { threadId: thread } : {}) });
      if (!thread) threads.set(conv, r.threadId);
      m = { historyId: r.historyId };
      added.set(key, m);
    }
    const data = Buffer.from(JSON.stringify({ emailAddress: address, historyId: Number(m.historyId) })).toString('base64');
    return JSON.stringify({ message: { data, messageId: `ps-${n}-${conv}`, publishTime: new Date().toISOString() }, subscription: 'projects/p/subscriptions/s' });
  };
  const withToken = async (body: string | Buffer, claims: Record<string, unknown> = {}, o: { iat?: number; otherKey?: boolean } = {}, ct = 'application/json') => ({
    url,
    headers: { 'content-type': ct, authorization: `Bearer ${await google.sign({ aud: audience, email: sa, ...claims }, o)}` },
    body,
  });
  return {
    provider: 'gmail', channelId: ch.id, url, format: 'json', fake, address, connectionId: conn.id,
    valid: async (n, conv) => withToken(push(n, conv)),
    badSignature: async (n) => withToken(push(n), {}, { otherKey: true }),
    missingSignature: async (n) => ({ url, headers: { 'content-type': 'application/json' }, body: push(n) }),
    staleSignature: async (n) => withToken(push(n), {}, { iat: Math.floor(Date.now() / 1000) - 7200 }),
    signRaw: async (body, ct) => withToken(body, {}, {}, ct),
    close: async () => {
      await fake.close();
      if (!opts.google) await google.close();
    },
  };
}

export const KITS: Record<string, (c: KitContext) => Promise<Kit>> = {
  telegram: telegramKit,
  meta_cloud: (c) => metaKit(c),
  twilio: twilioKit,
  resend: (c) => resendKit(c),
  retell: (c) => retellKit(c),
  gmail: (c) => gmailKit(c),
  vonage: (c) => vonageKit(c),
};

/** Counts of the rows the inbound pipeline writes for a channel, straight from the store. */
export async function channelCounts(s: TestServer, channelId: string): Promise<{ events: number; messages: number; jobs: number; conversations: number }> {
  const db = s.services.store.db;
  const n = async (table: 'messages' | 'conversations') => Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('channel_id', '=', channelId).executeTakeFirstOrThrow()).n);
  // The provider's events: a conversation's own lifecycle events (conversation.opened when the
  // first message opens it) are left out.
  const ids = (await db.selectFrom('events').select('id').where('channel_id', '=', channelId).where('type', 'not like', 'conversation.%').execute()).map((r) => r.id);
  const events = ids.length;
  const jobs = ids.length ? Number((await db.selectFrom('jobs').select((eb) => eb.fn.countAll<number>().as('n')).where('ref_id', 'in', ids).executeTakeFirstOrThrow()).n) : 0;
  return { events, messages: await n('messages'), jobs, conversations: await n('conversations') };
}

/** Creates an instance pointing at `agentUrl`; returns its id and signing secret. */
export async function createInstance(s: TestServer, agentUrl: string | null, name = 'inbound test'): Promise<{ id: string; signing_secret: string }> {
  const r = await s.api('POST', '/v1/instances', { name, agent_url: agentUrl });
  if (r.status !== 201) throw new Error(`instance create failed: ${r.status} ${r.text}`);
  return r.body;
}

export const PRIVATE_OK = { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' };
