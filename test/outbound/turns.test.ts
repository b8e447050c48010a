/**
 * Turn control per channel (config.turns, docs/delivery.md), with three quick messages:
 * - queue (default): three events, three answers, in order;
 * - burst: one event carrying data.messages[] (media kept), one answer;
 * - supersede: the running answer is aborted (the agent sees its request close and a failed
 *   message.status with agent_superseded) and the last event carries every message it missed.
 * On PostgreSQL also across two nodes: one node takes the webhooks, the other runs the deliveries.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startFakeTelegram, type FakeTelegram } from '../../fakes/telegram.js';
import { startFakeAgent, type FakeAgent } from '../inbound/fake-agent.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { freshStore, PG_URL, releaseStore, storeKinds, type StoreKind } from '../helpers/stores.js';
import { sleep, until } from './helpers.js';

const SECRET = 'turns-secret';

interface Rig {
  /** Takes the webhooks. */
  front: TestServer;
  /** Runs the deliveries (the same server as front on one node). */
  back: TestServer;
  tg: FakeTelegram;
  agent: FakeAgent;
  instanceId: string;
  close(): Promise<void>;
}

async function rig(kind: StoreKind, twoNodes: boolean): Promise<Rig> {
  const tg = await startFakeTelegram();
  const agent = await startFakeAgent();
  const env = { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_TELEGRAM_API_URL: tg.url };
  const target = freshStore(kind);
  const secretKey = randomBytes(32);
  const back = await startServer(kind, { env, target, secretKey });
  // The second node shares the store (and the secret key) but runs no jobs: whatever it ingests
  // is delivered by `back`.
  const front = twoNodes ? await startServer(kind, { env, target, secretKey, startWorkers: false }) : back;
  const inst = await back.api('POST', '/v1/instances', { name: 'turns', agent_url: agent.url });
  agent.secret = inst.body.signing_secret;
  return {
    front,
    back,
    tg,
    agent,
    instanceId: inst.body.id,
    async close() {
      if (front !== back) await front.close();
      await back.close();
      await releaseStore(target); // passed in, so the servers leave it to us
      await tg.close();
      await agent.close();
    },
  };
}

