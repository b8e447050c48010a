/**
 * Cross-tenant adversarial scenarios (issue 10, "Done when"). Two tenants — instances A and B,
 * each driven only by an API key scoped to it — share ONE platform credential per provider. For
 * Meta, Telegram, Twilio SMS, Twilio WhatsApp, Resend, Gmail and Retell (one scenario helper
 * each, one runner for all):
 *   1. B's channel is set up legitimately on the shared credential;
 *   2. A claims B's routing identity in every spelling (`@b_bot`, case, spaces, a missing `+`,
 *      `whatsapp:`/`tel:`, display names, config keys) on create and on PATCH: 409, nothing stored;
 *   3. the provider's webhooks for B's identity, signed as the provider signs (twilio, svix,
 *      retell-sdk, Google-style JWTs, Meta's HMAC, Telegram's secret token), at B's channel URL
 *      and the credential's account URL, reach B and never A (A's events, conversations, event
 *      stream, and B's ids under A's key);
 *   4. whatever A sends on its own channel never uses B's identity (what the provider fake
 *      received: from number, bot token, from address, phone number id);
 *   5. an account-level event naming no channel is not guessed onto a channel of the credential.
 * Every scenario runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Retell from 'retell-sdk';
import { Webhook as SvixWebhook } from 'svix';
import twilio from 'twilio';
import { startFakeGraph } from '../../fakes/graph.js';
import { startFakeGmail } from '../../fakes/gmail.js';
import { startFakeResend } from '../../fakes/resend.js';
import { startFakeTelegram, FAKE_TELEGRAM_TOKEN } from '../../fakes/telegram.js';
import { startFakeTwilio } from '../../fakes/twilio.js';
import { canonicalEmail, canonicalPhone } from '../../src/adapters/shared/identity.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';
import { metaBody, metaSign, retellBody, send, startGoogleKeys, waitUntil, type WireRequest } from '../inbound/helpers.js';

type Body = Record<string, unknown>;
interface Channel { id: string; webhook_url: string; status: string; error_message: string | null; external_identifier: string; config: Body }
interface Tenant { id: string; key: string }
/** What a scenario's helpers get once the channels exist. */
interface Ctx { accountUrl: string; chA: Channel; chB: Channel }
/** One send the provider fake received: the sender identity it used, and to whom. */
interface Sent { from: string; to: string }

interface Scenario {
  name: string;
  credential: { provider: string; secrets: Record<string, string>; settings: Body };
  /** B's legitimate channel and A's own, both on the shared credential (credential_id is added). */
  b: Body;
  a: Body;
  /** A's channel status after provisioning: 'pending', or 'error' where a proof refuses it. */
  aStatus: 'pending' | 'error';
  /**
   * Create bodies naming B's identity in other spellings, each laid over A's channel type and
   * provider with a fresh external identifier (`spare`) and empty config, so that a 409 can only
   * come from B's identity.
   */
  claims: Body[];
  /** An external identifier nobody holds (a new one each call). */
  spare(): string;
  /** PATCH bodies for A's channel naming B's identity. */
  patches: Body[];
  /** Text (or id) that appears in B's events and must never appear on A's side. */
  bMarker: string;
  /** Provider requests for B's identity (distinct events), signed as the provider signs. */
  forB(c: Ctx): Promise<WireRequest[]>;
  /**
   * Account-URL requests naming no identity (where the provider's events can: Meta's BSUID
   * updates, Retell calls without an agent; Telegram updates never name the bot, and the account
   * URL cannot verify them), or one nobody holds. Distinct events on each call.
   */
  unrouted(accountUrl: string): Promise<WireRequest[]>;
  /** A request opening a conversation on A's own channel (from the provider, or forged by A where A holds the secret). */
  forA?(c: Ctx): Promise<WireRequest>;
  /** Sends the provider fake received so far; absent where the provider has no outbound API. */
  sent?(): Sent[];
  /** Canonical form of a sender identity, to compare with B's. */
  canonical(v: string): string;
  /** Whether A's send is refused before reaching the provider (the credential's only identity is B's). */
  aSendRefused?: boolean;
  /** After A disabled and deleted its channel: B's registration at the provider is untouched. */
  intact?(c: Ctx): void;
  close(): Promise<void>;
}

