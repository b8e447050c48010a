/**
 * WhatsApp usernames and business-scoped user ids (BSUID): one person keeps one conversation
 * while Meta's identifiers change under them — a wa_id-only message (before BSUIDs), then wa_id +
 * user_id, then user_id only (a username hides the phone number), then a user_id_update to a new
 * BSUID — and answers to a person known only by their BSUID go out with `recipient`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startFakeGraph, type FakeGraph } from '../../../fakes/graph.js';
import { startFakeAgent, type FakeAgent } from '../../inbound/fake-agent.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { storeKinds } from '../../helpers/stores.js';
import { until } from '../../outbound/helpers.js';

for (const kind of storeKinds()) {
  describe(`whatsapp BSUIDs on ${kind}`, () => {
    let s: TestServer;
    let graph: FakeGraph;
    let agent: FakeAgent;
    let instanceId: string;
    let channel: any;
    const appSecret = 'meta-app-secret-' + randomBytes(6).toString('hex');

    const conversations = async () => (await s.api('GET', `/v1/instances/${instanceId}/conversations`)).body.conversations as any[];
    const messagesOf = async (conversationId: string) => (await s.api('GET', `/v1/instances/${instanceId}/conversations/${conversationId}/messages`)).body.messages as any[];
    const deliver = async (payload: Record<string, unknown>) => assert.equal(await graph.deliverWebhook(channel.webhook_url, payload, appSecret), 200);

    before(async () => {
      graph = await startFakeGraph();
      agent = await startFakeAgent();
      s = await startServer(kind, { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_META_GRAPH_URL: graph.baseUrl } });
      const inst = await s.api('POST', '/v1/instances', { name: 'bsuid', agent_url: agent.url });
      instanceId = inst.body.id;
      agent.secret = inst.body.signing_secret;
      const conn = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'meta_cloud', secrets: { access_token: graph.accessToken, app_secret: appSecret } });
      channel = (await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: '+15550000000', connection_id: conn.body.id, config: { phone_number_id: graph.phoneNumberId } })).body;
    });
    after(async () => {
      await s.close();
      await graph.close();
      await agent.close();
    });

    test('one conversation across wa_id -> BSUID -> username (no phone) -> user_id_update; answers use recipient', async () => {
      const phone = '4915100009001';
      const bsuid = 'DE.1502576394655843';
      const next = 'DE.9988776655443322';
      agent.script = (d) => (d.body.type === 'message.received' ? { json: { reply: { text: `re: ${d.body.data.text}` } } } : { json: {} });

      await deliver(graph.inboundText({ from: phone, text: 'before bsuids' }).payload);
      const [first] = await until(async () => {
        const cs = await conversations();
        return cs.length === 1 ? cs : undefined;
      }, 'the conversation');
      assert.equal(first.key, phone);
      await until(() => graph.sentMessages(phone).length === 1, 'the first answer');
      assert.equal(graph.sentMessages(phone)[0].payload.to, phone);

      // The same person now with their BSUID: the conversation follows (keyed on the BSUID).
      await deliver(graph.inboundText({ from: phone, userId: bsuid, text: 'with a bsuid' }).payload);
      await until(async () => (await messagesOf(first.id)).some((m) => m.text === 'with a bsuid'), 'the second message in the same conversation');
      const after2 = await conversations();
      assert.equal(after2.length, 1);
      assert.equal(after2[0].id, first.id);
      assert.equal(after2[0].key, bsuid);

      // A username hides the phone number: only the BSUID arrives; the answer goes to `recipient`.
      await deliver(graph.inboundText({ userId: bsuid, username: 'ada.l', withholdPhone: true, text: 'username now' }).payload);
      const ev = await until(() => agent.accepted().find((d) => d.body?.type === 'message.received' && d.body.data.text === 'username now'), 'the event');
      assert.equal(ev.body.conversation_id, first.id);
      assert.equal(ev.body.data.from.id, bsuid);
      assert.equal(ev.body.data.from.username, 'ada.l');
      assert.equal(ev.body.data.from.phone, undefined);
      const out = await until(() => graph.sentMessages(bsuid).find((m) => m.text === 're: username now'), 'the answer by BSUID');
      assert.equal(out.payload.recipient, bsuid);
      assert.equal(out.payload.to, undefined);

      // Meta issues a new BSUID (the person changed number): the conversation moves to it.
      await deliver(graph.userIdUpdate({ previous: bsuid, current: next }));
      await deliver(graph.inboundText({ userId: next, withholdPhone: true, text: 'new id' }).payload);
      await until(async () => (await messagesOf(first.id)).some((m) => m.text === 'new id'), 'the message after the id change in the same conversation');
      const all = await conversations();
      assert.equal(all.length, 1, 'one conversation, not two');
      assert.equal(all[0].key, next);
      await until(() => graph.sentMessages(next).find((m) => m.text === 're: new id' && m.payload.recipient === next), 'the answer to the new BSUID');
    });
  });
}
