/**
 * Voice latency: how long Switchboard takes from Retell's `response_required` to the first
 * `response` frame, next to the agent's own time to first token. Switchboard runs in a child
 * process (this file, started with VOICE_BENCH_ROLE=server: the real app on a fresh SQLite file,
 * one instance whose agent_url is the stub, one Retell voice channel); the Retell client (`ws`)
 * and the streaming agent stub (SSE, first token after AGENT_THINK_MS) run in this process, so
 * every timestamp is on one clock:
 *
 *   total     = first frame received - response_required sent
 *   agent     = stub's first token written - request received by the stub
 *   overhead  = total - agent  (socket hops, storing the turn, the signed POST, SSE parsing,
 *               speakable rendering, framing)
 *
 * Aim: overhead p50 < 20 ms. Printed, never asserted. VOICE_BENCH_TURNS (default 300) turns, one
 * at a time, after 30 unmeasured ones.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';
import { retell } from '../src/adapters/retell/index.js';
import { startAgentStub } from '../test/voice/agent-stub.js';
import { REPO_ROOT } from './lib/load.js';
import type { BenchResult, Row } from './lib/report.js';

const AGENT_THINK_MS = 20;
const OVERHEAD_P50_AIM_MS = 20;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
}

async function serve(): Promise<void> {
  const pino = (await import('pino')).default;
  const { buildApp } = await import('../src/api/app.js');
  const { loadConfig } = await import('../src/config.js');
  const { makeServices } = await import('../src/core/services.js');
  const { SecretBox } = await import('../src/crypto/secret-box.js');
  const { loggerOptions } = await import('../src/log.js');
  const { openStore } = await import('../src/store/database.js');
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-voice-bench-'));
  const config = loadConfig({ DATABASE_URL: `sqlite:${join(dir, 'switchboard.db')}`, SWITCHBOARD_DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'warn', SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' });
  const logger = pino(loggerOptions('warn'), pino.destination(2));
  const store = await openStore(config.databaseUrl);
  const services = makeServices(config, store, SecretBox.fromKey(randomBytes(32)), logger);
  const operator = { kind: 'operator', keyId: null } as const;
  const instance = await services.instances.create(operator, { name: 'voice bench', agent_url: process.env.AGENT_URL ?? null });
  const conn = await services.accounts.createConnection(instance.id, { provider: 'retell', secrets: { api_key: 'key_voice_bench' }, settings: {} });
  const ch = await services.channels.create(operator, instance.id, { channel_type: 'voice', provider: 'retell', external_identifier: '+15550009999', config: { agent_id: 'agent_bench' }, connection_id: conn.id, enabled: true });
  const app = await buildApp(services, { logger });
  await app.listen({ host: '127.0.0.1', port: 0 });
  await services.start();
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  config.publicUrl = `http://127.0.0.1:${port}`;
  const { VoiceService } = await import('../src/voice/service.js');
  const voice = new VoiceService(services.repos, services.inbox, services.contexts, undefined as never, logger);
  const token = voice.retellToken((await voice.channel(ch.id, retell))!);
  process.stdout.write(JSON.stringify({ port, socketUrl: `ws://127.0.0.1:${port}/v1/voice/retell/${ch.id}/${token}`, instance: instance.signing_secret }) + '\n');
  process.on('SIGTERM', () => {
    void (async () => {
      await app.close();
      await services.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    })();
  });
}

export default async function voiceBench(): Promise<BenchResult> {
  const turns = Number(process.env.VOICE_BENCH_TURNS ?? 300);
  const warm = 30;
  const stub = await startAgentStub();
  stub.script = () => ({ delayMs: AGENT_THINK_MS, sse: ['Sure, ', 'I can ', 'help with ', 'that.'], chunkDelayMs: 5 });
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(REPO_ROOT, 'bench', 'voice.ts')], { cwd: REPO_ROOT, env: { ...process.env, VOICE_BENCH_ROLE: 'server', AGENT_URL: stub.url }, stdio: ['ignore', 'pipe', 'inherit'] });
  const info = await new Promise<{ socketUrl: string; instance: string }>((res, rej) => {
    child.once('exit', (code) => rej(new Error(`voice bench server exited (${code})`)));
    createInterface({ input: child.stdout! }).once('line', (l) => res(JSON.parse(l)));
  });
  stub.secret = info.instance;

  const callId = `call_bench_${Date.now()}`;
  const ws = new WebSocket(`${info.socketUrl}/${callId}`);
  await new Promise((ok, fail) => (ws.once('open', ok), ws.once('error', fail)));
  const waiting = new Map<number, (at: number) => void>();
  ws.on('message', (d) => {
    const at = performance.now();
    const f = JSON.parse(String(d)) as { response_type: string; response_id?: number };
    if (f.response_type === 'response' && f.response_id !== undefined) {
      waiting.get(f.response_id)?.(at);
      waiting.delete(f.response_id);
    }
  });
  ws.send(JSON.stringify({ interaction_type: 'call_details', call: { call_id: callId, agent_id: 'agent_bench', to_number: '+15550009999', from_number: '+15550000001' } }));

  const total: number[] = [];
  const agent: number[] = [];
  const overhead: number[] = [];
  const started = performance.now();
  for (let id = 1; id <= warm + turns; id++) {
    const first = new Promise<number>((r) => waiting.set(id, r));
    const sent = performance.now();
    ws.send(JSON.stringify({ interaction_type: 'response_required', response_id: id, transcript: [{ role: 'user', content: `question number ${id}` }] }));
    const at = await first;
    const req = stub.requests[stub.requests.length - 1];
    await stub.waitFor(() => req.done, 5000);
    // Let the answer finish streaming before the next turn (a new one would barge in).
    await new Promise((r) => setTimeout(r, 40));
    if (id <= warm) continue;
    const t = at - sent;
    const a = (req.firstByteAt ?? NaN) - req.receivedAt;
    total.push(t);
    agent.push(a);
    overhead.push(t - a);
  }
  const seconds = (performance.now() - started) / 1000;
  ws.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await stub.close();

  const row = (name: string, server: string, xs: number[]): Row => ({ name, server, connections: 1, rps: (warm + turns) / seconds, p50: pct(xs, 50), p99: pct(xs, 99), errors: 0, non2xx: 0, total: xs.length });
  const p50 = pct(overhead, 50);
  return {
    name: 'voice',
    description: `Retell response_required -> first response frame, streaming SSE agent stub (first token after ${AGENT_THINK_MS} ms), ${turns} turns one at a time, SQLite`,
    rows: [row('response_required -> first frame', 'switchboard', total), row("agent's own first token", 'agent stub', agent), row('overhead (total - agent)', 'switchboard', overhead)],
    aims: [{ aim: `overhead p50 < ${OVERHEAD_P50_AIM_MS} ms`, measured: `${p50.toFixed(2)} ms (p90 ${pct(overhead, 90).toFixed(2)}, p99 ${pct(overhead, 99).toFixed(2)})`, holds: p50 < OVERHEAD_P50_AIM_MS }],
    notes: ['"vs bare" does not apply: latency bench; req/s is turns per second including the pause between turns.', 'The overhead covers two socket hops, storing the turn (one SQLite transaction + one read), the signed POST to the agent, reading its first SSE block, rendering it speakable and framing it.'],
  };
}

if (process.env.VOICE_BENCH_ROLE === 'server') await serve();