const FORM = 'application/x-www-form-urlencoded';
const uniq = () => randomBytes(3).toString('hex');
const phone = (prefix: string) => `+1${prefix}${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;

// ------------------------------------------------------------------------------------ scenarios

async function metaScenario(): Promise<Scenario> {
  const idA = '300100200300401';
  const idB = '300100200300402';
  const graph = await startFakeGraph({ phoneNumberIds: [idA, idB], wabas: { WABA_SHARED: [idA, idB] } });
  const appSecret = 'shared-app-secret-' + uniq();
  const numberB = '+15550301002';
  const signed = (url: string, body: string): WireRequest => ({ url, headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSign(appSecret, body) }, body });
  // Now, so the 24-hour window is open for the answers.
  const marked = (id: string, n: number, text: string) => metaBody(id, n).replace(`hello ${n}`, text).replace(`"timestamp":"${1714560000 + n}"`, `"timestamp":"${Math.floor(Date.now() / 1000)}"`);
  return {
    name: 'meta_cloud',
    credential: { provider: 'meta_cloud', secrets: { access_token: graph.accessToken, app_secret: appSecret }, settings: { api_base_url: graph.baseUrl, waba_id: 'WABA_SHARED' } },
    b: { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: numberB, config: { phone_number_id: idB } },
    a: { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: '+15550301001', config: { phone_number_id: idA } },
    aStatus: 'pending',
    spare: () => phone('555'),
    claims: [
      { config: { phone_number_id: ` ${idB} ` } }, { config: { phone_number_id: `+${idB}` } },
      { external_identifier: idB, config: {} },
      { external_identifier: 'whatsapp:+1 555 030 1002', config: { phone_number_id: '300100200300499' } },
      { external_identifier: '15550301002', config: { phone_number_id: '300100200300499' } },
      { external_identifier: 'tel:+1 (555) 030-1002', config: { phone_number_id: '300100200300499' } },
    ],
    patches: [{ config: { phone_number_id: idB } }, { config: { phone_number_id: `${idB} ` } }, { external_identifier: '1-555-030-1002' }],
    bMarker: 'secret-for-b-meta',
    forB: async (c) => [signed(c.chB.webhook_url, marked(idB, 1, 'secret-for-b-meta 1')), signed(c.accountUrl, marked(idB, 2, 'secret-for-b-meta 2'))],
    unrouted: async (url) => {
      // A BSUID update without metadata names no number at all.
      const none = graph.userIdUpdate({ previous: `US.${uniq()}`, current: `US.${uniq()}` }) as { entry: { changes: { value: { metadata?: unknown } }[] }[] };
      delete none.entry[0].changes[0].value.metadata;
      return [signed(url, metaBody('399999999999999', 3 + Math.floor(Math.random() * 1e6))), signed(url, JSON.stringify(none))];
    },
    forA: async (c) => signed(c.accountUrl, marked(idA, 4, 'hello-from-a-meta')),
    sent: () => graph.sentMessages().map((m) => ({ from: m.phoneNumberId, to: m.to })),
    canonical: (v) => v.replace(/\D/g, ''),
    close: () => graph.close(),
  };
}

async function telegramScenario(): Promise<Scenario> {
  // The shared credential is one bot token, and getMe names its bot: switchboard_test_bot (B's).
  const tg = await startFakeTelegram({ tokens: [FAKE_TELEGRAM_TOKEN] });
  const secretB = 'tg-b-' + uniq();
  const secretA = 'tg-a-' + uniq();
  const customerOfB = 880001;
  const update = (n: number, text: string, chat = customerOfB) => JSON.stringify({ update_id: 990000 + n, message: { message_id: n, from: { id: chat, is_bot: false, first_name: 'Bea' }, chat: { id: chat, type: 'private' }, date: 1714560000 + n, text } });
  const tgReq = (url: string, secret: string | undefined, body: string): WireRequest => ({ url, headers: { 'content-type': 'application/json', ...(secret ? { 'x-telegram-bot-api-secret-token': secret } : {}) }, body });
  return {
    name: 'telegram',
    credential: { provider: 'telegram', secrets: { bot_token: FAKE_TELEGRAM_TOKEN }, settings: { api_base_url: tg.url } },
    b: { channel_type: 'telegram', provider: 'telegram', external_identifier: 'switchboard_test_bot', webhook_secret: secretB },
    // A names a bot of its own: getMe says the token is B's bot, so the proof puts it in error.
    a: { channel_type: 'telegram', provider: 'telegram', external_identifier: 'a_tenant_bot', webhook_secret: secretA },
    aStatus: 'error',
    spare: () => `spare_${uniq()}_bot`,
    claims: [
      { external_identifier: '@switchboard_test_bot' }, { external_identifier: 'switchboard_test_bot ' }, { external_identifier: 'Switchboard_Test_Bot' },
      { external_identifier: ' @SWITCHBOARD_TEST_BOT' }, { external_identifier: 't.me/switchboard_test_bot' }, { external_identifier: 'https://t.me/switchboard_test_bot' },
    ],
    patches: [{ external_identifier: '@switchboard_test_bot' }, { external_identifier: 'SWITCHBOARD_TEST_BOT ' }],
    bMarker: 'secret-for-b-telegram',
    forB: async (c) => [tgReq(c.chB.webhook_url, secretB, update(1, 'secret-for-b-telegram 1')), tgReq(c.chB.webhook_url, secretB, update(2, 'secret-for-b-telegram 2'))],
    // Telegram updates do not name the bot: at the account URL nothing can say whose it is.
    unrouted: async (url) => [tgReq(url, secretB, update(3, 'unrouted')), tgReq(url, undefined, update(4, 'unrouted'))],
    // A holds its own channel's secret, so it can open a conversation with B's customer's chat id.
    forA: async (c) => tgReq(c.chA.webhook_url, secretA, update(5, 'hello-from-a-telegram')),
    // The bot a send speaks as is the token's: every token here is B's bot.
    sent: () => tg.sentMessages().map((m) => ({ from: m.token === FAKE_TELEGRAM_TOKEN ? 'switchboard_test_bot' : m.token, to: m.chat_id })),
    canonical: (v) => v.replace(/^@/, '').toLowerCase(),
    aSendRefused: true,
    // The shared bot still points at B's channel: A's provisioning never re-pointed it, and A's
    // disable/delete did not remove it.
    intact: (c) => assert.equal(tg.webhook()?.url, c.chB.webhook_url),
    close: () => tg.close(),
  };
}

async function twilioScenario(kind: 'sms' | 'whatsapp'): Promise<Scenario> {
  const numberA = phone('415');
  const numberB = phone('628');
  const token = 'tw-token-' + uniq();
  const accountSid = 'AC' + randomBytes(16).toString('hex');
  const fake = await startFakeTwilio({ accountSid, authToken: token, phoneNumbers: [numberA, numberB] });
  const wa = kind === 'whatsapp';
  const spell = (n: string) => (wa ? `whatsapp:${n}` : n);
  const digits = numberB.slice(1);
  const grouped = `${digits.slice(0, 1)} (${digits.slice(1, 4)}) ${digits.slice(4, 7)}-${digits.slice(7)}`;
  const customer = (n: number) => `+1650555${String(n).padStart(4, '0')}`;
  const sms = (url: string, n: number, to: string, text: string): WireRequest => {
    const p = { MessageSid: `SM${randomBytes(16).toString('hex')}`, AccountSid: accountSid, From: spell(customer(n)), To: spell(to), Body: text, NumMedia: '0', NumSegments: '1', SmsStatus: 'received' };
    return { url, headers: { 'content-type': FORM, 'x-twilio-signature': twilio.getExpectedTwilioSignature(token, url, p) }, body: new URLSearchParams(p).toString() };
  };
  const tag = `twilio-${kind}`;
  return {
    name: tag,
    credential: { provider: 'twilio', secrets: { account_sid: accountSid, auth_token: token }, settings: { api_base_url: fake.url } },
    b: { channel_type: kind, provider: 'twilio', external_identifier: spell(numberB) },
    // A's channel names a Messaging Service of the shared account too: its pool may hold B's
    // number, so on a platform credential A's own number must be the sender all the same.
    a: { channel_type: kind, provider: 'twilio', external_identifier: spell(numberA), config: { messaging_service_sid: 'MG' + randomBytes(16).toString('hex') } },
    aStatus: 'pending',
    spare: () => phone('917'),
    claims: [
      { external_identifier: digits }, { external_identifier: ` ${numberB} ` }, { external_identifier: `tel:+${grouped}` },
      { external_identifier: `whatsapp:${numberB}`, channel_type: 'whatsapp' }, { external_identifier: `whatsapp:${digits}`, channel_type: 'whatsapp' },
      { external_identifier: `+${digits.slice(0, 1)}.${digits.slice(1, 4)}.${digits.slice(4)}`, channel_type: 'sms' },
      { external_identifier: numberB, channel_type: 'voice' },
    ],
    patches: [{ external_identifier: digits }, { external_identifier: `whatsapp:+${grouped}` }],
    bMarker: `secret-for-b-${tag}`,
    forB: async (c) => [sms(c.chB.webhook_url, 1, numberB, `secret-for-b-${tag} 1`), sms(c.accountUrl, 2, numberB, `secret-for-b-${tag} 2`)],
    unrouted: async (url) => [sms(url, 3, phone('212'), 'unrouted')],
    forA: async (c) => sms(c.chA.webhook_url, 4, numberA, `hello-from-a-${tag}`),
    sent: () => fake.sentMessages().map((m) => ({ from: m.from ?? m.messaging_service_sid ?? '', to: m.to.replace(/^whatsapp:/, '') })),
    canonical: (v) => canonicalPhone(v) ?? v,
    intact: (c) => {
      if (!wa) assert.equal(fake.incomingNumbers().find((n) => n.phone_number === numberB)?.sms_url, c.chB.webhook_url);
    },
    close: () => fake.close(),
  };
}

async function resendScenario(): Promise<Scenario> {
  const fake = await startFakeResend();
  const whsec = 'whsec_' + randomBytes(24).toString('base64');
  const addrB = `support-${uniq()}@b.example`;
  const addrA = `help-${uniq()}@a.example`;
  const [local, domain] = addrB.split('@');
  const event = (url: string, to: string[], text: string): WireRequest => {
    const { event: ev } = fake.receiveEmail({ from: 'Customer <c1@example.com>', to, subject: 'Question', text, message_id: `<${uniq()}@example.com>` });
    const id = `msg_${randomBytes(12).toString('hex')}`;
    const at = new Date();
    const body = JSON.stringify(ev);
    return { url, headers: { 'content-type': 'application/json', 'svix-id': id, 'svix-timestamp': String(Math.floor(at.getTime() / 1000)), 'svix-signature': new SvixWebhook(whsec).sign(id, at, body) }, body };
  };
  return {
    name: 'resend',
    credential: { provider: 'resend', secrets: { api_key: fake.apiKey, webhook_secret: whsec }, settings: { api_base_url: fake.url } },
    b: { channel_type: 'email', provider: 'resend', external_identifier: addrB },
    a: { channel_type: 'email', provider: 'resend', external_identifier: addrA },
    aStatus: 'pending',
    spare: () => `spare-${uniq()}@a.example`,
    claims: [
      { external_identifier: `Support <${addrB.toUpperCase()}>` }, { external_identifier: ` ${local}@${domain.toUpperCase()} ` }, { external_identifier: `mailto:${addrB}` },
      { config: { from: `"B, Support" <${addrB}>` } }, { config: { address: addrB.toUpperCase() } }, { config: { email: ` ${addrB}` } },
    ],
    patches: [{ external_identifier: `B <${addrB}>` }, { config: { from: addrB.toUpperCase() } }],
    bMarker: 'secret-for-b-resend',
    forB: async (c) => [event(c.chB.webhook_url, [addrB], 'secret-for-b-resend 1'), event(c.accountUrl, [addrB], 'secret-for-b-resend 2')],
    unrouted: async (url) => [event(url, [`nobody-${uniq()}@c.example`], 'unrouted')],
    forA: async (c) => event(c.accountUrl, [addrA], 'hello-from-a-resend'),
    sent: () => fake.sentEmails().map((e) => ({ from: e.from, to: e.to[0] ?? '' })),
    canonical: (v) => canonicalEmail(v) ?? v,
    close: () => fake.close(),
  };
}

async function gmailScenario(): Promise<Scenario> {
  // A Gmail credential is one mailbox (its refresh token's): B's.
  const mailbox = `owner-${uniq()}@gmail.test`;
  const fake = await startFakeGmail({ emailAddress: mailbox });
  const google = await startGoogleKeys();
  const audience = `https://sb.example/push/${uniq()}`;
  const sa = 'gmail-push@proj.iam.gserviceaccount.com';
  const push = async (url: string, emailAddress: string, text: string, n: number): Promise<WireRequest> => {
    const { historyId } = fake.addMessage({ rfc2822: `From: Customer <c${n}@example.com>\r\nTo: ${mailbox}\r\nSubject: Thread ${n}\r\nMessage-ID: <g${n}.${uniq()}@example.com>\r\n\r\n${text}` });
    const data = Buffer.from(JSON.stringify({ emailAddress, historyId: Number(historyId) })).toString('base64');
    const body = JSON.stringify({ message: { data, messageId: `ps-${uniq()}`, publishTime: new Date().toISOString() }, subscription: 'projects/p/subscriptions/s' });
    return { url, headers: { 'content-type': 'application/json', authorization: `Bearer ${await google.sign({ aud: audience, email: sa })}` }, body };
  };
  const [local] = mailbox.split('@');
  return {
    name: 'gmail',
    credential: {
      provider: 'gmail',
      secrets: { client_id: fake.credentials.clientId, client_secret: fake.credentials.clientSecret, refresh_token: fake.credentials.refreshToken },
      settings: { api_base_url: fake.url, oauth_token_url: fake.tokenUrl, jwks_url: google.jwksUrl, push_audience: audience, push_service_account: sa },
    },
    b: { channel_type: 'email', provider: 'gmail', external_identifier: mailbox, config: { pubsub_topic: 'projects/b/topics/mail' } },
    // A names an address of its own and a topic of its own: watching would point B's mailbox at it.
    a: { channel_type: 'email', provider: 'gmail', external_identifier: `a-${uniq()}@a.example`, config: { pubsub_topic: 'projects/a/topics/steal' } },
    aStatus: 'error',
    spare: () => `spare-${uniq()}@a.example`,
    claims: [
      { external_identifier: `Owner <${mailbox.toUpperCase()}>` }, { external_identifier: ` ${local.toUpperCase()}@gmail.test ` },
      { config: { from: `Owner <${mailbox}>` } }, { config: { email_address: mailbox } },
    ],
    patches: [{ external_identifier: mailbox.toUpperCase() }, { config: { address: `"Owner" <${mailbox}>` } }],
    bMarker: 'secret-for-b-gmail',
    // Pushes name the mailbox; they arrive at the credential's URL (one Pub/Sub push endpoint).
    forB: async (c) => [await push(c.accountUrl, mailbox, 'secret-for-b-gmail 1', 1), await push(c.accountUrl, mailbox.toUpperCase(), 'secret-for-b-gmail 2', 2)],
    unrouted: async (url) => [await push(url, `stranger-${uniq()}@gmail.test`, 'unrouted', 3)],
    sent: () => fake.sentMessages().map((m) => ({ from: /^From: (.*)$/m.exec(m.rfc2822)?.[1] ?? '', to: /^To: (.*)$/m.exec(m.rfc2822)?.[1] ?? '' })),
    canonical: (v) => canonicalEmail(v) ?? v,
    intact: () => assert.equal(fake.watchState()?.topicName, 'projects/b/topics/mail'),
    close: async () => {
      await fake.close();
      await google.close();
    },
  };
}

