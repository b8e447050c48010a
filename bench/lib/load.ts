/**
 * Load generation for the benches. The server under test runs in a child process
 * (`node --import tsx bench/servers/<x>.ts`) so it never shares an event loop with the load
 * generator; autocannon runs in this process, which lets `setupRequest` vary bodies per request.
 * On a 2-core machine that is one core each, which is the most even split available.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import autocannon, { type Request } from 'autocannon';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface LoadResult {
  /** Mean responses per second over the measured window (all statuses). */
  rps: number;
  /** Latency percentiles in milliseconds (sub-millisecond precision, all responses). */
  p50: number;
  p99: number;
  /** Socket errors and timeouts. */
  errors: number;
  non2xx: number;
  total: number;
}

export interface LoadOptions {
  url: string;
  connections?: number;
  /** Measured seconds (BENCH_DURATION overrides). */
  duration?: number;
  /** Unmeasured seconds run first with the same requests (BENCH_WARMUP overrides). */
  warmup?: number;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  body?: string;
  /** Called for every request; returns the body to send (e.g. a unique identifier each time). */
  bodyFor?: () => string;
  /** Fixed total request rate (req/s) instead of as fast as possible: latency below saturation. */
  rate?: number;
  /**
   * For wrk: the body of request number `n` (unique across wrk's threads and runs), as the source
   * of a Lua function `body(n)` returning a string. Without it wrk sends `body` every time, so a
   * case with `bodyFor` and no `bodyLua` runs on autocannon.
   */
  bodyLua?: string;
}

/**
 * The load generator: wrk (C, several threads; `apt-get install wrk`) when it is installed, since
 * one autocannon process cannot saturate a bare node:http server (it tops out at about half of
 * what wrk drives); otherwise autocannon with several workers. BENCH_LOADGEN=autocannon forces it.
 */
export const LOADGEN: 'wrk' | 'autocannon' = process.env.BENCH_LOADGEN !== 'autocannon' && spawnSync('wrk', ['--version']).error === undefined ? 'wrk' : 'autocannon';
const AUTOCANNON_WORKERS = 2;
const WRK_THREADS = 2;

/** Which generator ran a case (wrk cannot do fixed rates or per-request JS bodies). */
export function loadgenFor(opts: LoadOptions): 'wrk' | 'autocannon' {
  if (LOADGEN === 'wrk' && !opts.rate && (!opts.bodyFor || opts.bodyLua)) return 'wrk';
  return 'autocannon';
}

let wrkRun = 0;

/** One wrk run, with a Lua script that numbers requests uniquely and prints its figures as JSON. */
async function onceWrk(opts: LoadOptions, seconds: number): Promise<Sample> {
  const u = new URL(opts.url);
  const dir = mkdtempSync(join(tmpdir(), 'sb-wrk-'));
  const script = join(dir, 'bench.lua');
  const base = Date.now() % 1_000_000 * 1000 + ++wrkRun * 10_000_000_000;
  const lua = `
local threads = {}
function setup(thread) thread:set("tid", #threads + 1); table.insert(threads, thread) end
local counter = 0
wrk.method = ${JSON.stringify(opts.method ?? 'GET')}
wrk.path = ${JSON.stringify(u.pathname + u.search)}
${Object.entries(opts.headers ?? {}).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join('\n')}
${opts.body !== undefined && !opts.bodyLua ? `wrk.body = ${JSON.stringify(opts.body)}` : ''}
${opts.bodyLua ? `${opts.bodyLua}
function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, body(${base} + tid * 100000000 + counter))
end` : ''}
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\n{"requests":%d,"duration_us":%d,"errors":%d,"non2xx":%d,"p50_us":%.1f,"p99_us":%.1f}\\n', summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50), latency:percentile(99)))
end
`;
  writeFileSync(script, lua);
  try {
    const out = await new Promise<string>((resolveOut, reject) => {
      // wrk takes whole seconds only ("1.5s" is a usage error).
      const child = spawn('wrk', ['-t', String(WRK_THREADS), '-c', String(opts.connections ?? 32), '-d', `${Math.max(1, Math.round(seconds))}s`, '-s', script, u.origin + u.pathname + u.search], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (c: Buffer) => (text += c.toString()));
      child.stderr.on('data', (c: Buffer) => (text += c.toString()));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolveOut(text) : reject(new Error(`wrk exited ${code}: ${text}`))));
    });
    const line = out.split('\n').reverse().find((l) => l.startsWith('{"requests"'));
    if (!line) throw new Error(`wrk printed no result: ${out}`);
    const r = JSON.parse(line) as { requests: number; duration_us: number; errors: number; non2xx: number; p50_us: number; p99_us: number };
    // wrk gives percentiles, not every latency: keep them as a two-point record (merged runs then
    // report the worst slice's p99, which errs on the safe side).
    return { latencies: [], p: { p50: r.p50_us / 1000, p99: r.p99_us / 1000 }, total: r.requests, seconds: r.duration_us / 1e6, errors: r.errors, non2xx: r.non2xx };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const envNum = (name: string): number | undefined => {
  const v = process.env[name];
  return v !== undefined && v !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined;
};

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** One autocannon run: raw figures, so several runs can be merged. */
interface Sample {
  latencies: number[];
  /** Percentiles reported by the generator itself (wrk), when it does not give every latency. */
  p?: { p50: number; p99: number };
  total: number;
  seconds: number;
  errors: number;
  non2xx: number;
}

