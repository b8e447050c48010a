/**
 * Two Switchboard processes (`node --import tsx src/main.ts`) on one PostgreSQL schema. Signed
 * Telegram updates arrive at either node (some at both at once, as a provider retry racing the
 * original); each is stored once and delivered once, in order per conversation; an SSE stream on
 * one node sees events committed on the other promptly (LISTEN/NOTIFY, no node-local state). A
 * node killed in the middle of a delivery leaves a lease that runs out; the other node delivers.
 * The first and last tests run in a database of their own on its defaults (`public` schema, no
 * SWITCHBOARD_PG_SCHEMA), as a new deployment does: notifications must work there too.
 * Runs only when TEST_DATABASE_URL is set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { withCluster } from '../helpers/cluster.js';
import { startFakeAgent } from './fake-agent.js';
import { send, sleep, waitUntil } from './helpers.js';

const PG_URL = process.env.TEST_DATABASE_URL;


test('two nodes on one PostgreSQL: stored once, delivered once, in order per conversation', { skip: PG_URL ? false : 'TEST_DATABASE_URL is not set (PostgreSQL only)', timeout: 120_000 }, async () => {
  await withCluster(PG_URL!, { prefix: 'two', deliverySchedule: '0.05,0.1,0.2,0.5,1', database: true }, async (cluster) => {
    const { schema, admin } = cluster;
    const node = (i: number) => cluster.node(i);
    const post = (base: string, path: string, body: unknown) => cluster.create(base, path, body);
    const agent = await startFakeAgent();

    try {
      // One after the other so the first runs the migrations (the second finds them done).
      const a = await node(0);
      const b = await node(1);
      const inst = await post(a, '/v1/instances', { name: 'two nodes', agent_url: agent.url });
      agent.secret = inst.signing_secret;
      const secret = 'two-secret_' + randomBytes(8).toString('hex');
      // Created on node B, used through node A: nothing about it lives in one process.
      const ch = await post(b, `/v1/instances/${inst.id}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: 'two_node_bot', webhook_secret: secret });
      const path = `/v1/webhooks/${ch.id}`;

      // Some first attempts fail, so retries (claimed by either node) are part of the run.
      agent.script = (d, n) => (Number(String(d.body?.data?.text ?? '').split('-')[1]) % 7 === 0 && n === 1 ? { status: 500 } : { status: 200 });

      const CONVS = 6;
      const PER_CONV = 25;
      const update = (conv: number, k: number) => {
        const id = conv * 1000 + k;
        return JSON.stringify({ update_id: id, message: { message_id: id, from: { id: 500 + conv, is_bot: false, first_name: 'N' }, chat: { id: 500 + conv, type: 'private' }, date: 1714560000, text: `c${conv}-${k}` } });
      };
      const headers = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret };
      let raced = 0;
      // Each conversation sends its updates one after another (so send order = commit order),
      // alternating nodes; every fifth is sent to both nodes at once.
      await Promise.all(Array.from({ length: CONVS }, async (_, conv) => {
        for (let k = 1; k <= PER_CONV; k++) {
          const body = update(conv, k);
          const targets = k % 5 === 0 ? [a, b] : [k % 2 ? a : b];
          if (targets.length === 2) raced++;
          const rs = await Promise.all(targets.map((t) => send({ url: t + path, headers, body })));
          for (const r of rs) assert.equal(r.status, 200, r.text);
        }
      }));
      const total = CONVS * PER_CONV;

      await agent.waitFor(() => agent.accepted().length >= total, 30_000);
      await sleep(500); // let any stray duplicate show up
      const accepted = agent.accepted();
      assert.equal(accepted.length, total, 'every update delivered');
      const perId = new Map<string, number>();
      for (const d of agent.deliveries) perId.set(d.id, (perId.get(d.id) ?? 0) + 1);
      const scriptedFailures = accepted.filter((d) => Number(String(d.body.data.text).split('-')[1]) % 7 === 0).length;
      assert.equal(agent.deliveries.length, total + scriptedFailures, 'no delivery beyond the scripted retries');
      assert.ok(agent.deliveries.every((d) => d.verified));
      for (let conv = 0; conv < CONVS; conv++) {
        const texts = accepted.filter((d) => d.body.data.from.id === String(500 + conv)).map((d) => d.body.data.text);
        assert.deepEqual(texts, Array.from({ length: PER_CONV }, (_, i) => `c${conv}-${i + 1}`), `conversation ${conv} in order`);
      }
      // Besides the messages, each conversation opens with one conversation.opened event.
      const stored = await admin.query(`select count(*)::int as n, count(distinct dedupe_key)::int as d from "${schema}".events where type = 'message.received'`);
      assert.equal(stored.rows[0].n, total, 'stored once each');
      assert.equal(stored.rows[0].d, total);
      const opened = await admin.query(`select count(*)::int as n from "${schema}".events where type = 'conversation.opened'`);
      assert.equal(opened.rows[0].n, CONVS, 'one conversation.opened per conversation');
      const seqs = await admin.query(`select seq from "${schema}".events where instance_id = $1 order by seq`, [inst.id]);
      assert.deepEqual(seqs.rows.map((r) => Number(r.seq)), Array.from({ length: total + CONVS }, (_, i) => i + 1), 'event cursors are gapless across nodes');
      // A finished job is deleted with its node's next claim, a moment after its delivery.
      let left: unknown[] = [];
      for (let i = 0; i < 50; i++) {
        left = (await admin.query(`select seq, status, attempts, locked_by, locked_until, last_error from "${schema}".jobs`)).rows;
        if (left.length === 0) break;
        await sleep(100);
      }
      assert.deepEqual(left, [], 'no job left behind');

      // An SSE stream on node B hears an event committed on node A within a moment (the stream's
      // own re-read is every 15 s, so this is the cross-node notification).
      const ctrl = new AbortController();
      const res = await fetch(`${b}/v1/instances/${inst.id}/events/stream?after=${total}`, { headers: { 'x-api-key': cluster.adminKey }, signal: ctrl.signal });
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      await reader.read(); // ": connected"
      const t0 = Date.now();
      assert.equal((await send({ url: a + path, headers, body: update(9, 1) })).status, 200);
      let text = '';
      while (!text.includes('c9-1')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      const heardMs = Date.now() - t0;
      ctrl.abort();
      assert.ok(text.includes('c9-1'));
      assert.ok(heardMs < 3000, `node B streamed node A's event after ${heardMs} ms`);
      console.log('# two-node counts ' + JSON.stringify({ updates: total, raced_to_both_nodes: raced, stored: stored.rows[0].n, delivered: accepted.length, agent_requests: agent.deliveries.length, scripted_failures: scriptedFailures, sse_cross_node_ms: heardMs }));
    } finally {
      await agent.close();
    }
  });
});

test('a node killed mid-delivery: its lease runs out and the other node delivers the event (same webhook-id)', { skip: PG_URL ? false : 'TEST_DATABASE_URL is not set (PostgreSQL only)', timeout: 120_000 }, async () => {
  await withCluster(PG_URL!, { prefix: 'takeover', deliverySchedule: '0.05,0.1,0.2' }, async (cluster) => {
    const agent = await startFakeAgent();
    try {
      const a = await cluster.node(0);
      const post = (path: string, body: unknown) => cluster.create(a, path, body);
      const inst = await post('/v1/instances', { name: 'takeover', agent_url: agent.url });
      agent.secret = inst.signing_secret;
      const secret = 'takeover_' + randomBytes(8).toString('hex');
      const ch = await post(`/v1/instances/${inst.id}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: 'takeover_bot', webhook_secret: secret });
      // The first attempt never gets an answer: node A is still waiting on it when it dies.
      agent.script = (_d, n) => (n === 1 ? new Promise<never>(() => undefined) : { status: 200, json: {} });
      const body = JSON.stringify({ update_id: 42, message: { message_id: 42, from: { id: 9, is_bot: false, first_name: 'K' }, chat: { id: 9, type: 'private' }, date: 1714560000, text: 'are you there?' } });
      const r = await send({ url: `${a}/v1/webhooks/${ch.id}`, headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret }, body });
      assert.equal(r.status, 200);
      await agent.waitFor((ds) => ds.length === 1, 10_000);
      const b = await cluster.node(1);
      assert.ok(b);
      await cluster.kill(0);
      const killedAt = Date.now();
      // Within the 15 s lease (plus a poll): with the old 60 s lease this wait would fail.
      await agent.waitFor((ds) => ds.length >= 2, 40_000);
      const [first, second] = agent.deliveries;
      assert.equal(second.id, first.id, 'the same webhook-id, so the agent can tell it is a repeat');
      assert.ok(second.verified, second.verifyError);
      assert.equal(second.body.data.text, 'are you there?');
      await sleep(300);
      assert.equal(agent.accepted().length, 1, 'delivered once it was answered, not again');
      console.log(`# takeover: redelivered by node B ${Date.now() - killedAt} ms after node A was killed`);
    } finally {
      await agent.close();
    }
  });
});

test('shared limits across nodes: a deleted API key stops working on the other node at once; a web chat visitor gets one flood limit, not one per node', { skip: PG_URL ? false : 'TEST_DATABASE_URL is not set (PostgreSQL only)', timeout: 60_000 }, async () => {
  await withCluster(PG_URL!, { prefix: 'keys', deliverySchedule: '1', database: true }, async (cluster) => {
    const a = await cluster.node(0);
    const b = await cluster.node(1);
    const inst = await cluster.create(a, '/v1/instances', { name: 'keys' });
    const created = await cluster.create(a, '/v1/api-keys', { name: 'scoped', instance_ids: [inst.id] });
    assert.ok(created.key, JSON.stringify(created));
    const useOnB = async () => (await fetch(`${b}/v1/instances/${inst.id}/channels`, { headers: { 'x-api-key': created.key } })).status;
    assert.equal(await useOnB(), 200);
    assert.equal(await useOnB(), 200); // now cached on node B
    const del = await fetch(`${a}/v1/api-keys/${created.id}`, { method: 'DELETE', headers: { 'x-api-key': cluster.adminKey } });
    assert.equal(del.status, 204);
    // The announcement takes a few milliseconds; node B's cache would keep the key for 5 s.
    const t0 = Date.now();
    let status = await useOnB();
    while (status === 200 && Date.now() - t0 < 1_500) {
      await sleep(20);
      status = await useOnB();
    }
    assert.equal(status, 401, `node B still accepted the deleted key after ${Date.now() - t0} ms`);

    // Web chat flood control (5 messages, then one per 2 s) counts a visitor's messages on both nodes.
    const chat = await cluster.create(a, `/v1/instances/${inst.id}/channels`, { channel_type: 'web_chat', provider: 'web', external_identifier: 'site-two-nodes', webhook_secret: 'site-secret-' + randomBytes(6).toString('hex') });
    const v = await (await fetch(`${a}/v1/webchat/${chat.id}/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json() as any;
    const say = (base: string, i: number) => fetch(`${base}/v1/webchat/${chat.id}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ visitor_id: v.visitor_id, token: v.token, text: `m${i}`, client_message_id: `c${i}` }) });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await say(i % 2 ? b : a, i)).status);
    assert.deepEqual(statuses, [202, 202, 202, 202, 202, 429], 'the sixth message, whichever node takes it, is over the limit');
  });
});
