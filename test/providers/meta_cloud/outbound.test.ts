/**
 * WhatsApp Cloud (meta_cloud) round trip through real HTTP: a signed inbound message, the agent's
 * Markdown answer out as WhatsApp markup to the fake Graph API; splitting at 4096; Idempotency-Key;
 * 130429 honoured; an expired token (190) puts the channel in error and the next success clears it;
 * a statuses webhook moves the message to delivered and reaches the agent; the 24-hour window
 * (409 without a template, the template goes out); a timeout leaves the message failed, never resent.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startFakeGraph, type FakeGraph } from '../../../fakes/graph.js';
import { startFakeAgent, type FakeAgent } from '../../inbound/fake-agent.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { storeKinds } from '../../helpers/stores.js';
import { ageConversation, channelView, conversationByKey, longMarkdown, messageReaches, messageView, norm, replySent, send, sleep, statusEvent, until } from '../../outbound/helpers.js';

for (const kind of storeKinds()) {
  describe(`whatsapp (meta_cloud) outbound on ${kind}`, () => {
    let s: TestServer;
    let graph: FakeGraph;
    let agent: FakeAgent;
    let instanceId: string;
    let channel: any;
    const appSecret = 'meta-app-secret-' + randomBytes(6).toString('hex');
    let nextUser = 4915112340000;

    /** A signed inbound text from a new person; returns their wa_id and the conversation. */
    async function inbound(text: string, from = String(++nextUser)) {
      const { payload } = graph.inboundText({ from, text });
      assert.equal(await graph.deliverWebhook(channel.webhook_url, payload, appSecret), 200);
      const conv = await conversationByKey(s, instanceId, from);
      return { from, conv };
    }

    function statusWebhook(wamid: string, status: string, to: string) {
      return {
        object: 'whatsapp_business_account',
        entry: [{ id: 'WABA_FAKE', changes: [{ field: 'messages', value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: '15550000000', phone_number_id: graph.phoneNumberId },
          statuses: [{ id: wamid, status, timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: to }],
        } }] }],
      };
    }

    before(async () => {
      graph = await startFakeGraph();
      agent = await startFakeAgent();
      s = await startServer(kind, { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_META_GRAPH_URL: graph.baseUrl }, services: { sendScheduleMs: [50, 50, 50] } });
      const inst = await s.api('POST', '/v1/instances', { name: 'wa', agent_url: agent.url });
      instanceId = inst.body.id;
      agent.secret = inst.body.signing_secret;
      const conn = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'meta_cloud', secrets: { access_token: graph.accessToken, app_secret: appSecret } });
      assert.equal(conn.status, 201, conn.text);
      const ch = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: '+15550000000', connection_id: conn.body.id, config: { phone_number_id: graph.phoneNumberId } });
      assert.equal(ch.status, 201, ch.text);
      channel = ch.body;
    });
    after(async () => {
      await s.close();
      await graph.close();
      await agent.close();
    });

    test("the agent's Markdown reply goes out as WhatsApp markup; a delivered status updates the message and reaches the agent", async () => {
      agent.script = (d) => (d.body.type === 'message.received' && d.body.data.text === 'hi there' ? { json: { reply: { text: 'Hello **Ada**, this is _important_ and ~~old~~.\n\n- one\n- two' } } } : { json: {} });
      const { from, conv } = await inbound('hi there');
      const sentEv = await replySent(agent, conv.id);
      const out = graph.sentMessages(from);
      assert.equal(out.length, 1);
      assert.equal(out[0].type, 'text');
      assert.equal(out[0].text, 'Hello *Ada*, this is _important_ and ~old~.\n\n- one\n- two');
      assert.equal(out[0].payload.messaging_product, 'whatsapp');
      const messageId = sentEv.body.data.message_id;
      const m = await messageView(s, instanceId, messageId);
      assert.equal(m.status, 'sent');
      assert.equal(m.provider_message_id, out[0].id);

      // Meta reports delivery (and a repeat of the same webhook changes nothing).
      for (let i = 0; i < 2; i++) assert.equal(await graph.deliverWebhook(channel.webhook_url, statusWebhook(out[0].id, 'delivered', from), appSecret), 200);
      await messageReaches(s, instanceId, messageId, 'delivered');
      const ev = await statusEvent(agent, messageId, 'delivered');
      assert.equal(ev.verified, true);
      assert.equal(ev.body.conversation_id, conv.id);
      // A late "sent" never moves it backwards; "read" moves it on.
      assert.equal(await graph.deliverWebhook(channel.webhook_url, statusWebhook(out[0].id, 'read', from), appSecret), 200);
      await messageReaches(s, instanceId, messageId, 'read');
      await statusEvent(agent, messageId, 'read');
      await sleep(100);
      assert.equal(agent.accepted().filter((d) => d.body.type === 'message.status' && d.body.data.message_id === messageId && d.body.data.status === 'delivered').length, 1);
    });

    test('a long answer is split at 4096 characters, in order, nothing lost', async () => {
      const { from, conv } = await inbound('tell me everything');
      const text = longMarkdown(7, 260); // ~9,500 characters: three messages
      const r = await send(s, instanceId, conv.id, { text });
      await messageReaches(s, instanceId, r.body.id, 'sent');
      const out = graph.sentMessages(from);
      assert.ok(out.length >= 3, `expected >= 3 chunks, got ${out.length}`);
      for (const c of out) assert.ok(c.text!.length <= 4096, `chunk of ${c.text!.length}`);
      assert.equal(norm(out.map((c) => c.text).join('\n\n')), norm(text));
      const ev = await statusEvent(agent, r.body.id, 'sent');
      assert.equal(ev.body.data.chunks, out.length);
      assert.deepEqual(ev.body.data.provider_message_ids, out.map((c) => c.id));
    });

    test('Idempotency-Key: the same key never sends twice', async () => {
      const { from, conv } = await inbound('hello');
      const a = await send(s, instanceId, conv.id, { text: 'once only' }, 'wa-k-1');
      const b = await send(s, instanceId, conv.id, { text: 'once only' }, 'wa-k-1');
      assert.equal(a.body.id, b.body.id);
      assert.equal(b.headers.get('idempotent-replayed'), 'true');
      await messageReaches(s, instanceId, a.body.id, 'sent');
      const c = await send(s, instanceId, conv.id, { text: 'once only' }, 'wa-k-1');
      assert.equal(c.body.id, a.body.id);
      await sleep(300);
      assert.equal(graph.sentMessages(from).filter((m) => m.text === 'once only').length, 1);
    });

    test('130429 (throughput limit) is honoured: the message waits and then goes out once', async () => {
      const { from, conv } = await inbound('hello');
      graph.failNext({ status: 429, match: '/messages' }); // Graph error code 130429
      const r = await send(s, instanceId, conv.id, { text: 'patience' });
      await messageReaches(s, instanceId, r.body.id, 'sent');
      const attempts = graph.requests.filter((q) => q.path.endsWith('/messages') && (q.body as any)?.text?.body === 'patience');
      assert.equal(attempts.length, 2, 'one refused attempt, one accepted');
      assert.equal(attempts[0].injectedFailure && 'status' in attempts[0].injectedFailure ? attempts[0].injectedFailure.status : 0, 429);
      const gap = attempts[1].receivedAt - attempts[0].receivedAt;
      assert.ok(gap >= 900, `the retry waited for the rate limit (${gap} ms)`);
      assert.ok(gap < 5000, `but not much longer (${gap} ms)`);
      assert.equal(graph.sentMessages(from).filter((m) => m.text === 'patience').length, 1);
    });

    test('an expired token (190) sets the channel to error with a plain message and tells the agent; the next success clears it', async () => {
      const { from, conv } = await inbound('hello');
      graph.failNext({ status: 401, match: '/messages' }); // code 190, OAuthException
      const bad = await send(s, instanceId, conv.id, { text: 'will fail' });
      const failed = await messageReaches(s, instanceId, bad.body.id, 'failed');
      assert.equal(failed.error.code, '190');
      const ch = await channelView(s, instanceId, channel.id);
      assert.equal(ch.status, 'error');
      assert.match(ch.error_message, /^WhatsApp Cloud API refused the channel's credentials \(190\): .*Session has expired.*Update the connection's secrets/);
      assert.doesNotMatch(ch.error_message, new RegExp(graph.accessToken));
      const ev = await until(() => agent.accepted().find((d) => d.body.type === 'channel.error' && d.body.channel_id === channel.id), 'the channel.error event');
      assert.equal(ev.body.data.error_message, ch.error_message);
      await statusEvent(agent, bad.body.id, 'failed');

      const good = await send(s, instanceId, conv.id, { text: 'works again' });
      await messageReaches(s, instanceId, good.body.id, 'sent');
      assert.equal(graph.sentMessages(from).filter((m) => m.text === 'works again').length, 1);
      assert.equal(graph.sentMessages(from).filter((m) => m.text === 'will fail').length, 0);
      await until(async () => {
        const c = await channelView(s, instanceId, channel.id);
        return c.status === 'active' && c.error_message === null;
      }, 'recovery');
      await until(() => agent.accepted().find((d) => d.body.type === 'channel.recovered' && d.body.channel_id === channel.id), 'the channel.recovered event');
    });

    test('outside the 24-hour window: text answers 409 naming a template; a template message goes out', async () => {
      const { from, conv } = await inbound('hello');
      await ageConversation(s, conv.id, 25);
      const refused = await send(s, instanceId, conv.id, { text: 'too late' }, undefined, 409);
      assert.match(refused.body.detail, /24-hour/);
      assert.match(refused.body.detail, /template/);
      const r = await send(s, instanceId, conv.id, { template: { name: 'order_update', language: 'en_US', components: [{ type: 'body', parameters: [{ type: 'text', text: 'A-42' }] }] } });
      await messageReaches(s, instanceId, r.body.id, 'sent');
      const out = graph.sentMessages(from);
      assert.equal(out.length, 1);
      assert.equal(out[0].type, 'template');
      const t = out[0].payload.template as any;
      assert.equal(t.name, 'order_update');
      assert.equal(t.language.code, 'en_US');
      assert.deepEqual(t.components, [{ type: 'body', parameters: [{ type: 'text', text: 'A-42' }] }]);
      // An agent's plain reply outside the window is dropped quietly (nothing to send), not an error loop.
      assert.equal(out.filter((m) => m.type === 'text').length, 0);
    });

    test('Meta refusing a send with 131047 fails the message with a window explanation, without retrying', async () => {
      const { from, conv } = await inbound('hello');
      graph.closeWindow(from);
      const r = await send(s, instanceId, conv.id, { text: 'blocked' });
      const m = await messageReaches(s, instanceId, r.body.id, 'failed');
      assert.equal(m.error.code, '131047');
      assert.match(m.error.message, /template message is required/);
      assert.equal(graph.requests.filter((q) => (q.body as any)?.text?.body === 'blocked').length, 1);
      assert.equal((await channelView(s, instanceId, channel.id)).status, 'active');
    });

    test('a timeout (unknown outcome) leaves the message failed, "may or may not have delivered", and never sends it again', async () => {
      const { from, conv } = await inbound('hello');
      s.services.contexts.timeoutMs = 400;
      try {
        graph.failNext({ timeoutMs: 1200, match: '/messages' }); // held, then processed: Meta did send it
        const r = await send(s, instanceId, conv.id, { text: 'maybe' });
        const m = await messageReaches(s, instanceId, r.body.id, 'failed');
        assert.equal(m.error.kind, 'unknown_outcome');
        assert.match(m.error.message, /may or may not have delivered/);
        await statusEvent(agent, r.body.id, 'failed');
        await sleep(1500);
        assert.equal(graph.requests.filter((q) => (q.body as any)?.text?.body === 'maybe').length, 1, 'no second attempt');
        assert.equal(graph.sentMessages(from).filter((x) => x.text === 'maybe').length, 1, 'the late send is the only one');
        assert.equal((await messageView(s, instanceId, r.body.id)).status, 'failed');
      } finally {
        s.services.contexts.timeoutMs = 15_000;
      }
    });
  });
}