async function retellScenario(): Promise<Scenario> {
  const apiKey = 'key_' + randomBytes(12).toString('hex');
  const agentA = `agent_a${uniq()}`;
  const agentB = `agent_b${uniq()}`;
  const numberB = phone('213');
  const signed = (url: string, body: string): WireRequest => ({ url, headers: { 'content-type': 'application/json', 'x-retell-signature': Retell.sign(body, apiKey) }, body });
  const call = (agent: string, n: number, conv: number) => retellBody(agent, n, conv).replace(/call_(\d+)_(\d+)/, `call_${agent}_$1_$2`);
  return {
    name: 'retell',
    credential: { provider: 'retell', secrets: { api_key: apiKey }, settings: {} },
    b: { channel_type: 'voice', provider: 'retell', external_identifier: numberB, config: { agent_id: agentB } },
    a: { channel_type: 'voice', provider: 'retell', external_identifier: phone('310'), config: { agent_id: agentA } },
    aStatus: 'pending',
    spare: () => phone('310'),
    claims: [
      { config: { agent_id: agentB.toUpperCase() } }, { config: { agent_id: ` ${agentB} ` } },
      { external_identifier: numberB.slice(1), config: { agent_id: 'agent_other' } }, { external_identifier: `tel:${numberB}`, config: { agent_id: 'agent_other2' } },
    ],
    patches: [{ config: { agent_id: agentB } }, { config: { agent_id: `${agentB.toUpperCase()} ` } }, { external_identifier: numberB }],
    // Call events carry no text: B's call id is the marker.
    bMarker: `call_${agentB}`,
    forB: async (c) => [signed(c.chB.webhook_url, call(agentB, 1, 1)), signed(c.accountUrl, call(agentB, 1, 2))],
    unrouted: async (url) => [signed(url, call(`agent_nobody${uniq()}`, 1, 3)), signed(url, JSON.stringify({ event: 'call_started', call: { call_id: `call_noagent_${uniq()}`, call_type: 'phone_call', call_status: 'ongoing' } }))],
    forA: async (c) => signed(c.accountUrl, call(agentA, 1, 4)),
    canonical: (v) => v.trim().toLowerCase(),
    close: async () => undefined,
  };
}

