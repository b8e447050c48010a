/**
 * Two Switchboard servers on one PostgreSQL schema sharing a fake Telegram: messages to one chat
 * posted alternately to both nodes go out in the order they were enqueued, never faster than the
 * rate governor allows for that chat across both nodes (1/s, burst 1: checked on the gaps between
 * the times the fake received them), and one Idempotency-Key posted to both nodes at once sends once.
 * Runs only when TEST_DATABASE_URL is set.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeTelegram, type FakeTelegram } from '../../fakes/telegram.js';
import { type TestServer, startTwoNodes, type TwoNodes } from '../helpers/server.js';
import { PG_URL } from '../helpers/stores.js';
import { conversationByKey, messageReaches, sleep, until } from './helpers.js';

const SECRET = 'two-nodes_secret';

describe('outbound on two nodes sharing one PostgreSQL', { skip: PG_URL ? false : 'TEST_DATABASE_URL is not set (PostgreSQL only)' }, () => {
  let a: TestServer;
  let b: TestServer;
  let tg: FakeTelegram;
  let instanceId: string;
  let channel: any;
  let updateId = 7000;

  async function inbound(chatId: number) {
    const r = await fetch(channel.webhook_url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
      body: JSON.stringify({ update_id: ++updateId, message: { message_id: updateId, date: Math.floor(Date.now() / 1000), chat: { id: chatId, type: 'private' }, from: { id: chatId, is_bot: false, first_name: 'Ada' }, text: 'hi' } }),
    });
    assert.equal(r.status, 200);
    return conversationByKey(a, instanceId, String(chatId));
  }

  let nodes: TwoNodes | undefined;
  before(async () => {
    tg = await startFakeTelegram();
    nodes = await startTwoNodes({ env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_TELEGRAM_API_URL: tg.url }, services: { sendScheduleMs: [50, 50, 50] } });
    ({ a, b } = nodes);
    const inst = await a.api('POST', '/v1/instances', { name: 'two nodes', agent_url: null });
    assert.equal(inst.status, 201, inst.text);
    instanceId = inst.body.id;
    const conn = await a.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'telegram', secrets: { bot_token: tg.token } });
    channel = (await a.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: 'fake_bot', connection_id: conn.body.id, webhook_secret: SECRET })).body;
    // Node B sees what node A created.
    assert.equal((await b.api('GET', `/v1/instances/${instanceId}/channels`)).body.channels.length, 1);
    // Warm both nodes up (first connection to the fake, lazy code paths) on chats of their own, so
    // the gaps measured below are the governor's and not one cold first request's.
    for (const [node, chat] of [[a, 8001], [b, 8002]] as const) {
      const conv = await inbound(chat);
      const r = await node.api('POST', `/v1/instances/${instanceId}/conversations/${conv.id}/messages`, { text: 'warm-up' });
      await messageReaches(node, instanceId, r.body.id, 'sent');
    }
  });
  after(async () => {
    await nodes?.close();
    await tg?.close();
  });

  test('messages to one chat from both nodes go out in enqueue order, at most 1/s for the chat across both nodes', async () => {
    const chat = 9001;
    const conv = await inbound(chat);
    const N = 8;
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      const node = i % 2 === 0 ? a : b;
      const r = await node.api('POST', `/v1/instances/${instanceId}/conversations/${conv.id}/messages`, { text: `m${i} via ${node === a ? 'A' : 'B'}` });
      assert.equal(r.status, 202, r.text);
      ids.push(r.body.id);
    }
    await until(() => tg.sentMessages(chat).length >= N, `all ${N} messages`, 30_000);
    await sleep(300);
    const sent = tg.sentMessages(chat);
    assert.equal(sent.length, N, 'each message sent once');
    assert.deepEqual(sent.map((m) => m.text), ids.map((_, i) => `m${i} via ${i % 2 === 0 ? 'A' : 'B'}`), 'in enqueue order');

    const arrivals = tg.requests.filter((q) => q.path.endsWith('/sendMessage') && (q.body as any)?.chat_id !== undefined && String((q.body as any).chat_id) === String(chat)).map((q) => q.receivedAt);
    assert.equal(arrivals.length, N, 'no refused or repeated attempts');
    const gaps = arrivals.slice(1).map((t, i) => t - arrivals[i]);
    // Burst 1 at 1/s: each send needs a fresh token, so no two sends to the chat within a second
    // (a little slack for the time between taking the token and the request reaching the fake).
    for (const g of gaps) assert.ok(g >= 950, `gap of ${g} ms between sends to one chat (gaps: ${gaps.join(', ')})`);
    // And the queue does not dawdle either: the whole run takes about N-1 seconds.
    const total = arrivals[N - 1] - arrivals[0];
    assert.ok(total < (N - 1) * 1000 + 4000, `total ${total} ms`);
    for (const id of ids) assert.equal((await messageReaches(a, instanceId, id, 'sent')).status, 'sent');
  });

  test('one Idempotency-Key posted to both nodes at once sends once', async () => {
    const chat = 9002;
    const conv = await inbound(chat);
    const path = `/v1/instances/${instanceId}/conversations/${conv.id}/messages`;
    for (let round = 0; round < 5; round++) {
      const key = `two-node-key-${round}`;
      const [ra, rb] = await Promise.all([
        a.api('POST', path, { text: `only once ${round}` }, undefined, { 'idempotency-key': key }),
        b.api('POST', path, { text: `only once ${round}` }, undefined, { 'idempotency-key': key }),
      ]);
      assert.equal(ra.status, 202, ra.text);
      assert.equal(rb.status, 202, rb.text);
      assert.equal(ra.body.id, rb.body.id, 'both nodes answer with the same message');
      assert.equal([ra, rb].filter((r) => r.headers.get('idempotent-replayed') === 'true').length, 1, 'exactly one of them is the replay');
    }
    await until(() => tg.sentMessages(chat).length >= 5, 'the five messages', 30_000);
    await sleep(1500);
    const texts = tg.sentMessages(chat).map((m) => m.text);
    for (let round = 0; round < 5; round++) assert.equal(texts.filter((t) => t === `only once ${round}`).length, 1, `round ${round} sent once`);
    const stored = await a.services.store.db.selectFrom('messages').select('id').where('conversation_id', '=', conv.id).where('direction', '=', 'out').execute();
    assert.equal(stored.length, 5);
  });
});