async function telegramChannel(r: Rig, bot: string, config: Record<string, unknown>): Promise<any> {
  const conn = await r.back.api('POST', `/v1/instances/${r.instanceId}/connections`, { provider: 'telegram', secrets: { bot_token: r.tg.token } });
  const ch = await r.back.api('POST', `/v1/instances/${r.instanceId}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: bot, connection_id: conn.body.id, webhook_secret: SECRET, config });
  assert.equal(ch.status, 201, ch.text);
  // The webhook goes to the front node.
  return { ...ch.body, webhook_url: ch.body.webhook_url.replace(r.back.url, r.front.url) };
}

let updateId = 5000;
async function post(channel: any, chatId: number, message: Record<string, unknown>): Promise<void> {
  const id = ++updateId;
  const r = await fetch(channel.webhook_url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
    body: JSON.stringify({ update_id: id, message: { message_id: id, date: Math.floor(Date.now() / 1000), chat: { id: chatId, type: 'private' }, from: { id: chatId, is_bot: false, first_name: 'Ada' }, ...message } }),
  });
  assert.equal(r.status, 200);
}


function suite(kind: StoreKind, twoNodes: boolean) {
  describe(`turns on ${kind}${twoNodes ? ', two nodes' : ''}`, () => {
    let r: Rig;
    before(async () => {
      r = await rig(kind, twoNodes);
    });
    after(async () => {
      await r.close();
    });

    /** The message.received deliveries of one chat (each attempt), oldest first. */
    const deliveriesOf = (texts: string[]) => r.agent.deliveries.filter((d) => d.body?.type === 'message.received' && texts.some((t) => (d.body.data?.text ?? '').includes(t)));

    if (!twoNodes) {
      test('queue (the default): three quick messages are three events, answered in order', async () => {
        const ch = await telegramChannel(r, 'turns_queue_bot', {});
        r.agent.script = (d) => (d.body.type === 'message.received' ? { json: { reply: { text: `re: ${d.body.data.text}` } }, delayMs: 200 } : { json: {} });
        for (const t of ['q-one', 'q-two', 'q-three']) await post(ch, 8101, { text: t });
        await until(() => r.tg.sentMessages(8101).length === 3, 'three answers');
        assert.deepEqual(r.tg.sentMessages(8101).map((m) => m.text), ['re: q-one', 're: q-two', 're: q-three']);
        assert.equal(deliveriesOf(['q-one', 'q-two', 'q-three']).length, 3);
      });
    }

    test('burst: three quick messages reach the agent as one event with data.messages[] (media kept); one answer', async () => {
      const ch = await telegramChannel(r, `turns_burst_bot_${twoNodes ? 2 : 1}`, { turns: { mode: 'burst', debounce_ms: 700, max_wait_ms: 6000 } });
      r.agent.script = (d) => (d.body.type === 'message.received' ? { json: { reply: { text: `got ${d.body.data.messages?.length ?? 1}` } } } : { json: {} });
      const chat = twoNodes ? 8202 : 8201;
      await post(ch, chat, { text: 'b-one' });
      await sleep(150);
      await post(ch, chat, { photo: [{ file_id: 'PHOTO_SMALL', file_unique_id: 'ps', width: 90, height: 90, file_size: 1000 }, { file_id: 'PHOTO_BIG', file_unique_id: 'pb', width: 800, height: 800, file_size: 50_000 }], caption: 'b-two' });
      await sleep(150);
      await post(ch, chat, { text: 'b-three' });
      await until(() => r.tg.sentMessages(chat).length >= 1, 'the answer');
      await sleep(1200); // longer than the debounce: nothing else is coming
      assert.deepEqual(r.tg.sentMessages(chat).map((m) => m.text), ['got 3']);
      const ds = deliveriesOf(['b-one', 'b-two', 'b-three']);
      assert.equal(ds.length, 1, 'one delivery');
      const data = ds[0].body.data;
      assert.equal(ds[0].verified, true);
      assert.deepEqual(data.messages.map((m: any) => m.text), ['b-one', 'b-two', 'b-three']);
      assert.equal(data.text, 'b-one\nb-two\nb-three');
      assert.equal(data.messages[1].attachments?.[0]?.kind, 'image', 'the photo is kept');
      assert.equal(data.messages.every((m: any) => typeof m.message_id === 'string' && m.raw === undefined), true);
      // The events API still has each message as its own event.
      const evs = await r.back.api('GET', `/v1/instances/${r.instanceId}/events?limit=500`);
      assert.equal(evs.body.events.filter((e: any) => e.type === 'message.received' && e.channel_id === ch.id).length, 3);
    });

    test('supersede: a new message aborts the running stream, the agent is told, and the last event carries what it missed', async () => {
      const ch = await telegramChannel(r, `turns_supersede_bot_${twoNodes ? 2 : 1}`, { turns: 'supersede' });
      const chat = twoNodes ? 8302 : 8301;
      r.agent.script = (d) => {
        if (d.body.type !== 'message.received') return { json: {} };
        if (d.body.data.text.includes('s-three')) return { json: { reply: { text: `all ${d.body.data.messages?.length ?? 1}` } } };
        // A slow stream: 20 words, 250 ms apart (5 s), never finished before the next message.
        return { contentType: 'text/event-stream', chunks: Array.from({ length: 20 }, (_, i) => `data: ${JSON.stringify({ delta: `w${i} ` })}\n\n`), chunkDelayMs: 250 };
      };
      await post(ch, chat, { text: 's-one' });
      await until(() => deliveriesOf(['s-one']).length === 1, 'the first delivery');
      await sleep(800);
      await post(ch, chat, { text: 's-two' });
      await until(() => deliveriesOf(['s-two']).length >= 1, 'the second delivery');
      await sleep(800);
      await post(ch, chat, { text: 's-three' });
      await until(() => r.tg.sentMessages(chat).length >= 1, 'the final answer', 15_000);
      assert.deepEqual(r.tg.sentMessages(chat).map((m) => m.text), ['all 3']);

      const first = deliveriesOf(['s-one'])[0];
      assert.equal(first.closedEarly, true, 'the first request was aborted');
      const last = r.agent.deliveries.filter((d) => d.body?.type === 'message.received' && d.body.data.text.includes('s-three'));
      assert.equal(last.length, 1);
      assert.deepEqual(last[0].body.data.messages.map((m: any) => m.text), ['s-one', 's-two', 's-three']);
      assert.equal(last[0].body.data.text, 's-one\ns-two\ns-three');
      assert.equal(last[0].body.data.superseded.event_ids.length, 2);

      // Each aborted answer is a failed message (agent_superseded) with what had streamed, and evented.
      const failed = await until(() => {
        const f = r.agent.deliveries.filter((d) => d.body?.type === 'message.status' && d.body.data.status_reason === 'agent_superseded' && d.body.channel_id === ch.id);
        return f.length >= 2 ? f : undefined;
      }, 'two superseded statuses');
      const m = await r.back.api('GET', `/v1/instances/${r.instanceId}/messages/${failed[0].body.data.message_id}`);
      assert.equal(m.body.status, 'failed');
      assert.equal(m.body.status_reason, 'agent_superseded');
      assert.match(m.body.text ?? '', /^w0 w1/);
      assert.equal(r.tg.sentMessages(chat).filter((x) => /w0/.test(x.text ?? '')).length, 0, 'no half answer sent');
    });
  });
}

for (const kind of storeKinds()) suite(kind, false);
if (PG_URL) suite('postgres', true);