// ------------------------------------------------------------------------------------ the runner

interface World { s: TestServer; a: Tenant; b: Tenant; streamA: { text(): string; cancel(): Promise<void> } }

async function openStream(base: string, t: Tenant) {
  const ac = new AbortController();
  const res = await fetch(`${base}/v1/instances/${t.id}/events/stream`, { headers: { 'x-api-key': t.key }, signal: ac.signal });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  let buf = '';
  const done = (async () => {
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        buf += Buffer.from(r.value).toString();
      }
    } catch {
      // aborted at the end of the file
    }
  })();
  await waitUntil(() => buf.includes(': connected'), 10_000, 'the stream to open');
  return { text: () => buf, cancel: async () => { ac.abort(); await done; } };
}

const events = async (w: World, t: Tenant) => {
  const r = await w.s.api('GET', `/v1/instances/${t.id}/events?limit=500`, undefined, t.key);
  assert.equal(r.status, 200, r.text);
  return r.body.events as { type: string; channel_id: string; conversation_id?: string }[];
};
/** The provider's events on a channel (a conversation's own lifecycle events left out). */
const providerEvents = async (w: World, t: Tenant, channelId: string) => (await events(w, t)).filter((e) => e.channel_id === channelId && !e.type.startsWith('conversation.'));
const channels = async (w: World, t: Tenant) => (await w.s.api('GET', `/v1/instances/${t.id}/channels`, undefined, t.key)).body.channels as Channel[];

