/**
 * Telegram round trip through real HTTP: a signed update in, the agent's Markdown answer out as
 * Telegram HTML to the fake Bot API; 429 honoured; a revoked token puts the channel in error and
 * the next success clears it; Idempotency-Key never sends twice; a group that became a supergroup
 * still gets the answer (migrate_to_chat_id followed).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeTelegram, type FakeTelegram } from '../../../fakes/telegram.js';
import { startFakeAgent, type FakeAgent } from '../../inbound/fake-agent.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { storeKinds } from '../../helpers/stores.js';
import { messageReaches, until } from '../../outbound/helpers.js';

for (const kind of storeKinds()) {
  describe(`telegram outbound on ${kind}`, () => {
    let s: TestServer;
    let tg: FakeTelegram;
    let agent: FakeAgent;
    let instanceId: string;
    let channel: any;
    const SECRET = 'tg-secret_123';
    let updateId = 1000;

    async function inbound(chatId: number, text: string) {
      const r = await fetch(channel.webhook_url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        body: JSON.stringify({ update_id: ++updateId, message: { message_id: updateId, date: 1_700_000_000, chat: { id: chatId, type: 'private' }, from: { id: chatId, is_bot: false, first_name: 'Ada' }, text } }),
      });
      assert.equal(r.status, 200);
    }

    before(async () => {
      tg = await startFakeTelegram();
      agent = await startFakeAgent();
      s = await startServer(kind, { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_TELEGRAM_API_URL: tg.url }, services: { sendScheduleMs: [50, 50, 50] } });
      const inst = await s.api('POST', '/v1/instances', { name: 'tg', agent_url: agent.url });
      instanceId = inst.body.id;
      agent.secret = inst.body.signing_secret;
      const conn = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'telegram', secrets: { bot_token: tg.token } });
      channel = (await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: 'switchboard_test_bot', connection_id: conn.body.id, webhook_secret: SECRET })).body;
    });
    after(async () => {
      await s.close();
      await tg.close();
      await agent.close();
    });

    test("the agent's Markdown reply goes out once, as Telegram HTML, and its status reaches the agent", async () => {
      agent.script = (d) => (d.body.type === 'message.received' ? { json: { reply: { text: 'Hello **Ada** <3 & welcome' } } } : { json: {} });
      await inbound(501, 'hi');
      const sent = await until(() => tg.sentMessages(501)[0], 'the reply');
      assert.equal(sent.text, 'Hello <b>Ada</b> &lt;3 &amp; welcome');
      assert.equal(sent.parse_mode, 'HTML');
      const status = await until(() => agent.accepted().find((d) => d.body.type === 'message.status' && d.body.data.status === 'sent'), 'the sent status event');
      assert.equal(status.verified, true);
      const msg = await s.api('GET', `/v1/instances/${instanceId}/messages/${status.body.data.message_id}`);
      assert.equal(msg.body.status, 'sent');
      assert.equal(msg.body.provider_message_id, String(sent.message_id));
      assert.equal(tg.sentMessages(501).length, 1);
    });

    test('a long answer is split at the limit, in order, every chunk within 4096 characters', async () => {
      const para = 'word '.repeat(300).trim();
      const text = Array.from({ length: 12 }, (_, i) => `Paragraph ${i}: ${para}`).join('\n\n');
      agent.script = (d) => (d.body.type === 'message.received' ? { json: { reply: { text } } } : { json: {} });
      await inbound(502, 'tell me everything');
      await until(() => agent.accepted().find((d) => d.body.type === 'message.status' && d.body.conversation_id && d.body.data.chunks > 1), 'a multi-chunk send');
      const chunks = tg.sentMessages(502);
      assert.ok(chunks.length >= 4);
      for (const c of chunks) assert.ok(c.text.length <= 4096);
      assert.equal(chunks.map((c) => c.text).join('\n\n').replace(/\s+/g, ' '), text.replace(/\s+/g, ' '));
    });

    test('Idempotency-Key: the same key never sends twice', async () => {
      agent.script = () => ({ json: {} });
      await inbound(503, 'hello');
      const conv = await until(async () => (await s.api('GET', `/v1/instances/${instanceId}/conversations`)).body.conversations.find((c: any) => c.key === '503'), 'the conversation');
      const path = `/v1/instances/${instanceId}/conversations/${conv.id}/messages`;
      const a = await s.api('POST', path, { text: 'once' }, undefined, { 'idempotency-key': 'k-1' });
      const b = await s.api('POST', path, { text: 'once' }, undefined, { 'idempotency-key': 'k-1' });
      assert.equal(a.status, 202);
      assert.equal(b.status, 202);
      assert.equal(a.body.id, b.body.id);
      assert.equal(b.headers.get('idempotent-replayed'), 'true');
      await until(() => tg.sentMessages(503).find((m) => m.text === 'once'), 'the message');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(tg.sentMessages(503).filter((m) => m.text === 'once').length, 1);
    });

    test('attachments go out one message each, the text as the first one\'s caption: images as photos, others as documents', async () => {
      await inbound(506, 'send me files');
      const conv = await until(async () => (await s.api('GET', `/v1/instances/${instanceId}/conversations`)).body.conversations.find((c: any) => c.key === '506'), 'the conversation');
      const r = await s.api('POST', `/v1/instances/${instanceId}/conversations/${conv.id}/messages`, { text: 'Here you go', attachments: [{ url: 'https://files.example.com/cat.png', kind: 'image' }, { url: 'https://files.example.com/terms.pdf', file_name: 'terms.pdf' }] });
      assert.equal(r.status, 202);
      const sent = await until(() => (tg.sentMessages(506).length >= 2 ? tg.sentMessages(506) : undefined), 'two messages');
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(tg.sentMessages(506).map((m) => [m.kind, m.text, m.media]), [
        ['photo', 'Here you go', 'https://files.example.com/cat.png'],
        ['document', '', 'https://files.example.com/terms.pdf'],
      ]);
      assert.equal(sent.length, 2);
    });

    test('429 with retry_after is honoured: the message waits and then goes out', async () => {
      await inbound(504, 'hello');
      const conv = await until(async () => (await s.api('GET', `/v1/instances/${instanceId}/conversations`)).body.conversations.find((c: any) => c.key === '504'), 'the conversation');
      tg.failNext({ status: 429, retryAfter: 1, match: 'sendMessage' });
      const r = await s.api('POST', `/v1/instances/${instanceId}/conversations/${conv.id}/messages`, { text: 'patience' });
      const sent = await until(() => tg.sentMessages(504).find((m) => m.text === 'patience'), 'the delayed message');
      const attempts = tg.requests.filter((q) => q.path.endsWith('/sendMessage') && String((q.body as any)?.text) === 'patience');
      assert.equal(attempts.length, 2, 'one refused attempt, one accepted');
      assert.ok(attempts[1].receivedAt - attempts[0].receivedAt >= 900, 'the retry waited for retry_after');
      // The fake records the request before Switchboard has read its answer and stored 'sent'.
      await messageReaches(s, instanceId, r.body.id, 'sent');
      assert.ok(sent);
    });

    test('a revoked token (401) sets the channel to error and tells the agent; the next success clears it', async () => {
      await inbound(505, 'hello');
      const conv = await until(async () => (await s.api('GET', `/v1/instances/${instanceId}/conversations`)).body.conversations.find((c: any) => c.key === '505'), 'the conversation');
      const path = `/v1/instances/${instanceId}/conversations/${conv.id}/messages`;
      tg.failNext({ status: 401, match: 'sendMessage' });
      const bad = await s.api('POST', path, { text: 'will fail' });
      await until(async () => (await s.api('GET', `/v1/instances/${instanceId}/messages/${bad.body.id}`)).body.status === 'failed', 'the failed status');
      const ch = (await s.api('GET', `/v1/instances/${instanceId}/channels`)).body.channels.find((c: any) => c.id === channel.id);
      assert.equal(ch.status, 'error');
      assert.match(ch.error_message, /Telegram refused the channel's credentials \(401\)/);
      await until(() => agent.accepted().find((d) => d.body.type === 'channel.error'), 'the channel.error event');
      await s.api('POST', path, { text: 'works again' });
      await until(() => tg.sentMessages(505).find((m) => m.text === 'works again'), 'the next message');
      await until(async () => (await s.api('GET', `/v1/instances/${instanceId}/channels`)).body.channels.find((c: any) => c.id === channel.id && c.status === 'active' && c.error_message === null), 'recovery');
    });

    test('a group upgraded to a supergroup: the answer follows migrate_to_chat_id to the new chat, once', async () => {
      await inbound(-4001, 'hello from the group');
      const conv = await until(async () => (await s.api('GET', `/v1/instances/${instanceId}/conversations`)).body.conversations.find((c: any) => c.key === '-4001'), 'the group conversation');
      tg.migrateChat(-4001, -1009990004001);
      const sent = await s.api('POST', `/v1/instances/${instanceId}/conversations/${conv.id}/messages`, { text: 'answer after the **upgrade**' });
      assert.equal(sent.status, 202, JSON.stringify(sent.body));
      await until(async () => (await s.api('GET', `/v1/instances/${instanceId}/messages/${sent.body.id}`)).body.status === 'sent', 'the sent status');
      assert.deepEqual(tg.sentMessages(-1009990004001).map((m) => m.text), ['answer after the <b>upgrade</b>']);
      assert.equal(tg.sentMessages(-4001).length, 0);
    });
  });
}
