/**
 * Routing identities are identities (issue 10, items 1 and 2): canonical forms per provider, one
 * channel per canonical identity across the installation (external identifier and routing config
 * keys alike, on create and PATCH, 409 and nothing stored), account-level routing on the canonical
 * form only, and provisioning that puts a channel naming an identity its account does not hold in
 * error. Every API test runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalEmail, canonicalPhone } from '../../src/adapters/shared/identity.js';
import { canonicalTelegramUsername } from '../../src/adapters/telegram/identity.js';
import { canonicalMetaIdentity, metaPhoneNumberId } from '../../src/adapters/meta_cloud/identity.js';
import { canonicalTwilioIdentity } from '../../src/adapters/twilio/identity.js';
import { startFakeGraph, type FakeGraph } from '../../fakes/graph.js';
import { startFakeTwilio, type FakeTwilio } from '../../fakes/twilio.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';
import { metaBody, metaSign, send } from '../inbound/helpers.js';

describe('canonical identities', () => {
  test('Telegram usernames: without @, case-folded, trimmed', () => {
    for (const v of ['b_bot', '@b_bot', ' @B_Bot ', 'B_BOT', '@@b_bot', 't.me/b_bot', 'https://t.me/B_bot']) assert.equal(canonicalTelegramUsername(v), 'b_bot', v);
  });
  test('phone numbers: E.164, prefixes and punctuation stripped, a missing + is the same number', () => {
    for (const v of ['+15550001111', '15550001111', 'whatsapp:+15550001111', 'tel:+1 (555) 000-1111', ' +1.555.000.1111 ', '001 555 000 1111', 'WhatsApp:15550001111']) {
      assert.equal(canonicalPhone(v), '+15550001111', v);
      assert.equal(canonicalTwilioIdentity(v), '+15550001111', v);
      assert.equal(canonicalMetaIdentity(v), '+15550001111', v);
    }
    assert.equal(canonicalPhone('12345'), undefined); // a short code is not an E.164 number
    assert.equal(canonicalTwilioIdentity(' MG123ABC ', 'messaging_service_sid'), 'mg123abc');
  });
  test('email: the bare address, display name stripped, case-folded', () => {
    for (const v of ['bot@b.example', 'Bot <bot@b.example>', '"B, Bot" <BOT@B.EXAMPLE>', ' mailto:Bot@b.example ', 'BOT@b.example ']) assert.equal(canonicalEmail(v), 'bot@b.example', v);
  });
  test('Meta phone number ids: digits, the id sends as digits', () => {
    assert.equal(canonicalMetaIdentity(' 100200300400500'), canonicalMetaIdentity('+100200300400500'));
    assert.equal(metaPhoneNumberId({ phone_number_id: ' 100200300400500 ' }, '+1555'), '100200300400500');
    assert.equal(metaPhoneNumberId({}, '100200300400500'), '100200300400500');
  });
});

for (const kind of storeKinds()) {
  describe(`identity uniqueness on ${kind}`, () => {
    let s: TestServer;
    let a: string;
    let b: string;
    let keyA: string;
    let keyB: string;

    before(async () => {
      s = await startServer(kind);
      a = (await s.api('POST', '/v1/instances', { name: 'A' })).body.id;
      b = (await s.api('POST', '/v1/instances', { name: 'B' })).body.id;
      keyA = (await s.api('POST', '/v1/api-keys', { name: 'A', instance_ids: [a] })).body.key;
      keyB = (await s.api('POST', '/v1/api-keys', { name: 'B', instance_ids: [b] })).body.key;
    });
    after(() => s.close());

    const create = (inst: string, key: string, body: Record<string, unknown>) => s.api('POST', `/v1/instances/${inst}/channels`, body, key);
    const count = async (inst: string) => (await s.api('GET', `/v1/instances/${inst}/channels`)).body.count as number;

    async function refusedEverywhere(first: Record<string, unknown>, variants: Record<string, unknown>[]) {
      const r = await create(b, keyB, first);
      assert.equal(r.status, 201, r.text);
      for (const v of variants) {
        const before = await count(a);
        const c = await create(a, keyA, { ...first, ...v });
        assert.equal(c.status, 409, `${JSON.stringify(v)}: ${c.text}`);
        assert.match(c.body.detail, /already exists/);
        assert.equal(await count(a), before, 'nothing stored');
      }
      return r.body;
    }

    test('Telegram: @name, case and spaces are the same bot (409); the response shows what was sent', async () => {
      const ch = await refusedEverywhere({ channel_type: 'telegram', provider: 'telegram', external_identifier: 'b_bot' }, [
        { external_identifier: '@b_bot' }, { external_identifier: 'b_bot ' }, { external_identifier: 'B_Bot' }, { external_identifier: ' @B_BOT' },
      ]);
      assert.equal(ch.external_identifier, 'b_bot');
      const shown = await create(a, keyA, { channel_type: 'telegram', provider: 'telegram', external_identifier: ' @A_Bot' });
      assert.equal(shown.status, 201);
      assert.equal(shown.body.external_identifier, ' @A_Bot');
    });

    test('phone numbers: a missing +, whatsapp:, tel:, spaces, dashes, dots and parentheses are the same number (409)', async () => {
      await refusedEverywhere({ channel_type: 'sms', provider: 'twilio', external_identifier: '+15550001111' }, [
        { external_identifier: '15550001111' }, { external_identifier: 'whatsapp:+15550001111', channel_type: 'whatsapp' },
        { external_identifier: 'tel:+1 (555) 000-1111' }, { external_identifier: '+1.555.000.1111' }, { external_identifier: '+1-555-000-1111', channel_type: 'voice' },
      ]);
    });

    test('email: display names and case are the same address, and config.from is an identity (409)', async () => {
      await refusedEverywhere({ channel_type: 'email', provider: 'resend', external_identifier: 'bot@b.example' }, [
        { external_identifier: 'Bot <BOT@b.example>' }, { external_identifier: ' bot@B.example' },
        { external_identifier: 'other@a.example', config: { from: 'Support <bot@b.example>' } },
        { external_identifier: 'other@a.example', config: { address: 'BOT@b.example' } },
      ]);
    });

    test('Meta: config.phone_number_id is an identity, also against an external identifier (409)', async () => {
      await refusedEverywhere({ channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: '+15550003333', config: { phone_number_id: '900000000000001' } }, [
        { external_identifier: '+15550004444', config: { phone_number_id: ' 900000000000001' } },
        { external_identifier: '900000000000001', config: {} },
        { external_identifier: '15550003333', config: { phone_number_id: '900000000000002' } },
      ]);
    });

    test('Retell: config.agent_id is an identity (409)', async () => {
      await refusedEverywhere({ channel_type: 'voice', provider: 'retell', external_identifier: '+15550005555', config: { agent_id: 'agent_b1' } }, [
        { external_identifier: '+15550006666', config: { agent_id: 'AGENT_B1 ' } },
      ]);
    });

    test('PATCH onto another channel\'s identity: 409 and the channel unchanged', async () => {
      const mine = await create(a, keyA, { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: '+15550007777', config: { phone_number_id: '900000000000077' } });
      assert.equal(mine.status, 201);
      const theirs = await create(b, keyB, { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: '+15550008888', config: { phone_number_id: '900000000000088' } });
      assert.equal(theirs.status, 201);
      const p1 = await s.api('PATCH', `/v1/instances/${a}/channels/${mine.body.id}`, { config: { phone_number_id: '900000000000088' } }, keyA);
      assert.equal(p1.status, 409, p1.text);
      const p2 = await s.api('PATCH', `/v1/instances/${a}/channels/${mine.body.id}`, { external_identifier: '1 555 000 8888' }, keyA);
      assert.equal(p2.status, 409, p2.text);
      const now = { body: (await s.api('GET', `/v1/instances/${a}/channels`, undefined, keyA)).body.channels.find((c: { id: string }) => c.id === mine.body.id) };
      assert.deepEqual(now.body.config, { phone_number_id: '900000000000077' });
      assert.equal(now.body.external_identifier, '+15550007777');
      // Its own identities may be kept, respelled or released.
      const p3 = await s.api('PATCH', `/v1/instances/${a}/channels/${mine.body.id}`, { config: { phone_number_id: ' 900000000000077 ' }, external_identifier: '1 555 000 7777' }, keyA);
      assert.equal(p3.status, 200, p3.text);
      const p4 = await s.api('PATCH', `/v1/instances/${a}/channels/${mine.body.id}`, { config: { phone_number_id: '900000000000099' } }, keyA);
      assert.equal(p4.status, 200, p4.text);
      const reuse = await create(b, keyB, { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: '+15550009999', config: { phone_number_id: '900000000000077' } });
      assert.equal(reuse.status, 201, 'a released identity is free again');
      // Deleting releases identities too.
      assert.equal((await s.api('DELETE', `/v1/instances/${b}/channels/${reuse.body.id}`, undefined, keyB)).status, 204);
      assert.equal((await create(a, keyA, { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: '+15550009990', config: { phone_number_id: '900000000000077' } })).status, 201);
    });

    test('a routing config key that is not a string, or is empty, is 422', async () => {
      const r = await create(a, keyA, { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: '+15550001212', config: { phone_number_id: 900000000000123 } });
      assert.equal(r.status, 422, r.text);
      assert.deepEqual(r.body.detail[0].loc, ['body', 'config', 'phone_number_id']);
      const e = await create(a, keyA, { channel_type: 'telegram', provider: 'telegram', external_identifier: ' @ ' });
      assert.equal(e.status, 422, e.text);
      assert.deepEqual(e.body.detail[0].loc, ['body', 'external_identifier']);
    });
  });

  describe(`account-level routing and provisioning proofs on ${kind}`, () => {
    let s: TestServer;
    let graph: FakeGraph;
    let a: string;
    let b: string;
    let keyA: string;
    let keyB: string;
    const appSecret = 'platform-app-secret';
    const numberB = '100200300400502';
    let cred: { id: string; webhook_url: string };

    before(async () => {
      graph = await startFakeGraph({ phoneNumberIds: ['100200300400501', numberB], wabas: { WABA_P: ['100200300400501', numberB] } });
      s = await startServer(kind);
      a = (await s.api('POST', '/v1/instances', { name: 'A' })).body.id;
      b = (await s.api('POST', '/v1/instances', { name: 'B' })).body.id;
      keyA = (await s.api('POST', '/v1/api-keys', { name: 'A', instance_ids: [a] })).body.key;
      keyB = (await s.api('POST', '/v1/api-keys', { name: 'B', instance_ids: [b] })).body.key;
      const c = await s.api('POST', '/v1/credentials', { provider: 'meta_cloud', secrets: { access_token: graph.accessToken, app_secret: appSecret }, settings: { api_base_url: graph.baseUrl, waba_id: 'WABA_P' } });
      assert.equal(c.status, 201, c.text);
      cred = c.body;
    });
    after(async () => {
      await s.close();
      await graph.close();
    });

    test('an event for B\'s number reaches B only; a spelling variant of it is refused to A', async () => {
      const chB = await s.api('POST', `/v1/instances/${b}/channels`, { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: '+15550100001', credential_id: cred.id, config: { phone_number_id: numberB } }, keyB);
      assert.equal(chB.status, 201, chB.text);
      assert.equal(chB.body.status, 'pending', chB.body.error_message);
      const squat = await s.api('POST', `/v1/instances/${a}/channels`, { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: '+15550100002', credential_id: cred.id, config: { phone_number_id: ` ${numberB}` } }, keyA);
      assert.equal(squat.status, 409, squat.text);
      const body = metaBody(numberB, 1);
      const r = await send({ url: cred.webhook_url, headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSign(appSecret, body) }, body });
      assert.equal(r.status, 200, r.text);
      const evB = await s.api('GET', `/v1/instances/${b}/events`, undefined, keyB);
      assert.equal(evB.body.events.filter((e: { type: string }) => e.type === 'message.received').length, 1);
      const evA = await s.api('GET', `/v1/instances/${a}/events`, undefined, keyA);
      assert.equal(evA.body.events.length, 0);
    });

    test('an event naming no channel is not guessed onto the only channel of a shared credential', async () => {
      const body = metaBody('999999999999999', 2);
      const r = await send({ url: cred.webhook_url, headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSign(appSecret, body) }, body });
      assert.equal(r.status, 200);
      const evA = await s.api('GET', `/v1/instances/${a}/events`, undefined, keyA);
      assert.equal(evA.body.events.length, 0);
    });

    test('Meta provisioning checks the WABA holds the number: a number it does not hold puts the channel in error', async () => {
      const bad = await s.api('POST', `/v1/instances/${a}/channels`, { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: '+15550100003', credential_id: cred.id, config: { phone_number_id: '555555555555555' } }, keyA);
      assert.equal(bad.status, 201, bad.text);
      assert.equal(bad.body.status, 'error');
      assert.match(bad.body.error_message, /555555555555555 is not a number of WhatsApp Business Account WABA_P/);
      const good = await s.api('POST', `/v1/instances/${a}/channels`, { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: '+15550100004', credential_id: cred.id, config: { phone_number_id: '100200300400501' } }, keyA);
      assert.equal(good.status, 201, good.text);
      assert.equal(good.body.status, 'pending');
      assert.ok(graph.requests.some((q) => q.path.endsWith('/WABA_P/phone_numbers')), 'the WABA was asked');
    });
  });

  describe(`Twilio provisioning proofs on ${kind}`, () => {
    let s: TestServer;
    let tw: FakeTwilio;
    let inst: string;
    let credentialId: string;
    const sms = '+15550400001';
    const senders = Array.from({ length: 1001 }, (_, i) => `+1555041${String(i).padStart(4, '0')}`);

    before(async () => {
      // One incoming number that is not a WhatsApp sender, and 1001 senders (two pages of 1000).
      tw = await startFakeTwilio({ phoneNumbers: [sms], whatsappSenders: senders });
      s = await startServer(kind);
      inst = (await s.api('POST', '/v1/instances', { name: 'twilio proofs' })).body.id;
      const c = await s.api('POST', '/v1/credentials', { provider: 'twilio', secrets: { account_sid: tw.accountSid, auth_token: tw.authToken }, settings: { api_base_url: tw.url } });
      assert.equal(c.status, 201, c.text);
      credentialId = c.body.id;
    });
    after(async () => {
      await s.close();
      await tw.close();
    });

    const create = (body: Record<string, unknown>) => s.api('POST', `/v1/instances/${inst}/channels`, { provider: 'twilio', credential_id: credentialId, ...body });
    const sendersAsked = () => tw.requests.filter((q) => q.path === '/v2/Channels/Senders');

    test('a WhatsApp number must be one of the account\'s WhatsApp senders (every page read), else the channel is in error', async () => {
      const last = senders[senders.length - 1];
      const ok = await create({ channel_type: 'whatsapp', external_identifier: `whatsapp:${last}` });
      assert.equal(ok.status, 201, ok.text);
      assert.equal(ok.body.status, 'pending', ok.body.error_message);
      const pages = sendersAsked();
      assert.equal(pages.length, 2, 'the second page holds it');
      assert.equal(pages[0].query.get('Channel'), 'whatsapp');
      assert.match(String(pages[0].headers.authorization), /^Basic /);
      // An incoming number of the account is not, by that, a WhatsApp sender.
      const bad = await create({ channel_type: 'whatsapp', external_identifier: `whatsapp:${sms}` });
      assert.equal(bad.status, 201, bad.text);
      assert.equal(bad.body.status, 'error');
      assert.match(bad.body.error_message, /\+15550400001 is not a WhatsApp sender of this Twilio account/);
      const foreign = await create({ channel_type: 'whatsapp', external_identifier: '+15550499999' });
      assert.equal(foreign.body.status, 'error');
      // Releases the number for the SMS test (one number is one identity).
      assert.equal((await s.api('DELETE', `/v1/instances/${inst}/channels/${bad.body.id}`)).status, 204);
    });

    test('the fake Senders API is strict: Channel required, PageSize 1-1000, HTTP Basic of the account', async () => {
      const auth = { authorization: 'Basic ' + Buffer.from(`${tw.accountSid}:${tw.authToken}`).toString('base64') };
      const get = async (q: string, h: Record<string, string> = auth) => {
        const r = await fetch(`${tw.url}/v2/Channels/Senders${q}`, { headers: h });
        return { status: r.status, body: (await r.json()) as { code?: number; senders?: { sender_id: string }[]; meta?: { key: string; next_page_url: string | null } } };
      };
      assert.equal((await get('')).status, 400);
      assert.equal((await get('?Channel=whatsapp&PageSize=0')).status, 400);
      assert.equal((await get('?Channel=whatsapp&PageSize=1001')).status, 400);
      assert.equal((await get('?Channel=whatsapp', { authorization: 'Basic ' + Buffer.from(`${tw.accountSid}:nope`).toString('base64') })).body.code, 20003);
      const page = await get('?Channel=whatsapp&PageSize=2');
      assert.equal(page.status, 200);
      assert.deepEqual(page.body.senders?.map((x) => x.sender_id), [`whatsapp:${senders[0]}`, `whatsapp:${senders[1]}`]);
      assert.equal(page.body.meta?.key, 'senders');
      assert.match(page.body.meta?.next_page_url ?? '', /PageToken=2$/);
    });

    test('an SMS number must be one of the account\'s incoming numbers, else the channel is in error', async () => {
      const bad = await create({ channel_type: 'sms', external_identifier: senders[0] });
      assert.equal(bad.status, 201, bad.text);
      assert.equal(bad.body.status, 'error');
      assert.match(bad.body.error_message, /is not a phone number of this Twilio account/);
      const ok = await create({ channel_type: 'sms', external_identifier: sms.slice(1) });
      assert.equal(ok.body.status, 'pending', ok.body.error_message);
      assert.equal(tw.incomingNumbers()[0].sms_url, ok.body.webhook_url);
    });
  });
}
