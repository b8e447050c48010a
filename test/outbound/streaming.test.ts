/**
 * Streamed agent answers: Telegram private chats see a growing draft and then one real message;
 * a group chat (no drafts) gets the final text only; web chat with the built-in echo agent
 * streams and stores the final answer. Each answer is sent once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startFakeTelegram, type FakeTelegram } from '../../fakes/telegram.js';
import { startFakeAgent, type FakeAgent } from '../inbound/fake-agent.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';
import { until } from './helpers.js';
import { agentDeltas } from '../../src/core/outbound/agent-stream.js';

async function collect(chunks: string[], type: string): Promise<string[]> {
  const enc = new TextEncoder();
  async function* src() {
    for (const c of chunks) yield enc.encode(c);
  }
  const out: string[] = [];
  for await (const d of agentDeltas(src(), type)) out.push(d);
  return out;
}

describe('agent stream parsing', () => {
  test('SSE with JSON deltas, split across chunks, ending at [DONE]', async () => {
    const out = await collect(['data: {"delta":"Hel', 'lo"}\n\n', ': comment\n\ndata: {"delta":" world"}\r\n\r\n', 'data: [DONE]\n\n', 'data: {"delta":"ignored"}\n\n'], 'text/event-stream');
    assert.deepEqual(out, ['Hello', ' world']);
  });
  test('SSE with plain data lines and event: done', async () => {
    assert.deepEqual(await collect(['data: one\n\n', 'data: two\n\n', 'event: done\ndata: x\n\n'], 'text/event-stream; charset=utf-8'), ['one', 'two']);
  });
  test('chunked text/plain passes through, multi-byte characters intact', async () => {
    const bytes = new TextEncoder().encode('héllo 👋');
    async function* src() {
      for (const b of bytes) yield new Uint8Array([b]);
    }
    let s = '';
    for await (const d of agentDeltas(src(), 'text/plain')) s += d;
    assert.equal(s, 'héllo 👋');
  });
});

for (const kind of storeKinds()) {
  describe(`streaming on ${kind}`, () => {
    let s: TestServer;
    let tg: FakeTelegram;
    let agent: FakeAgent;
    let instanceId: string;
    let channel: any;
    const SECRET = 'stream-secret';
    let updateId = 1;

    async function inbound(chatId: number, type: 'private' | 'group', text: string) {
      const r = await fetch(channel.webhook_url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        body: JSON.stringify({ update_id: ++updateId, message: { message_id: updateId, date: 1_700_000_000, chat: { id: chatId, type }, from: { id: 77, is_bot: false, first_name: 'Bo' }, text } }),
      });
      assert.equal(r.status, 200);
    }

    before(async () => {
      tg = await startFakeTelegram();
      agent = await startFakeAgent();
      s = await startServer(kind, { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_TELEGRAM_API_URL: tg.url } });
      const inst = await s.api('POST', '/v1/instances', { name: 'stream', agent_url: agent.url });
      instanceId = inst.body.id;
      agent.secret = inst.body.signing_secret;
      const conn = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'telegram', secrets: { bot_token: tg.token } });
      channel = (await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: 'switchboard_test_bot', connection_id: conn.body.id, webhook_secret: SECRET })).body;
      const words = 'The answer **grows** word by word until it is complete.'.split(' ');
      agent.script = (d) => (d.body.type === 'message.received' ? { contentType: 'text/event-stream', chunks: words.map((w, i) => `data: ${JSON.stringify({ delta: (i ? ' ' : '') + w })}\n\n`), chunkDelayMs: 120 } : { json: {} });
    });
    after(async () => {
      await s.close();
      await tg.close();
      await agent.close();
    });

    test('a private Telegram chat sees typing, a growing draft, then one final message', async () => {
      await inbound(9001, 'private', 'explain');
      const final = await until(() => tg.sentMessages(9001)[0], 'the final message');
      assert.equal(final.text, 'The answer <b>grows</b> word by word until it is complete.');
      const drafts = tg.drafts(9001);
      assert.ok(drafts.length >= 2, `expected several draft updates, got ${drafts.length}`);
      assert.ok(drafts[0].text.length < final.text.length, 'the first draft shows part of the answer');
      assert.ok(tg.chatActions().some((a) => a.chat_id === '9001' && a.action === 'typing'));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(tg.sentMessages(9001).length, 1);
    });

    test('a group chat (no drafts) gets the final text once', async () => {
      await inbound(-5001, 'group', 'explain');
      const final = await until(() => tg.sentMessages(-5001)[0], 'the final message');
      assert.equal(final.text, 'The answer <b>grows</b> word by word until it is complete.');
      assert.equal(tg.drafts(-5001).length, 0);
    });

    test('web chat with the built-in echo agent stores the streamed answer', async () => {
      const inst = await s.api('POST', '/v1/instances', { name: 'echo', agent_url: 'builtin:echo' });
      const ch = await s.api('POST', `/v1/instances/${inst.body.id}/channels`, { channel_type: 'web_chat', provider: 'web', external_identifier: `echo-${kind}`, webhook_secret: 'echo-secret' });
      assert.equal(ch.status, 201);
      const sig = createHmac('sha256', 'echo-secret').update('visitor-1').digest('hex');
      // Visitors write through the widget routes only (the raw webhook URL refuses web channels).
      const session = await s.api('POST', `/v1/webchat/${ch.body.id}/session`, { visitor_id: 'visitor-1', visitor_signature: sig }, null);
      assert.equal(session.status, 200, session.text);
      const r = await s.api('POST', `/v1/webchat/${ch.body.id}/messages`, { visitor_id: 'visitor-1', token: session.body.token, text: 'ping', client_message_id: 'c1' }, null);
      assert.equal(r.status, 202, r.text);
      const conv = await until(async () => (await s.api('GET', `/v1/instances/${inst.body.id}/conversations`)).body.conversations[0], 'the conversation');
      const out = await until(async () => (await s.api('GET', `/v1/instances/${inst.body.id}/conversations/${conv.id}/messages`)).body.messages.find((m: any) => m.direction === 'outbound' && m.status === 'delivered'), 'the echo answer');
      assert.match(out.text, /^You said: “ping”/);
    });
  });
}
