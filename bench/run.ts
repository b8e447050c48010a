/**
 * `npm run bench`: runs every bench below in turn, prints its table, and writes
 * bench/results.json and bench/RESULTS.md. Adding a bench is one line in BENCHES: a module whose
 * default export is a `Bench` (see bench/lib/report.ts and bench/api.ts).
 *
 *   BENCH_ONLY=api,...     run only these benches
 *   BENCH_DURATION=8       measured seconds per case;  BENCH_WARMUP=2  warm-up seconds per case
 *   BENCH_SLICES=4         alternating baseline/subject slices the measured time is cut into
 *   BENCH_CPU_PROF=1       run the servers under --cpu-prof (profiles in bench/profiles/)
 *   LOG_LEVEL=warn         the Switchboard server's log level
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { REPO_ROOT } from './lib/load.js';
import { markdown, textTable, type Bench, type BenchResult } from './lib/report.js';

const BENCHES: Record<string, () => Promise<{ default: Bench }>> = {
  api: () => import('./api.js'),
  voice: () => import('./voice.js'),
  ingress: () => import('./ingress.js'),
  store: () => import('./store.js'),
  outbound: () => import('./outbound.js'),
  queue: () => import('./queue.js'),
};

const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
const names = Object.keys(BENCHES).filter((n) => !only || only.includes(n));
const loadAtStart = loadavg().map((l) => l.toFixed(2)).join(' ');
const results: BenchResult[] = [];
for (const name of names) {
  process.stderr.write(`bench ${name}\n`);
  const bench = (await BENCHES[name]()).default;
  const result = await bench();
  results.push(result);
  process.stdout.write(textTable(result) + '\n\n');
}

const meta = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
  duration: `${process.env.BENCH_DURATION ?? 8} s measured (in ${process.env.BENCH_SLICES ?? 4} alternating slices) after ${process.env.BENCH_WARMUP ?? 2} s warm-up, per server and case`,
  'load average': `${loadAtStart} at start, ${loadavg().map((l) => l.toFixed(2)).join(' ')} at end (other work on the machine skews absolute figures)`,
};
writeFileSync(resolve(REPO_ROOT, 'bench', 'results.json'), JSON.stringify({ ...meta, results }, null, 2) + '\n');
writeFileSync(resolve(REPO_ROOT, 'bench', 'RESULTS.md'), markdown(results, meta));
process.stdout.write('wrote bench/results.json and bench/RESULTS.md\n');