/** Nothing of B's channel, and not B's marker, anywhere A's key can read. */
async function nothingOfBVisibleToA(w: World, sc: Scenario, chB: Channel): Promise<void> {
  const evA = await events(w, w.a);
  for (const e of evA) assert.notEqual(e.channel_id, chB.id, `A's events hold an event of B's channel: ${JSON.stringify(e)}`);
  assert.ok(!JSON.stringify(evA).includes(sc.bMarker), `B's traffic in A's events (${sc.name})`);
  const convs = await w.s.api('GET', `/v1/instances/${w.a.id}/conversations?limit=500`, undefined, w.a.key);
  assert.equal(convs.status, 200, convs.text);
  assert.ok(!JSON.stringify(convs.body).includes(sc.bMarker));
  for (const c of convs.body.conversations as { id: string; channel_id: string }[]) {
    assert.notEqual(c.channel_id, chB.id);
    const h = await w.s.api('GET', `/v1/instances/${w.a.id}/conversations/${c.id}/messages`, undefined, w.a.key);
    assert.ok(!h.text.includes(sc.bMarker), `B's message in A's conversation ${c.id}`);
  }
  // B's own ids under A's key: 404, whichever way they are asked for.
  assert.equal((await w.s.api('GET', `/v1/instances/${w.b.id}/events`, undefined, w.a.key)).status, 404);
  for (const e of (await events(w, w.b)).filter((x) => x.channel_id === chB.id && x.conversation_id)) {
    assert.equal((await w.s.api('GET', `/v1/instances/${w.a.id}/conversations/${e.conversation_id}`, undefined, w.a.key)).status, 404);
    assert.equal((await w.s.api('POST', `/v1/instances/${w.a.id}/conversations/${e.conversation_id}/messages`, { text: 'from A into B' }, w.a.key)).status, 404);
    assert.equal((await w.s.api('POST', `/v1/instances/${w.b.id}/conversations/${e.conversation_id}/messages`, { text: 'from A into B' }, w.a.key)).status, 404);
  }
}

