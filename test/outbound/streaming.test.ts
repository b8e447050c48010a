/**
 * Streamed agent answers: Telegram private chats see a growing draft and then one real message;
 * a group chat (no drafts) gets the final text only; web chat with the built-in echo agent
 * streams and stores the final answer. Each answer is sent once. A stream can end the turn as a
 * JSON reply can: close (a `close` frame, or the AI SDK's `data-switchboard` part from a real
 * `createUIMessageStream`) and handoff (`event: handoff`), applied after the text is sent; a
 * stream cut midway keeps its handoff but not its close.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startFakeTelegram, type FakeTelegram } from '../../fakes/telegram.js';
import { startFakeAgent, type FakeAgent } from '../inbound/fake-agent.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';
import { conversationByKey, until } from './helpers.js';
import { createUIMessageStream, createUIMessageStreamResponse } from 'ai';
import { agentDeltas, answerParts, streamParts } from '../../src/core/outbound/agent-stream.js';

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
  test('close and handoff frames: beside a delta, on their own, as named events, on the done frame, as an AI SDK data part', async () => {
    const enc = new TextEncoder();
    const parts = async (chunks: string[]) => {
      async function* src() {
        for (const c of chunks) yield enc.encode(c);
      }
      const out: unknown[] = [];
      for await (const p of streamParts(src(), 'text/event-stream')) out.push(p);
      return out;
    };
    assert.deepEqual(await parts(['data: {"delta":"Bye","close":true}\n\n']), [{ text: 'Bye' }, { close: true }]);
    assert.deepEqual(await parts(['data: {"delta":"One moment"}\n\n', 'data: {"handoff":{"reason":"refund over limit"}}\n\n']), [{ text: 'One moment' }, { handoff: { reason: 'refund over limit' } }]);
    assert.deepEqual(await parts(['data: {"handoff":true}\n\n']), [{ handoff: {} }]);
    assert.deepEqual(await parts(['event: handoff\ndata: {"reason":"angry"}\n\n', 'event: close\n\n']), [{ handoff: { reason: 'angry' } }, { close: true }]);
    assert.deepEqual(await parts(['data: hi\n\n', 'event: done\ndata: {"close":true}\n\n', 'data: {"delta":"late"}\n\n']), [{ text: 'hi' }, { close: true }]);
    assert.deepEqual(await parts(['data: {"type":"data-switchboard","data":{"close":true,"handoff":{"reason":"x"}}}\n\n', 'data: [DONE]\n\n']), [{ handoff: { reason: 'x' } }, { close: true }]);
    // Not asked: close must be true, handoff an object or true.
    assert.deepEqual(await parts(['data: {"close":"yes","handoff":false}\n\n']), []);
    // Thinking is not the answer: AI SDK reasoning parts and OpenAI Responses reasoning events are skipped, their text siblings kept.
    assert.deepEqual(await parts([
      'data: {"type":"reasoning-delta","id":"r","delta":"hmm"}\n\n',
      'data: {"type":"response.reasoning_summary_text.delta","delta":"hmm"}\n\n',
      'data: {"type":"response.output_text.delta","delta":"Hi"}\n\n',
      'data: {"type":"text-delta","id":"t","delta":"!"}\n\n',
    ]), [{ text: 'Hi' }, { text: '!' }]);
    // Chunked text cannot carry them: a "close" in the text is text.
    async function* plain() {
      yield enc.encode('{"close": true}');
    }
    const out: unknown[] = [];
    for await (const p of streamParts(plain(), 'text/plain')) out.push(p);
    assert.deepEqual(out, [{ text: '{"close": true}' }]);
    // Voice readers (no controls option) never see them.
    async function* sse() {
      yield enc.encode('data: {"delta":"x","close":true}\n\nevent: handoff\n\n');
    }
    const voice: unknown[] = [];
    for await (const p of answerParts(sse(), 'text/event-stream')) voice.push(p);
    assert.deepEqual(voice, [{ text: 'x' }]);
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

    const events = async () => (await s.api('GET', `/v1/instances/${instanceId}/events?after=0&limit=500`)).body.events as any[];
    const conversation = async (key: string) => {
      const c = await conversationByKey(s, instanceId, key);
      return (await s.api('GET', `/v1/instances/${instanceId}/conversations/${c.id}`)).body;
    };
    /** A real AI SDK UI message stream (createUIMessageStream), as bytes an agent would send. */
    const aiSdkStream = async (words: string[], data: Record<string, unknown>): Promise<string[]> => {
      const stream = createUIMessageStream({
        execute: ({ writer }) => {
          // A reasoning model's thinking comes first (sendReasoning): never shown to the person.
          writer.write({ type: 'reasoning-start', id: 'r' });
          writer.write({ type: 'reasoning-delta', id: 'r', delta: 'The user wants to leave; be brief. ' });
          writer.write({ type: 'reasoning-end', id: 'r' });
          writer.write({ type: 'text-start', id: 't' });
          for (const w of words) writer.write({ type: 'text-delta', id: 't', delta: w });
          writer.write({ type: 'text-end', id: 't' });
          writer.write({ type: 'data-switchboard', data });
        },
      });
      const res = createUIMessageStreamResponse({ stream });
      assert.equal(res.headers.get('content-type'), 'text/event-stream');
      return (await res.text()).split(/(?<=\n\n)/);
    };

    test('a stream that ends with a close frame: the answer is sent, then the conversation closes; the next message opens a new one', async () => {
      agent.script = (d) =>
        d.body.type === 'message.received' && d.body.data.text === 'bye'
          ? { contentType: 'text/event-stream', chunks: ['data: {"delta":"Goodbye, "}\n\n', 'data: {"delta":"take care."}\n\n', 'data: {"close":true}\n\n', 'data: [DONE]\n\n'], chunkDelayMs: 30 }
          : { json: {} };
      await inbound(9101, 'private', 'bye');
      await until(() => tg.sentMessages(9101).find((m) => m.text === 'Goodbye, take care.'), 'the goodbye');
      const closed = await until(async () => {
        const c = await conversation('9101');
        return c.status === 'closed' && c;
      }, 'the conversation closed');
      const ev = await until(async () => (await events()).find((e) => e.type === 'conversation.closed' && e.conversation_id === closed.id), 'conversation.closed');
      assert.deepEqual(ev.data.by, { kind: 'agent' });
      // The answer was stored before the close and is the conversation's last message.
      const hist = (await s.api('GET', `/v1/instances/${instanceId}/conversations/${closed.id}/messages?order=desc&limit=1`)).body.messages;
      assert.equal(hist[0].text, 'Goodbye, take care.');
      assert.equal(hist[0].author.kind, 'agent');
      agent.script = () => ({ json: {} });
      await inbound(9101, 'private', 'hello again');
      const next = await until(async () => (await s.api('GET', `/v1/instances/${instanceId}/conversations?status=open`)).body.conversations.find((c: any) => c.key === '9101'), 'a new conversation');
      assert.notEqual(next.id, closed.id);
    });

    test('a real AI SDK UI message stream closes the conversation with a data-switchboard part', async () => {
      const chunks = await aiSdkStream(['All ', 'done ', 'here.'], { close: true });
      agent.script = (d) => (d.body.type === 'message.received' && d.body.data.text === 'ai sdk bye' ? { contentType: 'text/event-stream', chunks, chunkDelayMs: 20 } : { json: {} });
      await inbound(9102, 'private', 'ai sdk bye');
      await until(() => tg.sentMessages(9102).find((m) => m.text === 'All done here.'), 'the answer');
      await until(async () => (await conversation('9102')).status === 'closed', 'the conversation closed');
      assert.ok(!tg.sentMessages(9102).some((m) => String(m.text).includes('be brief')), 'no reasoning sent');
      assert.ok(!tg.drafts(9102).some((m) => String(m.text).includes('be brief')), 'no reasoning in the drafts');
    });

    test('a stream that ends with event: handoff hands the conversation to humans with its reason, after the answer', async () => {
      agent.script = (d) =>
        d.body.type === 'message.received' && d.body.data.text === 'refund please'
          ? { contentType: 'text/event-stream', chunks: ['data: {"delta":"Let me get a colleague."}\n\n', 'event: handoff\ndata: {"reason":"refund over the limit","assignee":"billing"}\n\n', 'event: done\n\n'], chunkDelayMs: 30 }
          : { json: {} };
      await inbound(9103, 'private', 'refund please');
      await until(() => tg.sentMessages(9103).find((m) => m.text === 'Let me get a colleague.'), 'the answer');
      const c = await until(async () => {
        const v = await conversation('9103');
        return v.mode === 'human' && v;
      }, 'mode human');
      assert.equal(c.mode_reason, 'refund over the limit');
      assert.equal(c.assignee, 'billing');
      assert.equal(c.status, 'open');
      const ev = await until(async () => (await events()).find((e) => e.type === 'conversation.handoff' && e.conversation_id === c.id), 'conversation.handoff');
      assert.equal(ev.data.reason, 'refund over the limit');
      assert.deepEqual(ev.data.by, { kind: 'agent' });
    });

    test('a JSON reply names who takes over: handoff.assignee becomes the assignee', async () => {
      agent.script = (d) => (d.body.type === 'message.received' && d.body.data.text === 'json handoff' ? { json: { reply: { text: 'Passing you on.', handoff: { reason: 'vip', assignee: 'Kim' } } } } : { json: {} });
      await inbound(9104, 'private', 'json handoff');
      await until(() => tg.sentMessages(9104).find((m) => m.text === 'Passing you on.'), 'the answer');
      const c = await until(async () => {
        const v = await conversation('9104');
        return v.mode === 'human' && v;
      }, 'mode human');
      assert.equal(c.assignee, 'Kim');
      assert.equal(c.mode_reason, 'vip');
    });

    test('a stream cut midway: its handoff still stands, its close does not; the partial answer is failed, not sent', async () => {
      agent.script = (d) =>
        d.body.type === 'message.received' && d.body.data.text === 'cut with handoff'
          ? { contentType: 'text/event-stream', chunks: ['data: {"handoff":{"reason":"needs a human"},"close":true}\n\n', 'data: {"delta":"Half an"}\n\n'], chunkDelayMs: 30, cut: true }
          : { json: {} };
      await inbound(-5102, 'group', 'cut with handoff');
      const c = await until(async () => {
        const v = await conversation('-5102');
        return v.mode === 'human' && v;
      }, 'mode human');
      assert.equal(c.mode_reason, 'needs a human');
      assert.equal(c.status, 'open', 'not closed on half an answer');
      const failed = await until(async () => (await s.api('GET', `/v1/instances/${instanceId}/conversations/${c.id}/messages`)).body.messages.find((m: any) => m.direction === 'outbound' && m.status === 'failed'), 'the failed answer');
      assert.equal(failed.status_reason, 'agent_stream_broken');
      assert.equal(failed.text, 'Half an');
      assert.equal(tg.sentMessages(-5102).length, 0);
    });
  });
}