async function once(opts: LoadOptions, seconds: number): Promise<Sample> {
  if (loadgenFor(opts) === 'wrk') return onceWrk(opts, seconds);
  if (!opts.rate && !opts.bodyFor) return onceAutocannonWorkers(opts, seconds);
  return onceAutocannon(opts, seconds);
}

/**
 * Without wrk: autocannon's worker threads, so the generator is not one JS thread (it still
 * records latencies only through its own histogram, in whole milliseconds).
 */
async function onceAutocannonWorkers(opts: LoadOptions, seconds: number): Promise<Sample> {
  const u = new URL(opts.url);
  const r = await autocannon({
    url: opts.url,
    connections: opts.connections ?? 32,
    duration: seconds,
    workers: AUTOCANNON_WORKERS,
    method: opts.method ?? 'GET',
    headers: opts.headers ?? {},
    ...(opts.body !== undefined ? { body: opts.body } : {}),
  } as Parameters<typeof autocannon>[0]);
  void u;
  return { latencies: [], p: { p50: r.latency.p50, p99: r.latency.p99 }, total: r.requests.total, seconds: r.duration, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}

async function onceAutocannon(opts: LoadOptions, seconds: number): Promise<Sample> {
  const latencies: number[] = [];
  const u = new URL(opts.url);
  const request: Request = {
    method: opts.method ?? 'GET',
    path: u.pathname + u.search,
    headers: opts.headers ?? {},
  };
  if (opts.body !== undefined) request.body = opts.body;
  if (opts.bodyFor) {
    const bodyFor = opts.bodyFor;
    request.setupRequest = (req) => ({ ...req, body: bodyFor() });
  }
  const instance = autocannon({
    url: u.origin,
    connections: opts.connections ?? 32,
    duration: seconds,
    requests: [request],
    ...(opts.rate ? { overallRate: opts.rate } : {}),
  });
  // Our own latency record: autocannon's histogram is whole milliseconds, too coarse here.
  instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
    latencies.push(responseTime);
  });
  const r = await instance;
  return { latencies, total: r.requests.total, seconds: r.duration, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}

function summarise(samples: Sample[]): LoadResult {
  const sorted = Float64Array.from(samples.flatMap((s) => s.latencies)).sort();
  const sum = (f: (s: Sample) => number) => samples.reduce((a, s) => a + f(s), 0);
  const reported = samples.filter((s) => s.p);
  const weighted = (k: 'p50' | 'p99') => reported.reduce((a, s) => a + s.p![k] * s.total, 0) / Math.max(1, sum((s) => (s.p ? s.total : 0)));
  return {
    rps: sum((s) => s.total) / sum((s) => s.seconds),
    p50: sorted.length ? percentile(sorted, 50) : weighted('p50'),
    p99: sorted.length ? percentile(sorted, 99) : Math.max(...reported.map((s) => s.p!.p99)),
    errors: sum((s) => s.errors),
    non2xx: sum((s) => s.non2xx),
    total: sum((s) => s.total),
  };
}

