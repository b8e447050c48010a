/**
 * Crash test: a real Switchboard process (`node --import tsx src/main.ts`) on one SQLite file
 * takes a steady stream of signed Telegram webhooks while it is killed with SIGKILL and restarted
 * again and again. Senders behave like Telegram: an update is re-sent until it gets a 2xx. At the
 * end every update that was acknowledged must be stored and must have reached the fake agent
 * (at least once: a crash between the agent's 2xx and the job's completion redelivers, with the
 * same webhook-id). Prints the counts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeAgent } from './fake-agent.js';
import { send, sleep, waitUntil } from './helpers.js';

const LOAD_MS = Number(process.env.CRASH_LOAD_MS ?? 20_000);
const SENDERS = 6;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

test('kill -9 under webhook load loses no acknowledged event', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-crash-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const adminKey = 'sb_crash_admin_' + randomBytes(12).toString('hex');
  const env = {
    ...process.env,
    DATABASE_URL: `sqlite:${join(dir, 'switchboard.db')}`,
    PORT: String(port),
    HOST: '127.0.0.1',
    SWITCHBOARD_ADMIN_KEY: adminKey,
    SWITCHBOARD_SECRET_KEY: randomBytes(32).toString('hex'),
    SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true',
    SWITCHBOARD_DATA_DIR: dir,
    SWITCHBOARD_DELIVERY_SCHEDULE: '0.05,0.1,0.2,0.5,1,1,1,1,1,1',
    PUBLIC_URL: base,
    LOG_LEVEL: 'warn',
  };
  const agent = await startFakeAgent();
  let child: ChildProcess | undefined;
  let stderr = '';
  let starts = 0;

  async function start(): Promise<void> {
    starts++;
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4000);
    });
    await waitUntil(async () => (await fetch(`${base}/healthz`).then((r) => r.ok).catch(() => false)) || undefined, 60_000, 'the server to come up');
  }
  async function kill(): Promise<void> {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  }

  try {
    await start();
    const api = async (path: string, body: unknown) => {
      const r = await fetch(base + path, { method: 'POST', headers: { 'x-api-key': adminKey, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(r.status, 201, await r.clone().text());
      return (await r.json()) as any;
    };
    const inst = await api('/v1/instances', { name: 'crash', agent_url: agent.url });
    agent.secret = inst.signing_secret;
    const secret = 'crash-secret_' + randomBytes(8).toString('hex');
    const ch = await api(`/v1/instances/${inst.id}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: 'crash_bot', webhook_secret: secret });

    const acked = new Set<number>();
    let nextId = 1;
    let attempts = 0;
    let stop = false;
    const sender = async (k: number) => {
      while (!stop) {
        const id = nextId++;
        const chat = 9000 + (id % 10); // ten conversations
        const body = JSON.stringify({ update_id: id, message: { message_id: id, from: { id: chat, is_bot: false, first_name: 'L' }, chat: { id: chat, type: 'private' }, date: 1714560000, text: `u${id}` } });
        // Like Telegram: re-send the same update until it is acknowledged (or the run ends).
        while (!stop) {
          attempts++;
          const r = await send({ url: ch.webhook_url, headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret }, body }).catch(() => undefined);
          if (r && r.status >= 200 && r.status < 300) {
            acked.add(id);
            break;
          }
          await sleep(20 + k);
        }
      }
    };
    const load = Promise.all(Array.from({ length: SENDERS }, (_, k) => sender(k)));
    const end = Date.now() + LOAD_MS;
    let kills = 0;
    // At least LOAD_MS of load and at least three kills: a slow start-up (a loaded machine takes
    // 10 s or more to start the server) must not leave the run with fewer kills than it asserts.
    while (Date.now() < end || kills < 3) {
      await sleep(200 + Math.random() * 1000);
      await kill();
      kills++;
      await start();
    }
    stop = true;
    await load;

    // Every acknowledged update reaches the agent. Jobs leased by a killed process are retried
    // when their lease (60 s in services.ts) expires, so this can take up to a minute.
    const delivered = () => new Set(agent.accepted().map((d) => Number(String(d.body?.data?.text ?? '').slice(1))));
    const waitStart = Date.now();
    await waitUntil(() => [...acked].every((id) => delivered().has(id)) || undefined, 90_000, 'every acknowledged update at the agent').catch(() => undefined);
    const catchUpMs = Date.now() - waitStart;

    // What is stored, read through the events API.
    const stored = new Set<number>();
    let storedRows = 0;
    let after = 0;
    for (;;) {
      const r = await fetch(`${base}/v1/instances/${inst.id}/events?after=${after}&limit=500`, { headers: { 'x-api-key': adminKey } });
      const page = (await r.json()) as { events: any[]; next_cursor: string };
      // Each new conversation also opens with a conversation.opened event: count messages only.
      const messages = page.events.filter((e) => e.type === 'message.received');
      for (const e of messages) stored.add(Number(String(e.data.text).slice(1)));
      storedRows += messages.length;
      if (page.events.length < 500) break;
      after = Number(page.next_cursor);
    }
    const okAnswers = new Map<string, number>();
    for (const d of agent.deliveries) okAnswers.set(d.id, (okAnswers.get(d.id) ?? 0) + 1);
    const duplicates = [...okAnswers.values()].reduce((a, n) => a + (n - 1), 0);
    const ackedNotStored = [...acked].filter((id) => !stored.has(id));
    const ackedNotDelivered = [...acked].filter((id) => !delivered().has(id));
    const counts = {
      kills, starts, requests: attempts, acked: acked.size, stored: stored.size, stored_rows: storedRows, catch_up_ms: catchUpMs,
      delivered_distinct: delivered().size, agent_requests: agent.deliveries.length, duplicates_at_agent: duplicates,
      unsigned_at_agent: agent.deliveries.filter((d) => !d.verified).length,
      acked_not_stored: ackedNotStored.length, acked_not_delivered: ackedNotDelivered.length,
    };
    console.log('# crash test counts ' + JSON.stringify(counts));
    assert.ok(kills >= 3, 'the server was killed several times');
    assert.ok(acked.size > 50, 'there was real load');
    assert.deepEqual(ackedNotStored, [], 'every acknowledged update is stored');
    assert.deepEqual(ackedNotDelivered, [], 'every acknowledged update reached the agent');
    assert.equal(counts.unsigned_at_agent, 0);
    assert.equal(storedRows, stored.size, 'each update stored once, re-sends deduplicated');
  } catch (err) {
    console.log('# server stderr (tail):\n' + stderr);
    throw err;
  } finally {
    await kill();
    await agent.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
