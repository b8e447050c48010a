/**
 * No answer is lost without a word (docs/delivery.md): a slow JSON answer within the
 * time-to-first-byte limit reaches the person with one agent call; an agent that never starts
 * answering, a stream cut midway and a stream gone quiet each leave a failed message with its
 * reason, a message.status event and a warning in the log; an agent's JSON reply outside
 * WhatsApp's window is stored as failed and evented; after Meta's 131047 the next free-form send
 * is refused 409 up front (until the person writes again).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startFakeTelegram, type FakeTelegram } from '../../fakes/telegram.js';
import { startFakeGraph, type FakeGraph } from '../../fakes/graph.js';
import { startFakeAgent, type FakeAgent } from '../inbound/fake-agent.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';
import { ageConversation, conversationByKey, messageView, send, statusEvent, until } from './helpers.js';

const SECRET = 'answers-secret';

for (const kind of storeKinds()) {
  describe(`answers that cannot reach the person, on ${kind}`, () => {
    let s: TestServer;
    let tg: FakeTelegram;
    let graph: FakeGraph;
    let agent: FakeAgent;
    let instanceId: string;
    let channel: any;
    let wa: any;
    const appSecret = 'meta-app-secret-' + randomBytes(6).toString('hex');
    let updateId = 100;

    async function inbound(chatId: number, text: string) {
      const r = await fetch(channel.webhook_url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        body: JSON.stringify({ update_id: ++updateId, message: { message_id: updateId, date: Math.floor(Date.now() / 1000), chat: { id: chatId, type: 'private' }, from: { id: chatId, is_bot: false, first_name: 'Ada' }, text } }),
      });
      assert.equal(r.status, 200);
    }

    /** The failed outbound message of conversation `key`, once stored. */
    async function failedAnswer(key: string): Promise<any> {
      const conv = await conversationByKey(s, instanceId, key);
      return until(async () => (await s.api('GET', `/v1/instances/${instanceId}/conversations/${conv.id}/messages`)).body.messages.find((m: any) => m.direction === 'outbound' && m.status === 'failed'), `the failed answer in ${key}`);
    }

    const warned = (messageId: string) => s.logs.some((l) => l.includes('"level":40') && l.includes(messageId));

    before(async () => {
      tg = await startFakeTelegram();
      graph = await startFakeGraph();
      agent = await startFakeAgent();
      s = await startServer(kind, { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_TELEGRAM_API_URL: tg.url, SWITCHBOARD_META_GRAPH_URL: graph.baseUrl } });
      // The instance keeps the default limits (120 s to the first byte, 60 s idle).
      const inst = await s.api('POST', '/v1/instances', { name: 'answers', agent_url: agent.url });
      assert.equal(inst.status, 201, inst.text);
      assert.equal(inst.body.agent_first_byte_timeout_ms, 120_000);
      assert.equal(inst.body.agent_idle_timeout_ms, 60_000);
      instanceId = inst.body.id;
      agent.secret = inst.body.signing_secret;
      const conn = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'telegram', secrets: { bot_token: tg.token } });
      channel = (await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: 'switchboard_test_bot', connection_id: conn.body.id, webhook_secret: SECRET })).body;
      const waConn = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'meta_cloud', secrets: { access_token: graph.accessToken, app_secret: appSecret } });
      wa = (await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: '+15550000000', connection_id: waConn.body.id, config: { phone_number_id: graph.phoneNumberId } })).body;
      assert.equal(wa.status, 'pending');
    });
    after(async () => {
      await s.close();
      await tg.close();
      await graph.close();
      await agent.close();
    });

    test('a 5,000-character JSON answer that takes 15 s reaches the person; the agent is called once', { timeout: 60_000 }, async () => {
      const answer = Array.from({ length: 120 }, (_, i) => `Sentence ${String(i).padStart(3, '0')} of a long and careful answer.`).join(' ');
      assert.ok(answer.length >= 5000, `${answer.length} characters`);
      agent.script = (d) => (d.body.type === 'message.received' && d.body.data.text === 'slow please' ? { delayMs: 15_000, json: { reply: { text: answer } } } : { json: {} });
      await inbound(7001, 'slow please');
      const parts = await until(() => {
        const out = tg.sentMessages(7001);
        return out.length >= 2 && out.map((m) => m.text).join(' ').length >= answer.length - 10 ? out : undefined;
      }, 'the whole answer at the person', 40_000);
      assert.equal(parts.map((m) => m.text).join(' ').replace(/\s+/g, ' '), answer);
      const calls = agent.deliveries.filter((d) => d.body?.type === 'message.received' && d.body.data.text === 'slow please');
      assert.equal(calls.length, 1, 'called once');
      assert.equal(calls[0].headers['webhook-attempt'], '1');
    });

    test('no first byte within the instance limit: the answer is failed (agent_timeout), evented, logged; the agent is not called again', async () => {
      await s.api('PATCH', `/v1/instances/${instanceId}`, { agent_first_byte_timeout_ms: 1000 });
      try {
        agent.script = (d) => (d.body.type === 'message.received' && d.body.data.text === 'never mind' ? { delayMs: 2500, json: { reply: { text: 'too late' } } } : { json: {} });
        await inbound(7002, 'never mind');
        const m = await failedAnswer('7002');
        assert.equal(m.status_reason, 'agent_timeout');
        assert.match(m.error.message, /no response within 1000 ms/);
        const ev = await statusEvent(agent, m.id, 'failed');
        assert.equal(ev.body.data.status_reason, 'agent_timeout');
        assert.ok(warned(m.id), 'a warning names the message');
        // Let the slow agent finish: its late answer is not sent, and it was called only once.
        await until(() => agent.deliveries.filter((d) => d.body?.data?.text === 'never mind').length === 1 && Date.now(), 'the single call');
        await new Promise((r) => setTimeout(r, 2000));
        assert.equal(agent.deliveries.filter((d) => d.body?.data?.text === 'never mind').length, 1);
        assert.equal(tg.sentMessages(7002).length, 0);
      } finally {
        await s.api('PATCH', `/v1/instances/${instanceId}`, { agent_first_byte_timeout_ms: null });
      }
      assert.equal((await s.api('GET', `/v1/instances/${instanceId}`)).body.agent_first_byte_timeout_ms, 120_000);
    });

    test('a stream cut midway: nothing half-sent, a failed message with the partial text, a message.status event, a warning', async () => {
      const words = 'This answer will be cut off in the middle of'.split(' ');
      agent.script = (d) => (d.body.type === 'message.received' && d.body.data.text === 'cut me' ? { contentType: 'text/event-stream', chunks: words.map((w, i) => `data: ${JSON.stringify({ delta: (i ? ' ' : '') + w })}\n\n`), chunkDelayMs: 100, cut: true } : { json: {} });
      await inbound(7003, 'cut me');
      const m = await failedAnswer('7003');
      assert.equal(m.status_reason, 'agent_stream_broken');
      assert.equal(m.text, words.join(' '));
      const ev = await statusEvent(agent, m.id, 'failed');
      assert.equal(ev.body.data.status_reason, 'agent_stream_broken');
      assert.ok(warned(m.id));
      assert.ok(tg.drafts(7003).length >= 1, 'the person saw the draft while it streamed');
      assert.equal(tg.sentMessages(7003).length, 0, 'no half answer sent');
    });

    test('a stream gone quiet longer than the idle limit is failed (agent_timeout)', async () => {
      await s.api('PATCH', `/v1/instances/${instanceId}`, { agent_idle_timeout_ms: 1000 });
      try {
        agent.script = (d) => (d.body.type === 'message.received' && d.body.data.text === 'pause' ? { contentType: 'text/event-stream', chunks: ['data: {"delta":"Thinking"}\n\n', 'data: {"delta":" more"}\n\n'], chunkDelayMs: 2500 } : { json: {} });
        await inbound(7004, 'pause');
        const m = await failedAnswer('7004');
        assert.equal(m.status_reason, 'agent_timeout');
        assert.match(m.error.message, /quiet for 1000 ms/);
        assert.equal(m.text, 'Thinking');
        await statusEvent(agent, m.id, 'failed');
        await until(() => agent.deliveries.find((d) => d.body?.data?.text === 'pause')?.closedEarly, 'the agent request closed');
      } finally {
        await s.api('PATCH', `/v1/instances/${instanceId}`, { agent_idle_timeout_ms: null });
      }
    });

    test("an agent's JSON reply outside WhatsApp's 24-hour window: a failed message (whatsapp_window_closed) and a message.status event", async () => {
      const from = '4915100007005';
      agent.script = async (d) => {
        if (d.body.type !== 'message.received' || d.body.data.text !== 'late reply') return { json: {} };
        await ageConversation(s, d.body.conversation_id, 25); // the agent took a day
        return { json: { reply: { text: 'Here you go' } } };
      };
      const { payload } = graph.inboundText({ from, text: 'late reply' });
      assert.equal(await graph.deliverWebhook(wa.webhook_url, payload, appSecret), 200);
      const m = await failedAnswer(from);
      assert.equal(m.status_reason, 'whatsapp_window_closed');
      assert.equal(m.text, 'Here you go');
      assert.match(m.error.message, /24-hour/);
      const ev = await statusEvent(agent, m.id, 'failed');
      assert.equal(ev.body.data.status_reason, 'whatsapp_window_closed');
      assert.ok(warned(m.id));
      assert.equal(graph.sentMessages(from).length, 0);
    });

    test('after a real 131047 the next free-form send answers 409 up front; a new message from the person reopens it', async () => {
      const from = '4915100007006';
      agent.script = () => ({ json: {} });
      const first = graph.inboundText({ from, text: 'hello' });
      assert.equal(await graph.deliverWebhook(wa.webhook_url, first.payload, appSecret), 200);
      const conv = await conversationByKey(s, instanceId, from);
      graph.closeWindow(from);
      const r = await send(s, instanceId, conv.id, { text: 'blocked' });
      const failed = await until(async () => ((await messageView(s, instanceId, r.body.id)).status === 'failed' ? messageView(s, instanceId, r.body.id) : undefined), 'the 131047 failure');
      assert.equal(failed.status_reason, 'whatsapp_window_closed');
      assert.equal(failed.error.code, '131047');
      const refused = await send(s, instanceId, conv.id, { text: 'again' }, undefined, 409);
      assert.match(refused.body.detail, /24-hour/);
      assert.equal(graph.requests.filter((q) => (q.body as any)?.text?.body === 'again').length, 0, 'not even tried');
      // A template is still allowed.
      await send(s, instanceId, conv.id, { template: { name: 'hello_world', language: 'en_US' } });

      graph.openWindow(from);
      await new Promise((r2) => setTimeout(r2, 1100)); // the new message is stamped after the refusal (1 s clock)
      const second = graph.inboundText({ from, text: 'back again' });
      assert.equal(await graph.deliverWebhook(wa.webhook_url, second.payload, appSecret), 200);
      await until(async () => (await s.api('GET', `/v1/instances/${instanceId}/conversations/${conv.id}/messages`)).body.messages.some((m: any) => m.text === 'back again'), 'the new inbound message');
      await send(s, instanceId, conv.id, { text: 'welcome back' });
    });
  });
}