/** Sends `text` into the conversation and waits for its outcome ('sent' or 'failed'). */
async function sendAndSettle(w: World, t: Tenant, conversationId: string, text: string): Promise<{ status: string; status_reason?: string }> {
  const r = await w.s.api('POST', `/v1/instances/${t.id}/conversations/${conversationId}/messages`, { text }, t.key);
  assert.equal(r.status, 202, r.text);
  return waitUntil(async () => {
    const m = await w.s.api('GET', `/v1/instances/${t.id}/messages/${r.body.id}`, undefined, t.key);
    return ['sent', 'delivered', 'failed'].includes(m.body.status) ? m.body : undefined;
  }, 15_000, `the outcome of "${text}"`);
}

async function crossTenant(w: World, sc: Scenario): Promise<void> {
  const { s, a, b } = w;
  const cred = await s.api('POST', '/v1/credentials', sc.credential);
  assert.equal(cred.status, 201, cred.text);
  const on = (body: Body) => ({ ...body, credential_id: cred.body.id });

  // 1. B's channel, legitimately; A's own next to it.
  const rb = await s.api('POST', `/v1/instances/${b.id}/channels`, on(sc.b), b.key);
  assert.equal(rb.status, 201, rb.text);
  const chB = rb.body as Channel;
  assert.notEqual(chB.status, 'error', `B's channel: ${chB.error_message}`);

  // 5. Account-level events naming no channel are never guessed onto one: not while B's is the
  // credential's only channel (a connection's would get it), nor once A's is there too.
  const unrouted = async (when: string) => {
    const counts = async () => [(await events(w, a)).length, (await events(w, b)).length];
    const was = await counts();
    for (const r of await sc.unrouted(cred.body.webhook_url)) {
      const res = await send(r);
      assert.ok(res.status < 500, `${sc.name} unrouted: ${res.status} ${res.text}`);
    }
    assert.deepEqual(await counts(), was, `${sc.name}: an event naming no channel was routed somewhere (${when})`);
  };
  await unrouted('B\'s the only channel');
  const ra = await s.api('POST', `/v1/instances/${a.id}/channels`, on(sc.a), a.key);
  assert.equal(ra.status, 201, ra.text);
  const chA = ra.body as Channel;
  assert.equal(chA.status, sc.aStatus, `A's channel: ${chA.error_message}`);
  const c: Ctx = { accountUrl: cred.body.webhook_url, chA, chB };
  await unrouted('A\'s and B\'s');

  // 2. A claims B's identity in every spelling, on create and on PATCH: 409, nothing stored.
  const base = () => ({ ...sc.a, external_identifier: sc.spare(), config: {} });
  // The control: the shape alone (a fresh identity) is accepted, so each 409 below is B's identity.
  const control = await s.api('POST', `/v1/instances/${a.id}/channels`, on(base()), a.key);
  assert.equal(control.status, 201, control.text);
  assert.equal((await s.api('DELETE', `/v1/instances/${a.id}/channels/${control.body.id}`, undefined, a.key)).status, 204);
  const before = JSON.stringify(await channels(w, a));
  for (const claim of sc.claims) {
    const r = await s.api('POST', `/v1/instances/${a.id}/channels`, on({ ...base(), ...claim }), a.key);
    assert.equal(r.status, 409, `${sc.name} create ${JSON.stringify(claim)}: ${r.status} ${r.text}`);
    assert.equal(JSON.stringify(await channels(w, a)), before, 'nothing stored');
  }
  for (const patch of sc.patches) {
    const r = await s.api('PATCH', `/v1/instances/${a.id}/channels/${chA.id}`, patch, a.key);
    assert.equal(r.status, 409, `${sc.name} PATCH ${JSON.stringify(patch)}: ${r.status} ${r.text}`);
    assert.equal(JSON.stringify(await channels(w, a)), before, 'A\'s channel unchanged');
  }
  // A claim made on an account of A's own is refused the same way: identities are installation-wide.
  const own = await s.api('POST', `/v1/instances/${a.id}/channels`, { ...sc.b }, a.key);
  assert.equal(own.status, 409, `${sc.name} without the credential: ${own.text}`);

  // 3. B's traffic reaches B, and only B.
  const forB = await sc.forB(c);
  for (const r of forB) {
    const res = await send(r);
    assert.equal(res.status, 200, `${sc.name} webhook for B at ${r.url}: ${res.status} ${res.text}`);
  }
  assert.equal((await providerEvents(w, b, chB.id)).length, forB.length, `B receives each of its ${forB.length} events`);
  await nothingOfBVisibleToA(w, sc, chB);

  // 4. What A sends on its own channel never uses B's identity; B's answers do.
  const sentBefore = sc.sent?.().length ?? 0;
  const bEvent = (await providerEvents(w, b, chB.id)).find((e) => e.conversation_id);
  if (sc.sent && bEvent?.conversation_id) {
    const r = await sendAndSettle(w, b, bEvent.conversation_id, 'answer-from-b');
    assert.equal(r.status === 'failed' ? r.status_reason : 'ok', 'ok', `${sc.name}: B's own answer went out`);
  }
  if (sc.forA) {
    const res = await send(await sc.forA(c));
    assert.equal(res.status, 200, res.text);
    const mine = await providerEvents(w, a, chA.id);
    assert.equal(mine.length, 1, `${sc.name}: A's own event reached A`);
    // A's stream carried A's event, and nothing of B's.
    await waitUntil(() => w.streamA.text().includes(`hello-from-a-${sc.name}`) || w.streamA.text().includes(chA.id), 10_000, 'A\'s event on A\'s stream');
    assert.ok(!w.streamA.text().includes(sc.bMarker) && !w.streamA.text().includes(chB.id), `B's traffic on A's stream (${sc.name})`);
    if (sc.sent && mine[0].conversation_id) {
      const r = await sendAndSettle(w, a, mine[0].conversation_id, 'answer-from-a');
      if (sc.aSendRefused) assert.equal(r.status, 'failed', `${sc.name}: A's send through B's identity must be refused`);
    }
  }
  if (sc.sent) {
    const bId = sc.canonical(String(sc.b.config && (sc.b.config as Body).phone_number_id ? (sc.b.config as Body).phone_number_id : sc.b.external_identifier));
    const sends = sc.sent().slice(sentBefore);
    const fromB = sends.filter((x) => sc.canonical(x.from) === bId);
    // B's identity sent exactly B's one answer; everything else came from A's identity.
    assert.equal(fromB.length, bEvent?.conversation_id ? 1 : 0, `${sc.name}: sends from B's identity: ${JSON.stringify(sends)}`);
    if (sc.forA && !sc.aSendRefused) {
      const aId = sc.canonical(String(sc.a.config && (sc.a.config as Body).phone_number_id ? (sc.a.config as Body).phone_number_id : sc.a.external_identifier));
      assert.equal(sends.filter((x) => sc.canonical(x.from) === aId).length, 1, `${sc.name}: A's answer went out from A's own identity: ${JSON.stringify(sends)}`);
    }
  }
  await nothingOfBVisibleToA(w, sc, chB);

  // A tears its channel down: nothing of B's registration at the provider goes with it.
  sc.intact?.(c);
  assert.equal((await s.api('PATCH', `/v1/instances/${a.id}/channels/${chA.id}`, { enabled: false }, a.key)).status, 200);
  assert.equal((await s.api('DELETE', `/v1/instances/${a.id}/channels/${chA.id}`, undefined, a.key)).status, 204);
  sc.intact?.(c);
}

