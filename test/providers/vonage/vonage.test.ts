/**
 * Vonage, all in one place: webhook verification (JWT HS256 + payload_hash + iat, with
 * @vonage/jwt's verifySignature as the oracle), parsing of inbound messages and statuses, and the
 * round trip through real HTTP on every store: a signed inbound SMS is stored once (Vonage's
 * retry is a no-op), the reply goes out via POST /v1/messages with Basic auth and the channel's
 * webhook_url, its status webhook reaches the agent; 429 waits for Retry-After, a 401 puts the
 * channel in error, a timeout is never resent, WhatsApp's closed window is explained. The official
 * @vonage/messages client is the oracle for the fake: what the SDK sends, the fake accepts.
 * (The provider contract suite in test/contract/ runs Vonage through kit.ts too.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { verifySignature } from '@vonage/jwt';
import { Messages, SMS } from '@vonage/messages';
import { Auth } from '@vonage/auth';
import { PayloadError } from '../../../src/adapters/contract.js';
import { getProvider } from '../../../src/adapters/registry.js';
import { vonageInbound as vg } from '../../../src/adapters/vonage/index.js';
import { startFakeVonage, type FakeVonage } from '../../../fakes/vonage.js';
import { ctx, json, JUNK_BODIES, NOW, req } from '../../adapters/helpers.js';
import { startFakeAgent, type FakeAgent } from '../../inbound/fake-agent.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { storeKinds } from '../../helpers/stores.js';
import { channelView, conversationByKey, messageReaches, send, sleep, statusEvent, until } from '../../outbound/helpers.js';
import { vonageKit } from './kit.js';

const SECRET = 'vonage-signature-secret-for-tests';
const NOW_S = Math.floor(NOW / 1000);

describe('vonage webhook verification', () => {
  let fake: FakeVonage;
  before(async () => {
    fake = await startFakeVonage();
  });
  after(() => fake.close());
  const c = () => ctx({ verifySecret: SECRET, secrets: { api_key: fake.credentials.apiKey } });
  const signed = async (body: string, claims: Parameters<FakeVonage['signature']>[2] = {}, secret = SECRET) =>
    req(body, { 'content-type': 'application/json', authorization: await fake.signature(body, secret, { iat: NOW_S, ...claims }) });
  const body = JSON.stringify({ channel: 'sms', message_uuid: 'u-1', to: '447700900000', from: '447700900001', timestamp: '2024-05-01T12:00:00Z', message_type: 'text', text: 'hi' });

  test('a token signed with the signature secret over this body passes, and @vonage/jwt agrees', async () => {
    const r = await signed(body);
    assert.deepEqual(await vg.verify(r, c()), { ok: true });
    const token = r.headers.authorization!.slice('Bearer '.length);
    assert.equal(verifySignature(token, SECRET), true, 'oracle accepts our fake\'s token');
    assert.equal(verifySignature(token, SECRET + 'x'), false, 'oracle refuses it under another secret');
  });

  test('wrong secret, tampered body, hash mismatch, stale or future iat, other API key, alg none, no token: refused', async () => {
    const cases: [string, Awaited<ReturnType<typeof signed>>, 401 | 403][] = [
      ['wrong secret', await signed(body, {}, SECRET + 'x'), 403],
      ['tampered body', { ...(await signed(body)), body: Buffer.from(body.replace('hi', 'ho')) }, 403],
      ['payload_hash of another body', await signed(body, { payload_hash: createHash('sha256').update('other').digest('hex') }), 403],
      ['stale iat', await signed(body, { iat: NOW_S - 3600 }), 403],
      ['future iat', await signed(body, { iat: NOW_S + 3600 }), 403],
      ['another api key', await signed(body, { api_key: 'someone-else' }), 403],
      ['no token', req(body, { 'content-type': 'application/json' }), 401],
      ['not a bearer token', req(body, { authorization: 'Basic abc' }), 401],
    ];
    // An unsigned token (alg none) with the right claims.
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iat: NOW_S, payload_hash: createHash('sha256').update(body).digest('hex') })}.x`;
    cases.push(['alg none', req(body, { authorization: `Bearer ${none}` }), 403]);
    for (const [name, r, status] of cases) {
      const v = await vg.verify(r, c());
      assert.equal(v.ok, false, name);
      if (!v.ok) assert.equal(v.status, status, name);
    }
    // No secret configured: fail closed.
    const v = await vg.verify(await signed(body), ctx({ secrets: {} }));
    assert.equal(v.ok, false);
  });
});

describe('vonage parsing', () => {
  const parse = (b: unknown) => vg.parse(json(b), ctx());

  test('an inbound text: conversation = the person, channel identity = our number, event id = message_uuid', async () => {
    const [e] = await parse({ channel: 'whatsapp', message_uuid: 'aaaaaaaa-0000-4000-8000-000000000001', to: '447700900000', from: '447700900001', timestamp: '2024-05-01T11:59:00Z', message_type: 'text', text: 'hello', profile: { name: 'Ada' }, context: { message_uuid: 'prev-1' } });
    assert.equal(e.kind, 'message');
    if (e.kind !== 'message') return;
    assert.equal(e.providerEventId, 'aaaaaaaa-0000-4000-8000-000000000001');
    assert.equal(e.conversationKey, '447700900001');
    assert.equal(e.channelIdentity, '447700900000');
    assert.equal(e.text, 'hello');
    assert.equal(e.from.name, 'Ada');
    assert.equal(e.replyToProviderMessageId, 'prev-1');
    assert.equal(e.occurredAt, '2024-05-01T11:59:00.000Z');
  });

  test('media, location and button replies are normalised; unknown types are kept as unsupported with raw', async () => {
    const base = { channel: 'whatsapp', message_uuid: 'm', to: '447700900000', from: '447700900001', timestamp: '2024-05-01T12:00:00Z' };
    const [img] = await parse({ ...base, message_type: 'image', image: { url: 'https://api.nexmo.com/v3/media/1', caption: 'look' } });
    assert.deepEqual(img.kind === 'message' && img.media, [{ kind: 'image', url: 'https://api.nexmo.com/v3/media/1', caption: 'look' }]);
    const [loc] = await parse({ ...base, message_type: 'location', location: { lat: 51.5, long: -0.12 } });
    assert.deepEqual(loc.kind === 'message' && loc.location, { latitude: 51.5, longitude: -0.12 });
    const [btn] = await parse({ ...base, message_type: 'reply', reply: { id: 'yes', title: 'Yes' } });
    assert.deepEqual(btn.kind === 'message' && btn.interactive, { id: 'yes', title: 'Yes' });
    const [odd] = await parse({ ...base, message_type: 'order', order: {} });
    assert.equal(odd.kind, 'unsupported');
    assert.ok(odd.raw);
  });

  test('statuses map to delivery states, keyed message_uuid:status; errors keep their code', async () => {
    const st = (status: string, extra = {}) => parse({ message_uuid: 'out-1', to: '447700900001', from: '447700900000', timestamp: '2024-05-01T12:00:00Z', status, channel: 'sms', ...extra });
    const want: Record<string, string> = { submitted: 'sent', delivered: 'delivered', read: 'read', rejected: 'failed', undeliverable: 'failed' };
    for (const [v, mapped] of Object.entries(want)) {
      const [e] = await st(v);
      assert.equal(e.kind, 'status');
      if (e.kind !== 'status') continue;
      assert.equal(e.status, mapped);
      assert.equal(e.providerEventId, `out-1:${v}`);
      assert.equal(e.providerMessageId, 'out-1');
    }
    const [rej] = await st('rejected', { error: { type: 'https://developer.vonage.com/api-errors/messages-olympus#1340', title: 'Outside the allowed window' } });
    assert.deepEqual(rej.kind === 'status' && rej.error, { code: '1340', message: 'Outside the allowed window' });
    const [weird] = await st('accepted');
    assert.equal(weird.kind, 'unsupported');
  });

  test('malformed bodies are PayloadErrors', async () => {
    for (const b of [...JUNK_BODIES, Buffer.from('{"message_uuid":"x"}'), Buffer.from('{"message_uuid":"x","to":"1","from":"2"}'), Buffer.from('{"message_uuid":"x","to":"1","from":"2","message_type":"text"}')]) {
      await assert.rejects(vg.parse(req(b, { 'content-type': 'application/json' }), ctx()), PayloadError, b.toString());
    }
  });
});

// The SDK's documented call; its SMSParams type also demands the fields the class fills in itself.
const sdkSms = (text: string) => ({ to: '447700900001', from: '447700900000', text }) as unknown as ConstructorParameters<typeof SMS>[0];

describe('the fake against the official @vonage/messages client', () => {
  test('an SMS sent by the SDK is accepted as Vonage would (202 message_uuid), with Basic auth', async () => {
    const fake = await startFakeVonage();
    try {
      const client = new Messages(new Auth({ apiKey: fake.credentials.apiKey, apiSecret: fake.credentials.apiSecret }), { apiHost: fake.url });
      const r = await client.send(new SMS(sdkSms('from the SDK')));
      assert.match(r.messageUUID, /^[0-9a-f-]{36}$/);
      assert.equal(fake.sentMessages('447700900001')[0]?.text, 'from the SDK');
      const bad = new Messages(new Auth({ apiKey: fake.credentials.apiKey, apiSecret: 'wrong' }), { apiHost: fake.url });
      await assert.rejects(bad.send(new SMS(sdkSms('x'))));
    } finally {
      await fake.close();
    }
  });
});

for (const kind of storeKinds()) {
  describe(`vonage through real HTTP on ${kind}`, () => {
    let s: TestServer;
    let agent: FakeAgent;
    let fake: FakeVonage;
    let instanceId: string;
    let sms: Awaited<ReturnType<typeof vonageKit>>;
    let wa: Awaited<ReturnType<typeof vonageKit>>;
    let nextUser = 100;

    async function inbound(kit: typeof sms, text: string) {
      const from = `4479461${String(++nextUser).padStart(5, '0')}`;
      const payload = fake.inboundText({ from, to: kit.number, text, channel: kit === wa ? 'whatsapp' : 'sms' });
      assert.equal(await fake.deliverWebhook(kit.url, fake.credentials.signatureSecret, payload), 200);
      return { from, payload, conv: await conversationByKey(s, instanceId, from) };
    }

    before(async () => {
      fake = await startFakeVonage();
      agent = await startFakeAgent();
      s = await startServer(kind, { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' }, services: { sendScheduleMs: [50, 50, 50] } });
      const inst = await s.api('POST', '/v1/instances', { name: 'vonage', agent_url: agent.url });
      instanceId = inst.body.id;
      agent.secret = inst.body.signing_secret;
      sms = await vonageKit({ s, instanceId }, { fake });
      wa = await vonageKit({ s, instanceId }, { fake, channelType: 'whatsapp' });
    });
    after(async () => {
      await s.close();
      await fake.close();
      await agent.close();
    });

    test('the registry serves it: GET /v1/providers lists vonage; secrets are required at connection create', async () => {
      const list = await s.api('GET', '/v1/providers');
      const v = list.body.providers.find((p: any) => p.name === 'vonage');
      assert.deepEqual(v.channel_types, ['sms', 'whatsapp']);
      assert.deepEqual(v.secret_names.required, ['api_key', 'api_secret', 'signature_secret']);
      assert.equal(v.verify_secret_name, 'signature_secret');
      const bad = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'vonage', secrets: { api_key: 'k' } });
      assert.equal(bad.status, 422);
      const email = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'email', provider: 'vonage', external_identifier: 'x@y.z', connection_id: sms.connectionId });
      assert.equal(email.status, 422);
      assert.equal(getProvider('vonage')?.api?.env, 'SWITCHBOARD_VONAGE_API_URL');
    });

    test('an inbound SMS is stored once (the retry is a no-op) and the reply goes out with Basic auth and our webhook_url', async () => {
      const { from, payload, conv } = await inbound(sms, 'hello vonage');
      assert.equal(await fake.deliverWebhook(sms.url, fake.credentials.signatureSecret, payload), 200, 'retry');
      await until(() => agent.accepted().find((d) => d.body?.type === 'message.received' && d.body.data?.text === 'hello vonage'), 'delivery');
      await sleep(200);
      assert.equal(agent.accepted().filter((d) => d.body?.type === 'message.received' && d.body.data?.text === 'hello vonage').length, 1, 'delivered once');

      const r = await send(s, instanceId, conv.id, { text: 'Hi **there**' });
      const m = await messageReaches(s, instanceId, r.body.id, 'sent');
      const [out] = fake.sentMessages(from);
      assert.equal(out.channel, 'sms');
      assert.equal(out.from, sms.number);
      assert.equal(out.text, 'Hi there');
      assert.equal(out.webhook_url, sms.url);
      assert.equal(m.provider_message_id, out.message_uuid);
      const q = fake.requests.find((x) => (x.body as any)?.text === 'Hi there')!;
      assert.equal(q.headers.authorization, 'Basic ' + Buffer.from(`${fake.credentials.apiKey}:${fake.credentials.apiSecret}`).toString('base64'));

      // Its status webhook, to the same URL, moves it on and reaches the agent once.
      const st = fake.statusEvent({ messageUuid: out.message_uuid, to: from, from: sms.number, status: 'delivered' });
      assert.equal(await fake.deliverWebhook(sms.url, fake.credentials.signatureSecret, st), 200);
      assert.equal(await fake.deliverWebhook(sms.url, fake.credentials.signatureSecret, st), 200);
      await messageReaches(s, instanceId, r.body.id, 'delivered');
      await statusEvent(agent, r.body.id, 'delivered');
    });

    test('429 waits for Retry-After and then sends; a 401 puts the channel in error until a send succeeds', async () => {
      const { from, conv } = await inbound(sms, 'limits');
      fake.failNext({ status: 429, retryAfter: 1, match: '/v1/messages' });
      const t0 = Date.now();
      const r = await send(s, instanceId, conv.id, { text: 'after the limit' });
      await messageReaches(s, instanceId, r.body.id, 'sent');
      const hits = fake.requests.filter((x) => (x.body as any)?.text === 'after the limit');
      assert.equal(hits.length, 2);
      assert.ok(hits[1].receivedAt - hits[0].receivedAt >= 900, `waited ${hits[1].receivedAt - hits[0].receivedAt} ms`);
      assert.ok(Date.now() - t0 >= 900);

      fake.failNext({ status: 401, match: '/v1/messages' });
      const bad = await send(s, instanceId, conv.id, { text: 'refused' });
      const m = await messageReaches(s, instanceId, bad.body.id, 'failed');
      assert.equal(m.error.kind, 'auth');
      const ch = await channelView(s, instanceId, sms.channelId);
      assert.equal(ch.status, 'error');
      assert.ok(!String(ch.error_message).includes(fake.credentials.apiSecret));
      const good = await send(s, instanceId, conv.id, { text: 'works again' });
      await messageReaches(s, instanceId, good.body.id, 'sent');
      await until(async () => (await channelView(s, instanceId, sms.channelId)).status === 'active', 'recovery');
      assert.equal(fake.sentMessages(from).filter((x) => x.text === 'works again').length, 1);
    });

    test('a timeout is an unknown outcome: failed, never sent again', async () => {
      const { conv } = await inbound(sms, 'slow');
      s.services.contexts.timeoutMs = 400;
      try {
        fake.failNext({ timeoutMs: 1200, match: '/v1/messages' });
        const r = await send(s, instanceId, conv.id, { text: 'maybe' });
        const m = await messageReaches(s, instanceId, r.body.id, 'failed');
        assert.equal(m.error.kind, 'unknown_outcome');
        await sleep(1500);
        assert.equal(fake.requests.filter((q) => (q.body as any)?.text === 'maybe').length, 1, 'no second attempt');
      } finally {
        s.services.contexts.timeoutMs = 15_000;
      }
    });

    test('WhatsApp: WhatsApp markup, a closed window is explained, a template still goes out', async () => {
      const { from, conv } = await inbound(wa, 'hola');
      const r = await send(s, instanceId, conv.id, { text: 'Hi **there**' });
      await messageReaches(s, instanceId, r.body.id, 'sent');
      const out = fake.sentMessages(from).at(-1)!;
      assert.equal(out.channel, 'whatsapp');
      assert.equal(out.text, 'Hi *there*');
      fake.closeWindow(from);
      const late = await send(s, instanceId, conv.id, { text: 'too late' });
      const m = await messageReaches(s, instanceId, late.body.id, 'failed');
      assert.equal(m.error.code, '1340');
      assert.match(m.error.message, /24-hour window/);
      const t = await send(s, instanceId, conv.id, { template: { name: 'welcome', language: 'en' } });
      await messageReaches(s, instanceId, t.body.id, 'sent');
      assert.equal((fake.sentMessages(from).at(-1)!.body.custom as any).template.name, 'welcome');
    });
  });
}