const warmupSeconds = (o: LoadOptions) => envNum('BENCH_WARMUP') ?? o.warmup ?? 2;
const measuredSeconds = (o: LoadOptions) => envNum('BENCH_DURATION') ?? o.duration ?? 8;

/** One measured run of `seconds`, no warm-up (for slices a bench alternates itself). */
export async function measure(opts: LoadOptions, seconds: number): Promise<LoadResult> {
  return summarise([await once(opts, seconds)]);
}

/** Warms up, then measures. */
export async function load(opts: LoadOptions): Promise<LoadResult> {
  if (warmupSeconds(opts) > 0) await once(opts, warmupSeconds(opts));
  return summarise([await once(opts, measuredSeconds(opts))]);
}

export interface Comparison {
  baseline: LoadResult;
  subject: LoadResult;
  /** subject rps / baseline rps over the whole measurement, and per slice (its spread). */
  ratio: number;
  sliceRatios: number[];
}

/**
 * Measures a baseline and a subject in alternating slices (BENCH_SLICES, default 4, each
 * duration/slices seconds), after warming both up, so that load from elsewhere on a noisy machine
 * falls on both about equally. The ratio is the figure to trust; the absolute numbers are not.
 */
export async function compare(baseline: LoadOptions, subject: LoadOptions): Promise<Comparison> {
  const slices = Math.max(1, Math.round(envNum('BENCH_SLICES') ?? 4));
  for (const o of [baseline, subject]) if (warmupSeconds(o) > 0) await once(o, warmupSeconds(o));
  const b: Sample[] = [];
  const s: Sample[] = [];
  const sliceRatios: number[] = [];
  for (let i = 0; i < slices; i++) {
    // Alternate which goes first so neither always follows the other.
    const [first, second] = i % 2 === 0 ? [baseline, subject] : [subject, baseline];
    const x = await once(first, measuredSeconds(first) / slices);
    const y = await once(second, measuredSeconds(second) / slices);
    const [bs, ss] = first === baseline ? [x, y] : [y, x];
    b.push(bs);
    s.push(ss);
    sliceRatios.push(ss.total / ss.seconds / (bs.total / bs.seconds));
  }
  const base = summarise(b);
  const subj = summarise(s);
  return { baseline: base, subject: subj, ratio: subj.rps / base.rps, sliceRatios };
}

export interface ServerHandle<T> {
  /** The JSON line the server printed once listening (at least `port`). */
  info: T & { port: number };
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `bench/servers/<name>.ts` in a child process and waits for its first stdout line (JSON
 * with `port`). With BENCH_CPU_PROF=1 the child runs under `--cpu-prof`, writing .cpuprofile
 * files to bench/profiles/<name>-<time>/ when it is stopped.
 */
export async function startServer<T = Record<string, unknown>>(name: string, env: Record<string, string> = {}): Promise<ServerHandle<T>> {
  const args = ['--import', 'tsx'];
  if (process.env.BENCH_CPU_PROF === '1') {
    // One directory per server: the tsx loader thread writes its own profile next to the main
    // thread's (the main thread's is the one with the request handling, usually the larger file).
    const dir = resolve(REPO_ROOT, 'bench', 'profiles', `${name}-${new Date().toISOString().replace(/[:.]/g, '')}`);
    mkdirSync(dir, { recursive: true });
    args.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
  }
  args.push(resolve(REPO_ROOT, 'bench', 'servers', `${name}.ts`));
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const info = await new Promise<T & { port: number }>((res, rej) => {
    const lines = createInterface({ input: child.stdout! });
    child.once('exit', (code) => rej(new Error(`bench server ${name} exited (${code}) before listening`)));
    lines.once('line', (line) => {
      try {
        res(JSON.parse(line));
      } catch {
        rej(new Error(`bench server ${name} printed ${JSON.stringify(line)}, not JSON`));
      }
    });
  });
  return {
    info,
    url: `http://127.0.0.1:${info.port}`,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
