/**
 * Channels as the inbound path sees them, on every store: webhook_url on channels and
 * connections, pending -> active with last_event_at on verified traffic, disabled channels
 * acknowledging and dropping, and per-account URLs routing each event by the identity it names
 * (Meta phone_number_id, Resend recipient, Retell agent_id, Gmail emailAddress).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';
import { startFakeAgent, type FakeAgent } from './fake-agent.js';
import { channelCounts, createInstance, gmailKit, metaKit, metaSign, PRIVATE_OK, resendKit, retellBody, retellKit, send, telegramKit, waitUntil } from './helpers.js';

for (const kind of storeKinds()) {
  describe(`inbound channels on ${kind}`, () => {
    let s: TestServer;
    let agent: FakeAgent;
    let instanceId: string;

    before(async () => {
      agent = await startFakeAgent();
      s = await startServer(kind, { env: PRIVATE_OK, services: { scheduleMs: [50, 100, 200] } });
      const inst = await createInstance(s, agent.url);
      instanceId = inst.id;
      agent.secret = inst.signing_secret;
    });
    after(async () => {
      await s.close();
      await agent.close();
    });

    const channel = async (id: string) => (await s.api('GET', `/v1/instances/${instanceId}/channels`)).body.channels.find((c: any) => c.id === id);

    test('webhook_url on channels and connections is where providers post', async () => {
      const kit = await metaKit({ s, instanceId });
      const ch = await channel(kit.channelId);
      assert.equal(ch.webhook_url, `${s.url}/v1/webhooks/${kit.channelId}`);
      const conn = await s.api('GET', `/v1/instances/${instanceId}/connections/${kit.connectionId}`);
      assert.equal(conn.status, 200);
      assert.equal(conn.body.webhook_url, `${s.url}/v1/webhooks/accounts/${kit.connectionId}`);
      const listed = await s.api('GET', `/v1/instances/${instanceId}/connections`);
      assert.ok(listed.body.connections.some((c: any) => c.webhook_url === conn.body.webhook_url));
      // Both URLs work for a signed Meta post.
      assert.equal((await send(await kit.valid(1))).status, 200);
      const viaAccount = await kit.valid(2);
      assert.equal((await send({ ...viaAccount, url: conn.body.webhook_url })).status, 200);
      assert.equal((await channelCounts(s, kit.channelId)).events, 2);
      // Unknown or malformed webhook ids are a clean 404.
      assert.equal((await send({ ...viaAccount, url: `${s.url}/v1/webhooks/00000000-0000-4000-8000-000000000000` })).status, 404);
      assert.equal((await send({ ...viaAccount, url: `${s.url}/v1/webhooks/accounts/00000000-0000-4000-8000-000000000000` })).status, 404);
      assert.ok([404, 422].includes((await send({ ...viaAccount, url: `${s.url}/v1/webhooks/not-a-uuid` })).status));
    });

    test('status goes pending -> active, and last_event_at is set, on the first verified event', async () => {
      const kit = await telegramKit({ s, instanceId });
      const before = await channel(kit.channelId);
      assert.equal(before.status, 'pending');
      assert.equal(before.last_event_at, null);
      const t0 = Date.now();
      assert.equal((await send(await kit.valid(1))).status, 200);
      const after = await channel(kit.channelId);
      assert.equal(after.status, 'active');
      assert.ok(Date.parse(after.last_event_at) >= t0 - 1000);
    });

    test("the provider's raw payload is stored once, on the event; the message keeps the normalised fields", async () => {
      const kit = await telegramKit({ s, instanceId });
      assert.equal((await send(await kit.valid(1))).status, 200);
      const events = (await s.api('GET', `/v1/instances/${instanceId}/events?after=0&limit=500`)).body.events.filter((e: any) => e.channel_id === kit.channelId && e.type === 'message.received');
      assert.equal(events.length, 1);
      assert.equal(events[0].data.raw.text, 'hello 1', 'the event carries the raw Telegram message');
      const msgs = (await s.api('GET', `/v1/instances/${instanceId}/conversations/${events[0].conversation_id}/messages`)).body.messages;
      assert.equal(msgs.length, 1);
      assert.equal(msgs[0].id, events[0].data.message_id);
      assert.equal(msgs[0].content.text, 'hello 1');
      assert.ok(!('raw' in msgs[0].content), 'no second copy of the raw payload');
    });

    test('a disabled channel acknowledges and drops; re-enabled it stores again', async () => {
      const kit = await telegramKit({ s, instanceId });
      const off = await s.api('PATCH', `/v1/instances/${instanceId}/channels/${kit.channelId}`, { enabled: false });
      assert.equal(off.body.status, 'disabled');
      const r = await send(await kit.valid(1));
      assert.equal(r.status, 200, 'acknowledged so the provider stops retrying');
      assert.deepEqual(await channelCounts(s, kit.channelId), { events: 0, messages: 0, jobs: 0, conversations: 0 });
      assert.equal((await channel(kit.channelId)).status, 'disabled');
      // A bad signature on a disabled channel is still refused (verification comes first).
      assert.equal((await send(await kit.badSignature(2))).status, 403);
      await s.api('PATCH', `/v1/instances/${instanceId}/channels/${kit.channelId}`, { enabled: true });
      assert.equal((await send(await kit.valid(3))).status, 200);
      assert.equal((await channelCounts(s, kit.channelId)).events, 1);
      assert.equal((await channel(kit.channelId)).status, 'active');
    });

    test('edits apply to the very next webhook and delivery: new webhook_secret, new signing secret, new agent_url', async () => {
      // Webhooks and deliveries read their channel and instance through an in-memory cache on
      // SQLite; every edit must be seen at once all the same.
      const kit = await telegramKit({ s, instanceId });
      const withSecret = async (n: number, secret: string) => {
        const v = await kit.valid(n);
        return send({ ...v, headers: { ...v.headers, 'x-telegram-bot-api-secret-token': secret } });
      };
      assert.equal((await send(await kit.valid(1))).status, 200);
      await agent.waitFor((ds) => ds.some((d) => d.body.channel_id === kit.channelId && d.verified));
      const rotated = 'tg-rotated_' + Math.random().toString(36).slice(2);
      assert.equal((await s.api('PATCH', `/v1/instances/${instanceId}/channels/${kit.channelId}`, { webhook_secret: rotated })).status, 200);
      assert.equal((await send(await kit.valid(2))).status, 403, 'the old secret is refused right after the rotation');
      assert.equal((await withSecret(3, rotated)).status, 200);

      const signing = await s.api('POST', `/v1/instances/${instanceId}/signing-secret`);
      assert.equal(signing.status, 200);
      const before = agent.deliveries.length;
      agent.secret = signing.body.signing_secret;
      assert.equal((await withSecret(4, rotated)).status, 200);
      await agent.waitFor((ds) => ds.slice(before).some((d) => d.body.channel_id === kit.channelId && d.body.data.text === 'hello 4'));
      const d4 = agent.deliveries.slice(before).find((d) => d.body.data?.text === 'hello 4')!;
      assert.ok(d4.verified, `signed with the rotated secret: ${d4.verifyError}`);

      const other = await startFakeAgent();
      try {
        assert.equal((await s.api('PATCH', `/v1/instances/${instanceId}`, { agent_url: other.url })).status, 200);
        assert.equal((await withSecret(5, rotated)).status, 200);
        await other.waitFor((ds) => ds.some((d) => d.body.data?.text === 'hello 5'));
      } finally {
        assert.equal((await s.api('PATCH', `/v1/instances/${instanceId}`, { agent_url: agent.url })).status, 200);
        await other.close();
      }
    });

    test('Meta per-account URL routes by metadata.phone_number_id (config or external_identifier)', async () => {
      const kit = await metaKit({ s, instanceId }, { viaAccount: true });
      const p2 = String(Number(kit.phoneNumberId) + 1);
      const second = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: p2, connection_id: kit.connectionId });
      assert.equal(second.status, 201);
      const disabled = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: 'disabled-number', connection_id: kit.connectionId, config: { phone_number_id: '999' }, enabled: false });
      // One POST carrying three entries: one per channel plus an unknown number.
      const entry = (pid: string, n: number) => JSON.parse(metaBodyFor(pid, n)).entry[0];
      const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [entry(kit.phoneNumberId, 1), entry(p2, 2), entry('424242', 3), entry('999', 4)] });
      const r = await send({ url: kit.url, headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSign(kit.appSecret, body) }, body });
      assert.equal(r.status, 200);
      assert.equal((await channelCounts(s, kit.channelId)).messages, 1);
      assert.equal((await channelCounts(s, second.body.id)).messages, 1);
      assert.equal((await channelCounts(s, disabled.body.id)).events, 0, 'a disabled channel drops its share');
      assert.equal((await channel(second.body.id)).status, 'active');
      // The subscription handshake on the account URL answers with any channel's verify token.
      await s.api('PATCH', `/v1/instances/${instanceId}/channels/${second.body.id}`, { config: { verify_token: 'vt-42' } });
      const hs = await fetch(`${kit.url}?hub.mode=subscribe&hub.verify_token=vt-42&hub.challenge=31337`);
      assert.equal(hs.status, 200);
      assert.equal(await hs.text(), '31337');
      const bad = await fetch(`${kit.url}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=31337`);
      assert.equal(bad.status, 403);
    });

    test('Resend per-account URL routes by recipient', async () => {
      const kit = await resendKit({ s, instanceId }, { viaAccount: true });
      const other = `sales-${Date.now()}@sb.test`;
      const second = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'email', provider: 'resend', external_identifier: other, connection_id: kit.connectionId });
      assert.equal(second.status, 201);
      const toSecond = kit.fake.receiveEmail({ from: 'a@example.com', to: [other], subject: 'Hi sales', text: 'to sales' });
      assert.equal((await send(kit.signEvent(toSecond.event))).status, 200);
      assert.equal((await send(await kit.valid(1))).status, 200);
      assert.equal((await channelCounts(s, second.body.id)).messages, 1);
      assert.equal((await channelCounts(s, kit.channelId)).messages, 1);
      try {
        const nobody = kit.fake.receiveEmail({ from: 'a@example.com', to: ['nobody@elsewhere.test'], subject: 'x', text: 'x' });
        assert.equal((await send(kit.signEvent(nobody.event))).status, 200, 'an unrouted event is acknowledged');
        assert.equal((await channelCounts(s, second.body.id)).messages, 1);
        assert.equal((await channelCounts(s, kit.channelId)).messages, 1);
      } finally {
        await kit.close();
      }
    });

    test('Retell per-account URL routes by agent_id', async () => {
      const kit = await retellKit({ s, instanceId }, { viaAccount: true });
      const agent2 = kit.agentId + '_two';
      const second = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'voice', provider: 'retell', external_identifier: `+1999${Date.now() % 1e6}`, connection_id: kit.connectionId, config: { agent_id: agent2 } });
      const body = retellBody(agent2, 1, 9);
      // Signed with the connection's API key (retell-sdk), like every event of the account.
      const sig = await kit.signRaw(Buffer.from(body), 'application/json');
      assert.equal((await send(sig)).status, 200);
      assert.equal((await channelCounts(s, second.body.id)).events, 1);
      assert.equal((await channelCounts(s, kit.channelId)).events, 0);
      assert.equal((await send(await kit.valid(1))).status, 200);
      assert.equal((await channelCounts(s, kit.channelId)).events, 1);
    });

    test('Gmail after a stale history: the inbox since the cursor last moved is read; nothing lost, nothing twice, older mail left alone', async () => {
      const kit = await gmailKit({ s, instanceId });
      try {
        assert.equal((await send(await kit.valid(1, 1))).status, 200);
        const cfg = (await s.api('GET', `/v1/instances/${instanceId}/channels`)).body.channels.find((c: any) => c.id === kit.channelId).config;
        assert.ok(Date.parse(cfg.history_at) > Date.now() - 60_000, 'the cursor records when it moved');
        // Mail from long before the cursor moved, then Gmail forgets the history (it keeps about a week).
        kit.fake.addMessage({ rfc2822: `From: old@example.com\r\nTo: ${kit.address}\r\nSubject: Old\r\n\r\nfrom last month`, internalDate: Date.now() - 30 * 24 * 3600_000 });
        kit.fake.expireHistoryBefore('999999999');
        assert.equal((await send(await kit.valid(2, 2))).status, 200);
        assert.equal((await send(await kit.valid(3, 3))).status, 200);
        const texts = (await s.services.store.db.selectFrom('messages').select('text').where('channel_id', '=', kit.channelId).orderBy('created_at').execute()).map((m) => m.text?.trim());
        assert.deepEqual(texts.sort(), ['hello 1', 'hello 2', 'hello 3'], 'each new mail once; the old one not read');
        await agent.waitFor((ds) => ds.some((d) => d.body.channel_id === kit.channelId && d.body.data.raw?.resync === true && d.body.data.text?.trim() === 'hello 3'));
      } finally {
        await kit.close();
      }
    });

    test('Gmail per-account URL routes by emailAddress', async () => {
      const kit = await gmailKit({ s, instanceId }, { viaAccount: true });
      try {
        const decoy = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'email', provider: 'gmail', external_identifier: `decoy-${Date.now()}@gmail.test`, connection_id: kit.connectionId });
        assert.equal(decoy.status, 201);
        assert.equal((await send(await kit.valid(1))).status, 200);
        assert.equal((await channelCounts(s, kit.channelId)).messages, 1);
        assert.equal((await channelCounts(s, decoy.body.id)).events, 0);
        await agentSaw(kit.channelId);
        // The pushed historyId is remembered: the next history read starts there.
        const ch = (await s.api('GET', `/v1/instances/${instanceId}/channels`)).body.channels.find((c: any) => c.id === kit.channelId);
        assert.match(String(ch.config.history_id), /^\d+$/);
        assert.equal((await channelCounts(s, decoy.body.id)).events, 0);
      } finally {
        await kit.close();
      }
    });

    async function agentSaw(channelId: string): Promise<void> {
      await waitUntil(() => agent.deliveries.some((d) => d.body?.channel_id === channelId && d.verified), 5000, 'delivery to the agent');
    }
  });
}

/** A Meta body for one phone number id (local copy to build multi-entry posts). */
function metaBodyFor(pid: string, n: number): string {
  const waId = String(16505550000 + n);
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{ id: 'WABA1', changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550001111', phone_number_id: pid },
      contacts: [{ profile: { name: 'Sheena' }, wa_id: waId }],
      messages: [{ from: waId, id: `wamid.multi.${pid}.${n}`, timestamp: String(1714560000 + n), type: 'text', text: { body: `hello ${n}` } }],
    } }] }],
  });
}
