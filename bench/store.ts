/**
 * Verified Telegram ingress on each store, with `npm start`'s defaults (LOG_LEVEL=info, one access
 * line per request, written to a file), driven by wrk when installed (see lib/load.ts LOADGEN):
 *
 * 1. SQLite: Switchboard against the bare node:http server reading the same body, alternating slices.
 * 2. PostgreSQL (only with BENCH_DATABASE_URL=postgres://...; a database of its own is created and
 *    dropped): the same against bare, and against the database's own ceiling measured in the same
 *    run, alternating: single-row durable INSERT transactions at 32 clients (pgbench when
 *    installed, else a Node loop), each with a ~450-byte row like an event's.
 * 3. PostgreSQL, two nodes ingesting for one instance at once (16 connections each) against one
 *    node taking all 32, alternating: nothing should serialise the two.
 *
 * Every request is a new update (unique update_id, one of 1,000 chats), so each one is verify +
 * parse + dedupe + durable commit (+ numbering on PostgreSQL) + 200. The instance has no agent_url.
 * Also runs alone: `BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import tsx bench/store.ts`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { compare, LOADGEN, measure, startServer, type LoadOptions, type ServerHandle } from './lib/load.js';
import type { BenchResult, Row } from './lib/report.js';

const CONNECTIONS = 32;
const PG_URL = process.env.BENCH_DATABASE_URL;
const SECONDS = Number(process.env.BENCH_DURATION ?? 8);
const SLICES = Math.max(1, Math.round(Number(process.env.BENCH_SLICES ?? 4)));
const TEXT = 'Hi! I ordered the blue rain jacket last week (order #48213) and it still has not shipped. Could you check where it is, please?';
let jsCounter = 900_000_000_000;

/** The update for request n (Lua for wrk, JS for autocannon: the same bytes). */
const BODY_LUA = `function body(n)
  local chat = 710000000 + (n % 1000)
  return string.format('{"update_id":%.0f,"message":{"message_id":%.0f,"from":{"id":%.0f,"is_bot":false,"first_name":"Ada","last_name":"Lovelace","username":"ada_%.0f","language_code":"en"},"chat":{"id":%.0f,"first_name":"Ada","type":"private"},"date":1714560000,"text":"${TEXT}"}}', n, n % 2000000000, chat, chat, chat)
end`;
function bodyJs(): string {
  const n = jsCounter++;
  const chat = 710_000_000 + (n % 1000);
  return JSON.stringify({ update_id: n, message: { message_id: n % 2_000_000_000, from: { id: chat, is_bot: false, first_name: 'Ada', last_name: 'Lovelace', username: `ada_${chat}`, language_code: 'en' }, chat: { id: chat, first_name: 'Ada', type: 'private' }, date: 1714560000, text: TEXT } });
}

type Sb = ServerHandle<{ adminKey: string }>;

