/**
 * What one job claim costs as the queue grows (SQLite, JobsRepo.claim directly, no HTTP): the
 * baseline is a queue holding just the 16 jobs a claim takes. A backlog of due jobs should cost
 * about the same (a claim stops after its 16 matches), and so should a backlog behind an agent that
 * is down (each conversation's first job waiting for its retry, everything after it blocked): the
 * blocked jobs are parked until that retry, so claims do not walk them (see src/queue/jobs.ts).
 *
 *   node --import tsx bench/queue.ts       (or BENCH_ONLY=queue npm run bench)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store/database.js';
import { JobsRepo } from '../src/queue/jobs.js';
import type { BenchResult, Row } from './lib/report.js';

const GROUPS = 1000;
const CLAIMS = Number(process.env.BENCH_QUEUE_CLAIMS ?? 200);

interface Case {
  name: string;
  jobs: number;
  /** The first job of each conversation waits for a retry an hour away (the agent is down). */
  headsWaiting: boolean;
}

async function measure(c: Case): Promise<Row & { ms: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-queue-'));
  const store = await openStore(`sqlite:${join(dir, 'q.db')}`);
  try {
    const now = Date.now();
    await store.db.insertInto('instances').values({ id: 'i', name: 'q', agent_url: null, signing_secret_enc: 'x', created_at: new Date(now).toISOString(), updated_at: new Date(now).toISOString() }).execute();
    const later = new Date(now + 3600_000).toISOString();
    const jobs = new JobsRepo(store.db, store.dialect);
    // Built through the repository, as the running system builds it: when the agent is down, the
    // first job of each conversation is claimed, fails and is put off (retry), then more events
    // arrive behind it.
    const enqueue = (from: number, to: number) =>
      store.db.transaction().execute(async (trx) => {
        for (let i = from; i < to; i++) await jobs.enqueue(trx, { kind: 'deliver', instanceId: 'i', groupKey: `deliver:c${i % GROUPS}`, refId: `r${i}` }, new Date(now - (c.jobs - i)).toISOString());
      });
    if (c.headsWaiting) {
      await enqueue(0, Math.min(GROUPS, c.jobs));
      const t = new Date().toISOString();
      for (;;) {
        const heads = await jobs.claim(['deliver'], 'setup', 500, t, later);
        if (heads.length === 0) break;
        for (const h of heads) await jobs.retry(h, 'setup', 'the agent is down', later, t);
      }
      await enqueue(Math.min(GROUPS, c.jobs), c.jobs);
    } else {
      await enqueue(0, c.jobs);
    }
    const ms: number[] = [];
    for (let i = 0; i < CLAIMS + 20; i++) {
      const t = new Date().toISOString();
      const t0 = process.hrtime.bigint();
      // A lease that has already run out: the same jobs stay claimable, so every claim sees one queue.
      await jobs.claim(['deliver', 'send'], 'bench', 16, t, new Date(Date.now() - 1000).toISOString());
      if (i >= 20) ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    ms.sort((a, b) => a - b);
    const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
    return { name: c.name, server: 'switchboard', connections: 1, rps: 1000 / mean, p50: ms[Math.floor(ms.length / 2)], p99: ms[Math.floor(ms.length * 0.99)], errors: 0, non2xx: 0, total: ms.length, ms };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function queueBench(): Promise<BenchResult> {
  const cases: Case[] = [
    { name: 'claim 16 of 16 queued jobs', jobs: 16, headsWaiting: false },
    { name: 'claim 16 of 3,000 due jobs (1,000 conversations)', jobs: 3000, headsWaiting: false },
    { name: 'claim 16 of 36,000 due jobs (1,000 conversations)', jobs: 36000, headsWaiting: false },
    { name: 'agent down: 3,000 queued, every head waiting', jobs: 3000, headsWaiting: true },
    { name: 'agent down: 36,000 queued, every head waiting', jobs: 36000, headsWaiting: true },
  ];
  const rows: (Row & { ms: number[] })[] = [];
  for (const c of cases) {
    process.stderr.write(`  queue: ${c.name}...\n`);
    rows.push(await measure(c));
  }
  const base = rows[0];
  for (const r of rows.slice(1)) {
    r.baseline = base.name;
    r.ratio = r.rps / base.rps;
  }
  const byName = (n: string) => rows.find((r) => r.name === n)!;
  const due = byName('claim 16 of 36,000 due jobs (1,000 conversations)');
  const down = byName('agent down: 36,000 queued, every head waiting');
  const meanMs = (r: Row) => 1000 / r.rps;
  return {
    name: 'queue',
    description: `cost of one job claim as the queue grows (SQLite, JobsRepo.claim, ${CLAIMS} claims per case); ratio = claims/s vs a queue of 16`,
    rows: rows.map(({ ms: _ms, ...r }) => r),
    aims: [
      { aim: 'a claim over a backlog of due jobs costs < 2x the baseline', measured: `${(meanMs(due) / meanMs(base)).toFixed(1)}x (${meanMs(due).toFixed(3)} ms vs ${meanMs(base).toFixed(3)} ms)`, holds: meanMs(due) < 2 * meanMs(base) },
      { aim: 'a claim while an agent is down (36,000 blocked) costs < 2x the baseline', measured: `${(meanMs(down) / meanMs(base)).toFixed(1)}x (${meanMs(down).toFixed(3)} ms)`, holds: meanMs(down) < 2 * meanMs(base) },
    ],
    notes: [
      'req/s = claims per second one after another; p50/p99 = one claim in ms.',
      'The runner claims when a job is committed and when a slot frees, so during an outage the cost above is paid for every new event.',
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { textTable } = await import('./lib/report.js');
  console.log(textTable(await queueBench()));
}
