/**
 * Putting a group's first job off (retry, defer) parks the jobs behind it until the same time, on
 * every store (one statement on PostgreSQL, one transaction on SQLite), and only while the job is
 * still leased to the node. And a runner whose claims fail (the database is away) keeps trying,
 * logs the failure once, and runs the jobs once claims work again.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { openStore } from '../../src/store/database.js';
import { JobsRepo, type JobRow } from '../../src/queue/jobs.js';
import { JobRunner } from '../../src/queue/runner.js';
import { Notifier } from '../../src/queue/notifier.js';
import { freshStore, releaseStore, storeKinds } from '../helpers/stores.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const kind of storeKinds()) {
  describe(`putting a job off on ${kind}`, () => {
    test('retry parks the group behind it; defer gives the attempt back; a lost lease changes nothing', async () => {
      const t = freshStore(kind);
      const store = await openStore(t.url, { pgSchema: t.pgSchema });
      try {
        const now = new Date().toISOString();
        await store.db.insertInto('instances').values({ id: 'i1', name: 'x', agent_url: null, signing_secret_enc: 'x', created_at: now, updated_at: now }).execute();
        const jobs = new JobsRepo(store.db, store.dialect);
        for (const ref of ['h', 'b1', 'b2']) await jobs.enqueue(store.db, { kind: 'deliver', instanceId: 'i1', groupKey: 'g', refId: ref }, now);
        await jobs.enqueue(store.db, { kind: 'deliver', instanceId: 'i1', groupKey: 'other', refId: 'o' }, now);
        const rows = async () => Object.fromEntries((await store.db.selectFrom('jobs').selectAll().execute()).map((r) => [r.ref_id, r]));

        const claimed = await jobs.claim(['deliver'], 'n1', 10, now, new Date(Date.now() + 60_000).toISOString());
        const head = claimed.find((j) => j.ref_id === 'h') as JobRow;
        assert.ok(head, 'the head is claimed, the jobs behind it are not');
        assert.deepEqual(claimed.map((j) => j.ref_id).sort(), ['h', 'o']);

        const later = new Date(Date.now() + 30_000).toISOString();
        await jobs.retry(head, 'n1', 'agent down', later, now);
        let r = await rows();
        assert.equal(r.h.next_attempt_at, later);
        assert.equal(r.h.locked_by, null);
        assert.equal(r.h.last_error, 'agent down');
        assert.equal(r.h.attempts, 1);
        assert.equal(r.b1.next_attempt_at, later, 'parked until the head can run');
        assert.equal(r.b2.next_attempt_at, later);
        assert.equal(r.o.next_attempt_at, now, 'another group is untouched');

        // A lease that is no longer ours: nothing moves.
        const stolen = { ...head, attempts: 1 };
        const evenLater = new Date(Date.now() + 90_000).toISOString();
        await jobs.retry(stolen, 'n2', 'not mine', evenLater, now);
        r = await rows();
        assert.equal(r.h.next_attempt_at, later);
        assert.equal(r.b1.next_attempt_at, later);

        // Claimed again at its time, then deferred: the attempt is given back, the group parked further.
        const again = (await jobs.claim(['deliver'], 'n1', 10, later, new Date(Date.now() + 120_000).toISOString())).find((j) => j.ref_id === 'h') as JobRow;
        assert.equal(again.attempts, 2);
        await jobs.defer(again, 'n1', 'rate limited', evenLater, later);
        r = await rows();
        assert.equal(r.h.attempts, 1, 'a deferral does not use an attempt');
        assert.equal(r.h.next_attempt_at, evenLater);
        assert.equal(r.b1.next_attempt_at, evenLater);
        assert.equal(r.b2.next_attempt_at, evenLater);
      } finally {
        await store.close();
        await releaseStore(t);
      }
    });
  });
}

test('a runner whose claims fail keeps going: one error logged, the jobs run once claims work again', async () => {
  const logged: string[] = [];
  const log = { error: (_o: unknown, m: string) => logged.push(`error ${m}`), info: (_o: unknown, m: string) => logged.push(`info ${m}`), warn: () => undefined } as never;
  let failing = 4;
  let claims = 0;
  const job = { seq: 1, kind: 'deliver', ref_id: 'e1', attempts: 1 } as unknown as JobRow;
  let handed = false;
  const jobs = {
    async claim() {
      claims++;
      if (failing > 0) {
        failing--;
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      }
      if (handed) return [];
      handed = true;
      return [job];
    },
    async completeMany() {},
    async extend() {},
  } as unknown as JobsRepo;
  const ran: string[] = [];
  const runner = new JobRunner(jobs, { deliver: async (j) => (ran.push(j.ref_id), { kind: 'done' }) }, new Notifier(), log, { concurrency: 2, leaseMs: 60_000, pollMs: 10, scheduleMs: {}, jitter: 0 });
  runner.start();
  try {
    const end = Date.now() + 30_000;
    while (ran.length === 0 && Date.now() < end) await sleep(10);
    assert.deepEqual(ran, ['e1'], 'the job ran once the database answered');
    assert.ok(claims >= 5);
    assert.deepEqual(logged.filter((l) => l.startsWith('error')), ['error claiming jobs failed; retrying with backoff'], 'the outage is logged once');
    assert.ok(logged.includes('info claiming jobs works again'));
  } finally {
    await runner.stop();
  }
});