async function provision(sb: Sb): Promise<{ path: string; headers: Record<string, string> }> {
  const api = async (path: string, body: unknown) => {
    const res = await fetch(sb.url + path, { method: 'POST', headers: { 'x-api-key': sb.info.adminKey, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`POST ${path} answered ${res.status}: ${text}`);
    return JSON.parse(text) as Record<string, any>;
  };
  const secret = 'bench_' + randomBytes(24).toString('hex');
  const inst = await api('/v1/instances', { name: 'store bench', agent_url: null });
  const ch = await api(`/v1/instances/${inst.id}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: 'bench_store_bot', webhook_secret: secret, enabled: true });
  const headers = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret };
  const path = new URL(ch.webhook_url as string).pathname;
  const r = await fetch(sb.url + path, { method: 'POST', headers, body: bodyJs() });
  if (r.status !== 200) throw new Error(`webhook answered ${r.status}: ${await r.text()}`);
  return { path, headers };
}

function hook(url: string, headers: Record<string, string>, connections = CONNECTIONS): LoadOptions {
  return { url, method: 'POST', headers, connections, bodyFor: bodyJs, bodyLua: BODY_LUA };
}

const row = (name: string, server: string, r: { rps: number; p50: number; p99: number; errors: number; non2xx: number; total: number }, extra: Partial<Row> = {}): Row => ({ name, server, connections: CONNECTIONS, ...r, ...extra });

/** Durable single-row INSERT transactions per second at 32 clients for `seconds` (pgbench if present). */
async function insertCeiling(url: string, seconds: number): Promise<{ tps: number; tool: string }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('create table if not exists bench_ceiling (id bigserial primary key, payload text not null)');
  await c.end();
  const payload = 'x'.repeat(450);
  if (spawnSync('pgbench', ['--version']).error === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'sb-pgbench-'));
    const script = join(dir, 'insert.sql');
    writeFileSync(script, `insert into bench_ceiling (payload) values ('${payload}');\n`);
    try {
      const out = await new Promise<string>((res, rej) => {
        const p = spawn('pgbench', ['-n', '-c', String(CONNECTIONS), '-j', '2', '-T', String(Math.max(1, Math.round(seconds))), '-f', script, url], { stdio: ['ignore', 'pipe', 'pipe'] });
        let text = '';
        p.stdout.on('data', (b: Buffer) => (text += b));
        p.stderr.on('data', (b: Buffer) => (text += b));
        p.on('exit', (code) => (code === 0 ? res(text) : rej(new Error(`pgbench exited ${code}: ${text}`))));
      });
      const m = /tps = ([\d.]+)/.exec(out);
      if (!m) throw new Error(`pgbench printed no tps: ${out}`);
      return { tps: Number(m[1]), tool: 'pgbench' };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const pool = new pg.Pool({ connectionString: url, max: CONNECTIONS });
  let n = 0;
  const end = Date.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (Date.now() < end) {
      await pool.query('insert into bench_ceiling (payload) values ($1)', [payload]);
      n++;
    }
  }));
  const tps = n / ((performance.now() - t0) / 1000);
  await pool.end();
  return { tps, tool: 'a Node loop (pg, 32 clients)' };
}

export default async function storeBench(): Promise<BenchResult> {
  const rows: Row[] = [];
  const aims: BenchResult['aims'] = [];
  const notes: string[] = [`load generator: ${LOADGEN === 'wrk' ? 'wrk (2 threads)' : 'autocannon (wrk not found)'}; servers at LOG_LEVEL=${process.env.LOG_LEVEL ?? 'info'} (npm start's default), logs to a file`];
  const logDir = mkdtempSync(join(tmpdir(), 'sb-store-bench-'));
  const env = (extra: Record<string, string> = {}) => ({ LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', BENCH_SB_LOG_FILE: join(logDir, `server-${randomBytes(3).toString('hex')}.log`), ...extra });
  const bare = await startServer('bare', { BARE_POST_BODY: '{"ok":true}' });
  try {
    // 1. SQLite.
    {
      const sb = await startServer<{ adminKey: string }>('outbound', env());
      try {
        const { path, headers } = await provision(sb);
        process.stderr.write('  sqlite ingress: bare and switchboard, alternating...\n');
        const c = await compare(hook(bare.url + path, headers), hook(sb.url + path, headers));
        rows.push(row('Telegram ingress, SQLite', 'bare', c.baseline), row('Telegram ingress, SQLite', 'switchboard', c.subject, { baseline: 'Telegram ingress, SQLite on bare', ratio: c.ratio, ratioRange: [Math.min(...c.sliceRatios), Math.max(...c.sliceRatios)] }));
        aims.push({ aim: 'SQLite ingress >= 0.35x bare', measured: `${c.ratio.toFixed(2)}x`, holds: c.ratio >= 0.35 });
      } finally {
        await sb.stop();
      }
    }
    if (!PG_URL) {
      notes.push('PostgreSQL parts skipped: set BENCH_DATABASE_URL=postgres://... (a database of its own is created in that server and dropped after)');
      return { name: 'store', description: 'Verified Telegram ingress per store, npm start defaults', rows, aims, notes };
    }
    // 2 and 3. PostgreSQL, in a database of its own.
    const dbName = `sb_bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
    const server = new pg.Client({ connectionString: PG_URL });
    await server.connect();
    await server.query(`create database "${dbName}"`);
    const u = new URL(PG_URL);
    u.pathname = `/${dbName}`;
    const dbUrl = u.toString();
    const shared = { BENCH_SB_DATABASE_URL: dbUrl, BENCH_SB_ADMIN_KEY: 'sb_bench_admin_' + randomBytes(12).toString('hex'), BENCH_SB_SECRET_KEY: randomBytes(32).toString('hex') };
    let a: Sb | undefined;
    let b: Sb | undefined;
    try {
      a = await startServer<{ adminKey: string }>('outbound', env(shared));
      const { path, headers } = await provision(a);
      process.stderr.write('  postgres ingress: bare and switchboard, alternating...\n');
      const c = await compare(hook(bare.url + path, headers), hook(a.url + path, headers));
      rows.push(row('Telegram ingress, PostgreSQL', 'bare', c.baseline), row('Telegram ingress, PostgreSQL', 'switchboard', c.subject, { baseline: 'Telegram ingress, PostgreSQL on bare', ratio: c.ratio, ratioRange: [Math.min(...c.sliceRatios), Math.max(...c.sliceRatios)] }));
      aims.push({ aim: 'PostgreSQL ingress p99 < 25 ms', measured: `${c.subject.p99.toFixed(1)} ms`, holds: c.subject.p99 < 25 });

      // Ceiling and Switchboard in alternating slices.
      process.stderr.write('  postgres: INSERT ceiling and switchboard, alternating...\n');
      const ceil: number[] = [];
      const sbRps: number[] = [];
      let tool = '';
      const slice = SECONDS / SLICES;
      for (let i = 0; i < SLICES; i++) {
        const runSb = async () => {
          const r = await measure(hook(a!.url + path, headers), slice);
          sbRps.push(r.rps);
        };
        const runCeil = async () => {
          const r = await insertCeiling(dbUrl, slice);
          ceil.push(r.tps);
          tool = r.tool;
        };
        if (i % 2 === 0) {
          await runCeil();
          await runSb();
        } else {
          await runSb();
          await runCeil();
        }
      }
      const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
      const ratio = mean(sbRps) / mean(ceil);
      const sliceRatios = sbRps.map((v, i) => v / ceil[i]);
      rows.push({ name: `single-row durable INSERT, ${tool}`, server: 'postgres', connections: CONNECTIONS, rps: mean(ceil), p50: NaN, p99: NaN, errors: 0, non2xx: 0, total: 0 });
      rows.push({ name: 'Telegram ingress, PostgreSQL (vs the INSERT ceiling)', server: 'switchboard', connections: CONNECTIONS, rps: mean(sbRps), p50: NaN, p99: NaN, errors: 0, non2xx: 0, total: 0, baseline: `single-row durable INSERT, ${tool} on postgres`, ratio, ratioRange: [Math.min(...sliceRatios), Math.max(...sliceRatios)] });
      aims.push({ aim: 'PostgreSQL ingress >= 0.5x the same-run INSERT ceiling', measured: `${ratio.toFixed(2)}x (${Math.round(mean(sbRps))} vs ${Math.round(mean(ceil))}/s)`, holds: ratio >= 0.5 });

      // Two nodes for one instance against one node.
      b = await startServer<{ adminKey: string }>('outbound', env(shared));
      process.stderr.write('  postgres: one node vs two nodes, alternating...\n');
      const one: number[] = [];
      const two: number[] = [];
      for (let i = 0; i < SLICES; i++) {
        const runOne = async () => one.push((await measure(hook(a!.url + path, headers), slice)).rps);
        const runTwo = async () => {
          const [x, y] = await Promise.all([measure(hook(a!.url + path, headers, CONNECTIONS / 2), slice), measure(hook(b!.url + path, headers, CONNECTIONS / 2), slice)]);
          two.push(x.rps + y.rps);
        };
        if (i % 2 === 0) {
          await runOne();
          await runTwo();
        } else {
          await runTwo();
          await runOne();
        }
      }
      const r2 = mean(two) / mean(one);
      rows.push({ name: 'PostgreSQL ingress, one node, one instance', server: 'switchboard', connections: CONNECTIONS, rps: mean(one), p50: NaN, p99: NaN, errors: 0, non2xx: 0, total: 0 });
      rows.push({ name: 'PostgreSQL ingress, two nodes, same instance', server: 'switchboard x2', connections: CONNECTIONS, rps: mean(two), p50: NaN, p99: NaN, errors: 0, non2xx: 0, total: 0, baseline: 'PostgreSQL ingress, one node, one instance on switchboard', ratio: r2, ratioRange: [Math.min(...two.map((v, i) => v / one[i])), Math.max(...two.map((v, i) => v / one[i]))] });
      aims.push({ aim: 'two nodes on one instance >= one node', measured: `${r2.toFixed(2)}x`, holds: r2 >= 1 });
      notes.push('On a 2-core machine the two nodes, PostgreSQL and the load generator share the same cores: two nodes cannot add CPU, only show that nothing serialises them.');
    } finally {
      await a?.stop();
      await b?.stop();
      await server.query(`drop database if exists "${dbName}" with (force)`).catch(() => undefined);
      await server.end();
    }
    return { name: 'store', description: 'Verified Telegram ingress per store, npm start defaults', rows, aims, notes };
  } finally {
    await bare.stop();
    rmSync(logDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { textTable } = await import('./lib/report.js');
  process.stdout.write(textTable(await storeBench()) + '\n');
}
