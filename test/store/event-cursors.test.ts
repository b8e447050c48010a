/**
 * Event cursors on PostgreSQL without an instance lock in the ingest transaction: two nodes take
 * concurrent webhooks for one instance (some sent to both at once) while readers on both nodes
 * page `GET /events?after=` as fast as they can. Every reader must end with every event exactly
 * once, in cursor order, having never seen a cursor go backwards, and the cursors are 1..n with no
 * gap. A transaction held open with an event in it stays invisible to cursors until it commits,
 * then appears after everything already read. Runs only when TEST_DATABASE_URL is set.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type TestServer, startTwoNodes, type TwoNodes } from '../helpers/server.js';
import { PG_URL } from '../helpers/stores.js';
import { send } from '../inbound/helpers.js';
import { unsequencedPayload } from '../../src/core/event-envelope.js';

const SECRET = 'cursor-secret_' + randomBytes(6).toString('hex');

describe('event cursors across two nodes (PostgreSQL)', { skip: PG_URL ? false : 'TEST_DATABASE_URL is not set (PostgreSQL only)' }, () => {
  let a: TestServer;
  let b: TestServer;
  let instanceId: string;
  let hookPath: string;
  let schema: string;
  let nodes: TwoNodes | undefined;

  before(async () => {
    nodes = await startTwoNodes();
    ({ a, b } = nodes);
    schema = nodes.target.pgSchema!;
    const inst = await a.api('POST', '/v1/instances', { name: 'cursors' });
    instanceId = inst.body.id;
    const ch = await a.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: 'cursor_bot', webhook_secret: SECRET });
    assert.equal(ch.status, 201, ch.text);
    hookPath = `/v1/webhooks/${ch.body.id}`;
  });
  after(async () => {
    await nodes?.close();
  });

  const update = (id: number, chat: number) => JSON.stringify({ update_id: id, message: { message_id: id, from: { id: chat, is_bot: false, first_name: 'C' }, chat: { id: chat, type: 'private' }, date: 1714560000, text: `m${id}` } });
  const hook = (node: TestServer, body: string) => send({ url: node.url + hookPath, headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body });

  test('concurrent ingests on two nodes: readers never skip or repeat an event; cursors are gapless', async () => {
    // 240 messages in 12 chats; each chat's first message also opens its conversation (conversation.opened).
    const TOTAL = 240 + 12;
    let sending = true;
    const readers = [a, b].map(async (node) => {
      const seen: { id: string; cursor: number }[] = [];
      let cursor = 0;
      for (;;) {
        const r = await node.api('GET', `/v1/instances/${instanceId}/events?after=${cursor}&limit=50`);
        assert.equal(r.status, 200, r.text);
        for (const e of r.body.events) {
          const c = Number(e.cursor);
          assert.ok(c > cursor, `cursor went from ${cursor} to ${c}`);
          cursor = c;
          seen.push({ id: e.id, cursor: c });
        }
        assert.equal(r.body.next_cursor, String(cursor));
        if (!sending && r.body.events.length === 0 && seen.length >= TOTAL) return seen;
        if (!sending && r.body.events.length === 0) await new Promise((res) => setTimeout(res, 20));
      }
    });
    // 12 senders, each its own chat, alternating nodes; every sixth update goes to both at once.
    await Promise.all(Array.from({ length: 12 }, async (_, s) => {
      for (let k = 0; k < 240 / 12; k++) {
        const id = 1 + s * 1000 + k;
        const body = update(id, 100 + s);
        const targets = k % 6 === 5 ? [a, b] : [k % 2 ? a : b];
        for (const r of await Promise.all(targets.map((t) => hook(t, body)))) assert.equal(r.status, 200, r.text);
      }
    }));
    sending = false;
    const [seenA, seenB] = await Promise.all(readers);
    for (const seen of [seenA, seenB]) {
      assert.equal(seen.length, TOTAL, 'every event read once');
      assert.equal(new Set(seen.map((e) => e.id)).size, TOTAL, 'no event read twice');
      assert.deepEqual(seen.map((e) => e.cursor), Array.from({ length: TOTAL }, (_, i) => i + 1), 'cursors 1..n, no gap');
    }
    assert.deepEqual(seenA.map((e) => e.id), seenB.map((e) => e.id), 'both nodes hand out the same order');
  });

  test('an event whose transaction commits late is numbered after what readers already saw', async () => {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const before = (await a.api('GET', `/v1/instances/${instanceId}/events?after=0&limit=500`)).body.events.length;
      // A slow ingest transaction: its event is inserted (unnumbered) but not committed yet.
      await admin.query('begin');
      await admin.query(`insert into "${schema}".events (id, instance_id, seq, channel_id, conversation_id, type, dedupe_key, payload, created_at)
        values ($1, $2, null, null, null, 'event.unsupported', $3, $4, $5)`, ['00000000-0000-7000-8000-00000000late', instanceId, 'late-1', unsequencedPayload({ id: 'late', type: 'event.unsupported', instance_id: instanceId, channel_id: null, conversation_id: null, conversation: null, created_at: new Date().toISOString(), channel: null, data: { kind: 'unsupported', provider_type: 'test' } }), new Date().toISOString()]);
      // Meanwhile another webhook commits and is read (chat 100's conversation is open already, so one event).
      assert.equal((await hook(b, update(900_001, 100))).status, 200);
      const mid = (await a.api('GET', `/v1/instances/${instanceId}/events?after=0&limit=500`)).body.events;
      assert.equal(mid.length, before + 1, 'the open transaction is invisible');
      const lastCursor = Number(mid[mid.length - 1].cursor);
      await admin.query('commit');
      // The next sequencer run (the next webhook, or the sweep) numbers it after lastCursor.
      assert.equal((await hook(a, update(900_002, 100))).status, 200);
      const restR = await a.api("GET", `/v1/instances/${instanceId}/events?after=${lastCursor}&limit=500`);
      assert.equal(restR.status, 200, restR.text);
      const rest = restR.body.events;
      assert.deepEqual(rest.map((e: any) => e.id).sort(), ['late', rest.find((e: any) => e.id !== 'late')?.id].sort(), 'the late event is read after the cursor already handed out');
      const late = rest.find((e: any) => e.id === 'late');
      assert.ok(Number(late.cursor) > lastCursor);
    } finally {
      await admin.end();
    }
  });
});