for (const kind of storeKinds()) {
  describe(`cross-tenant isolation on one shared credential per provider, on ${kind}`, () => {
    const w = {} as World;

    before(async () => {
      w.s = await startServer(kind, { services: { sendScheduleMs: [50, 50, 50] } });
      const tenant = async (name: string): Promise<Tenant> => {
        const id = (await w.s.api('POST', '/v1/instances', { name })).body.id as string;
        const k = await w.s.api('POST', '/v1/api-keys', { name, instance_ids: [id] });
        assert.equal(k.status, 201, k.text);
        return { id, key: k.body.key };
      };
      w.a = await tenant('tenant A');
      w.b = await tenant('tenant B');
      w.streamA = await openStream(w.s.url, w.a);
    });
    after(async () => {
      await w.streamA?.cancel();
      await w.s?.close();
    });

    const scenarios: [string, () => Promise<Scenario>][] = [
      ['Meta (WhatsApp Cloud)', metaScenario],
      ['Telegram', telegramScenario],
      ['Twilio SMS', () => twilioScenario('sms')],
      ['Twilio WhatsApp', () => twilioScenario('whatsapp')],
      ['Resend', resendScenario],
      ['Gmail', gmailScenario],
      ['Retell', retellScenario],
    ];
    for (const [title, make] of scenarios) {
      test(`${title}: A cannot claim, receive or send as B's identity`, async () => {
        const sc = await make();
        try {
          await crossTenant(w, sc);
        } finally {
          await sc.close();
        }
      });
    }

    test("Resend: on the shared key, B's domain is B's: A cannot take another address at it (create or PATCH); the operator can", async () => {
      const fake = await startFakeResend();
      try {
        const { s, a, b } = w;
        const cred = await s.api('POST', '/v1/credentials', { provider: 'resend', secrets: { api_key: fake.apiKey }, settings: { api_base_url: fake.url } });
        assert.equal(cred.status, 201, cred.text);
        const domain = `b-${uniq()}.example`;
        const on = (external_identifier: string, config?: Body) => ({ channel_type: 'email', provider: 'resend', external_identifier, credential_id: cred.body.id, ...(config ? { config } : {}) });
        assert.equal((await s.api('POST', `/v1/instances/${b.id}/channels`, on(`support@${domain}`), b.key)).status, 201);
        // Another address, not B's: still B's domain.
        const ceo = await s.api('POST', `/v1/instances/${a.id}/channels`, on(`ceo@${domain.toUpperCase()}`), a.key);
        assert.equal(ceo.status, 409, ceo.text);
        assert.match(ceo.body.detail, /domain/);
        const viaFrom = await s.api('POST', `/v1/instances/${a.id}/channels`, on(`help-${uniq()}@a.example`, { from: `CEO <ceo@${domain}>` }), a.key);
        assert.equal(viaFrom.status, 409, viaFrom.text);
        const own = await s.api('POST', `/v1/instances/${a.id}/channels`, on(`help-${uniq()}@a.example`), a.key);
        assert.equal(own.status, 201, own.text);
        const patched = await s.api('PATCH', `/v1/instances/${a.id}/channels/${own.body.id}`, { config: { from: `billing@${domain}` } }, a.key);
        assert.equal(patched.status, 409, patched.text);
        const listed = (await s.api('GET', `/v1/instances/${a.id}/channels`, undefined, a.key)).body.channels.find((ch: Channel) => ch.id === own.body.id);
        assert.equal(listed.config.from, undefined, 'nothing stored');
        // B itself may add addresses at its domain; the operator (who sees every tenant) may place one anywhere.
        assert.equal((await s.api('POST', `/v1/instances/${b.id}/channels`, on(`sales@${domain}`), b.key)).status, 201);
        assert.equal((await s.api('POST', `/v1/instances/${a.id}/channels`, on(`ops@${domain}`))).status, 201);
      } finally {
        await fake.close();
      }
    });

    test("A's event stream never carried an event of B's", async () => {
      for (const marker of ['secret-for-b-', 'answer-from-b']) assert.ok(!w.streamA.text().includes(marker), marker);
    });
  });
}
