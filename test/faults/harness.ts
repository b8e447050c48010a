/**
 * Shared by the fault tests (test/faults/*.test.ts): two Switchboard nodes on PostgreSQL, an
 * instance with a Telegram channel, a steady webhook load, and the checks every fault must pass.
 *
 * The load: one sender per conversation (chat), each sending its updates one after another (the
 * next only after the previous got a 2xx, so send order is commit order), each with a unique
 * update_id, alternating between the nodes. Like a load balancer in front of a provider that
 * retries: a connection error or a 503 sends the same update again to the other node. Every
 * status is counted, with whether a 503 carried Retry-After.
 *
 * The checks (`expectDelivered`): every acknowledged update reaches the agent under exactly one
 * webhook-id (repeats of that id are allowed: a retry after a crash), none is missing, each
 * conversation's updates are accepted in send order, every delivery is signed, no answer was a
 * 500, and the database ends clean (each update stored once, every event numbered with cursors
 * 1..n, no job left).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { Cluster } from '../helpers/cluster.js';
import type { FakeAgent } from '../inbound/fake-agent.js';

export const PG_URL = process.env.TEST_DATABASE_URL;
export const SKIP_WITHOUT_PG = PG_URL ? false : 'TEST_DATABASE_URL is not set: the fault tests need PostgreSQL';

/** Short retries for every attempt the faults cost (the default schedule waits minutes). */
export const FAULT_SCHEDULE = Array.from({ length: 60 }, (_, i) => (i < 3 ? [0.1, 0.3, 0.6][i] : 1)).join(',');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns something truthy; fails after `timeoutMs` with `what`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One POST over a fresh connection (node:http), with a generous timeout. */
export function post(url: string, headers: Record<string, string>, body: string, timeoutMs = 30_000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, timeout: timeoutMs, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

export interface Setup {
  instanceId: string;
  /** `/v1/webhooks/<channel>` (the same on every node). */
  path: string;
  secret: string;
}

/** An instance delivering to `agentUrl` and a Telegram channel, created through `base`. */
export async function setUp(cluster: Cluster, base: string, agent: FakeAgent, agentUrl = agent.url): Promise<Setup> {
  const inst = await cluster.create(base, '/v1/instances', { name: 'faults', agent_url: agentUrl });
  agent.secret = inst.signing_secret;
  const secret = 'fault-secret_' + randomBytes(8).toString('hex');
  const ch = await cluster.create(base, `/v1/instances/${inst.id}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: 'fault_bot', webhook_secret: secret });
  return { instanceId: inst.id, path: `/v1/webhooks/${ch.id}`, secret };
}

/** Text `c<conv>-<k>`, chat 7000+conv, update_id unique across the run. */
export function telegramUpdate(conv: number, k: number): string {
  const id = conv * 1_000_000 + k;
  const chat = 7000 + conv;
  return JSON.stringify({ update_id: id, message: { message_id: id, from: { id: chat, is_bot: false, first_name: 'F' }, chat: { id: chat, type: 'private' }, date: 1714560000, text: `c${conv}-${k}` } });
}

export interface LoadStats {
  /** Per status code, how many answers. */
  statuses: Record<string, number>;
  /** 503 answers without a Retry-After header (must stay 0). */
  unavailableWithoutRetryAfter: number;
  connectionErrors: number;
  acked: number;
  /** Updates given up on at the end (their conversation's sender hit its deadline): must stay 0. */
  unfinished: number;
}

export interface Load {
  /** Per conversation, the k of every acknowledged update, in order. */
  acked: number[][];
  stats: LoadStats;
  ackedCount(): number;
  /** Resolves once `n` more updates have been acknowledged than when called. */
  progress(n: number, timeoutMs?: number): Promise<void>;
  /** Stops sending new updates; each sender finishes (acknowledges) the one it holds. */
  stop(): Promise<void>;
  /** Stops at once (a test failed): nothing is waited for. Safe to call after stop(). */
  abort(): void;
}

export interface LoadOptions {
  /** The nodes' current base URLs (a restarted node has a new port; a dead one refuses). */
  targets: () => string[];
  setup: Setup;
  conversations?: number;
  /** Pause after each acknowledged update, per sender: keeps the rate modest. */
  gapMs?: number;
  /** First conversation number (probes use others). */
  firstConv?: number;
  /** The load stops by itself after this long (a safety net; tests stop it much earlier). */
  maxMs?: number;
}

export function startLoad(opts: LoadOptions): Load {
  const convs = opts.conversations ?? 6;
  const gapMs = opts.gapMs ?? 40;
  const first = opts.firstConv ?? 0;
  const headers = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': opts.setup.secret };
  const acked: number[][] = Array.from({ length: convs }, () => []);
  const stats: LoadStats = { statuses: {}, unavailableWithoutRetryAfter: 0, connectionErrors: 0, acked: 0, unfinished: 0 };
  let stopping = false;
  let stopDeadline = Infinity;
  let aborted = false;

  const sender = async (c: number) => {
    for (let k = 1; !stopping; k++) {
      const body = telegramUpdate(first + c, k);
      for (let attempt = 0; ; attempt++) {
        if (aborted) return;
        if (Date.now() > stopDeadline) {
          stats.unfinished++;
          return;
        }
        const targets = opts.targets();
        const base = targets[(k + attempt) % targets.length];
        let r: Answer | undefined;
        try {
          r = await post(base + opts.setup.path, headers, body);
        } catch {
          stats.connectionErrors++;
          await sleep(50); // the other node next, at once (a balancer's retry)
          continue;
        }
        stats.statuses[r.status] = (stats.statuses[r.status] ?? 0) + 1;
        if (r.status >= 200 && r.status < 300) {
          acked[c].push(k);
          stats.acked++;
          break;
        }
        if (r.status === 503 && !r.headers['retry-after']) stats.unavailableWithoutRetryAfter++;
        await sleep(150 + Math.random() * 150);
      }
      await sleep(gapMs);
    }
  };
  const running = Promise.all(Array.from({ length: convs }, (_, c) => sender(c)));
  // A test that times out never reaches its finally: without this the senders would keep the
  // test file's process alive for ever.
  const lifetime = setTimeout(() => load.abort(), opts.maxMs ?? 360_000);
  lifetime.unref();
  void running.finally(() => clearTimeout(lifetime));
  const load: Load = {
    acked,
    stats,
    ackedCount: () => stats.acked,
    async progress(n, timeoutMs = 90_000) {
      const target = stats.acked + n;
      await waitFor(`${n} more acknowledged webhooks (at ${stats.acked}, statuses ${JSON.stringify(stats.statuses)})`, () => stats.acked >= target, timeoutMs);
    },
    async stop() {
      stopping = true;
      stopDeadline = Date.now() + 120_000;
      await running;
    },
    abort() {
      stopping = true;
      aborted = true;
    },
  };
  return load;
}

export interface Outcome {
  acked: number;
  delivered: number;
  agent_requests: number;
  repeats_of_an_id: number;
  statuses: Record<string, number>;
  connection_errors: number;
}

/**
 * Waits until every acknowledged update has been accepted by the agent, then checks the
 * guarantees (see the file comment). `extra` are further acknowledged texts (probes) that must
 * arrive too, outside the per-conversation order check.
 */
export async function expectDelivered(cluster: Cluster, agent: FakeAgent, load: Load, setup: Setup, opts: { firstConv?: number; extra?: string[]; timeoutMs?: number } = {}): Promise<Outcome> {
  const first = opts.firstConv ?? 0;
  const expected = new Set<string>(opts.extra ?? []);
  load.acked.forEach((ks, c) => ks.forEach((k) => expected.add(`c${first + c}-${k}`)));
  const acceptedTexts = () => new Set(agent.accepted().map((d) => String(d.body?.data?.text ?? '')));
  // Jobs leased by a killed node wait for their lease (15 s) to run out: generous.
  await waitFor('every acknowledged update at the agent', () => {
    const got = acceptedTexts();
    return [...expected].every((t) => got.has(t));
  }, opts.timeoutMs ?? 120_000, 200).catch((err: Error) => {
    const got = acceptedTexts();
    const missing = [...expected].filter((t) => !got.has(t));
    throw new Error(`${err.message}: ${missing.length} of ${expected.size} missing, e.g. ${missing.slice(0, 10).join(', ')}`);
  });

  // The database settles: every event numbered, no job left (a finished job is deleted with its
  // node's next claim), nothing dead.
  const { admin } = cluster;
  await waitFor('every event numbered and every job done', async () => {
    const r = await admin.query(`select (select count(*)::int from events where seq is null) as unnumbered, (select count(*)::int from jobs) as jobs`);
    return r.rows[0].unnumbered === 0 && r.rows[0].jobs === 0;
  }, 60_000, 200).catch(async (err: Error) => {
    const left = await admin.query(`select kind, status, attempts, locked_by, last_error from jobs limit 10`);
    throw new Error(`${err.message}; jobs: ${JSON.stringify(left.rows)}`);
  });

  // One webhook-id per update (two ids would mean it was stored twice), the same text per id.
  const idsByText = new Map<string, Set<string>>();
  const textById = new Map<string, string>();
  for (const d of agent.deliveries) {
    const text = String(d.body?.data?.text ?? '');
    if (!idsByText.has(text)) idsByText.set(text, new Set());
    idsByText.get(text)!.add(d.id);
    const prev = textById.get(d.id);
    assert.ok(prev === undefined || prev === text, `webhook-id ${d.id} carried two texts (${prev}, ${text})`);
    textById.set(d.id, text);
  }
  const twice = [...idsByText].filter(([, ids]) => ids.size > 1).map(([t]) => t);
  assert.deepEqual(twice, [], 'each update reaches the agent under one webhook-id');
  const unexpected = [...idsByText.keys()].filter((t) => !expected.has(t));
  assert.deepEqual(unexpected, [], 'the agent got only updates that were acknowledged');
  assert.ok(agent.deliveries.every((d) => d.verified), 'every delivery is signed');

  // In send order per conversation (the first acceptance of each id).
  const accepted = agent.accepted().map((d) => String(d.body.data.text));
  load.acked.forEach((ks, c) => {
    const prefix = `c${first + c}-`;
    const got = accepted.filter((t) => t.startsWith(prefix)).map((t) => Number(t.slice(prefix.length)));
    assert.deepEqual(got, ks, `conversation ${first + c} accepted in send order`);
  });

  // Stored once each; cursors 1..n with no gap.
  const stored = await admin.query(`select count(*)::int as n, count(distinct dedupe_key)::int as d from events where type = 'message.received' and instance_id = $1`, [setup.instanceId]);
  assert.equal(stored.rows[0].n, expected.size, 'each acknowledged update stored once');
  assert.equal(stored.rows[0].d, expected.size);
  const seqs = await admin.query(`select count(*)::int as n, min(seq)::int as lo, max(seq)::int as hi, count(distinct seq)::int as d from events where instance_id = $1`, [setup.instanceId]);
  const s = seqs.rows[0];
  assert.deepEqual([s.lo, s.hi, s.d], [1, s.n, s.n], 'event cursors are 1..n without a gap');

  assert.equal(load.stats.statuses['500'] ?? 0, 0, `no webhook answered 500 (${JSON.stringify(load.stats.statuses)})`);
  assert.equal(load.stats.unavailableWithoutRetryAfter, 0, 'every 503 carries Retry-After');
  assert.equal(load.stats.unfinished, 0, 'every sender finished its last update');
  const perId = new Map<string, number>();
  for (const d of agent.deliveries) perId.set(d.id, (perId.get(d.id) ?? 0) + 1);
  return {
    acked: expected.size,
    delivered: accepted.length,
    agent_requests: agent.deliveries.length,
    repeats_of_an_id: [...perId.values()].reduce((a, n) => a + n - 1, 0),
    statuses: load.stats.statuses,
    connection_errors: load.stats.connectionErrors,
  };
}

/** Whether node `i`'s LISTEN connection is open (its last statement was the LISTEN). */
export async function listening(cluster: Cluster, i: number): Promise<boolean> {
  const r = await cluster.admin.query(`select count(*)::int as n from pg_stat_activity where application_name = $1 and query like 'LISTEN %'`, [cluster.appName(i)]);
  return r.rows[0].n > 0;
}

export const NODE_ENV = { SWITCHBOARD_DEMO: 'false' };

export interface EventStream {
  /** Every `id:` (cursor) received, in order. */
  ids: number[];
  /** Set once the server ended the stream. */
  ended: boolean;
  /** Comments saying the server's read failed and is retried (the database was away). */
  retries: number;
  close(): void;
}

/** Reads an instance's SSE event stream on `base` from the start, recording the cursors. */
export async function openEventStream(base: string, adminKey: string, instanceId: string): Promise<EventStream> {
  const ctrl = new AbortController();
  const res = await fetch(`${base}/v1/instances/${instanceId}/events/stream?after=0`, { headers: { 'x-api-key': adminKey }, signal: ctrl.signal });
  assert.equal(res.status, 200);
  const stream: EventStream = { ids: [], ended: false, retries: 0, close: () => ctrl.abort() };
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buf = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const id = /^id: (\d+)$/m.exec(block);
          if (id) stream.ids.push(Number(id[1]));
          else if (block.includes('database unavailable')) stream.retries++;
        }
      }
    } catch {
      // aborted by close()
    }
    stream.ended = true;
  })();
  return stream;
}

/** The stream stayed open and read cursors 1..n (every event of the instance) once each, in order. */
export async function expectStreamedAll(cluster: Cluster, stream: EventStream, setup: Setup, node: string): Promise<void> {
  const events = (await cluster.admin.query(`select count(*)::int as n from events where instance_id = $1`, [setup.instanceId])).rows[0].n;
  await waitFor(`the event stream on ${node} at cursor ${events}`, () => stream.ids.length >= events || stream.ended, 60_000);
  assert.equal(stream.ended, false, `the event stream on ${node} was not ended by the fault`);
  assert.deepEqual(stream.ids, Array.from({ length: events }, (_, i) => i + 1), `the stream on ${node} read cursors 1..n once each`);
}
