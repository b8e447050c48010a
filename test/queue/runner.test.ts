/**
 * The job runner on every store: one group runs in order, a dead job stops blocking its group,
 * and a job that outlives its lease keeps it (renewal) so a second node never runs it twice.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { openStore } from '../../src/store/database.js';
import { JobsRepo } from '../../src/queue/jobs.js';
import { JobRunner, type JobHandler } from '../../src/queue/runner.js';
import { Notifier } from '../../src/queue/notifier.js';
import { freshStore, releaseStore, storeKinds, type StoreTarget } from '../helpers/stores.js';

const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const kind of storeKinds()) {
  describe(`job runner on ${kind}`, () => {
    // Each test opens a store of its own; the schemas (or SQLite dirs) go when the suite ends.
    const targets: StoreTarget[] = [];
    after(async () => {
      for (const t of targets) await releaseStore(t);
    });
    async function setup() {
      const t = freshStore(kind);
      targets.push(t);
      const store = await openStore(t.url, { pgSchema: t.pgSchema });
      const now = new Date().toISOString();
      await store.db.insertInto('instances').values({ id: 'i1', name: 'x', agent_url: null, signing_secret_enc: 'x', created_at: now, updated_at: now }).execute();
      return { store, jobs: new JobsRepo(store.db, store.dialect) };
    }
    const runner = (jobs: JobsRepo, handler: JobHandler, leaseMs = 60_000) =>
      new JobRunner(jobs, { deliver: handler }, new Notifier(), log as never, { concurrency: 4, leaseMs, pollMs: 50, scheduleMs: { deliver: [30, 30] }, jitter: 0 });

    test('jobs of one group run one at a time, in order; a dead job stops blocking', async () => {
      const { store, jobs } = await setup();
      const now = new Date().toISOString();
      for (const ref of ['a1', 'a2', 'a3']) await jobs.enqueue(store.db, { kind: 'deliver', instanceId: 'i1', groupKey: 'g', refId: ref }, now);
      const ran: string[] = [];
      let active = 0;
      let maxActive = 0;
      const r = runner(jobs, async (job) => {
        active++;
        maxActive = Math.max(maxActive, active);
        await sleep(20);
        active--;
        ran.push(`${job.ref_id}#${job.attempts}`);
        return job.ref_id === 'a1' ? { kind: 'retry', error: 'always fails' } : { kind: 'done' };
      });
      r.start();
      const end = Date.now() + 10_000;
      while (ran.filter((x) => !x.startsWith('a1')).length < 2 && Date.now() < end) await sleep(20);
      await r.stop();
      assert.equal(maxActive, 1);
      assert.deepEqual(ran, ['a1#1', 'a1#2', 'a1#3', 'a2#1', 'a3#1']);
      const dead = await jobs.dead('i1', 'deliver');
      assert.equal(dead.length, 1);
      assert.match(dead[0].last_error ?? '', /gave up after 3 attempts/);
      await store.close();
    });

    test('done jobs are deleted (with the next claim, or when the runner stops); a big backlog drains in order per group', async () => {
      const { store, jobs } = await setup();
      const now = new Date().toISOString();
      // 5 groups x 40 jobs, interleaved; a dead job from earlier sits at the front of the queue.
      await jobs.enqueue(store.db, { kind: 'deliver', instanceId: 'i1', groupKey: 'old', refId: 'dead' }, now);
      await store.db.updateTable('jobs').set({ status: 'dead' }).where('ref_id', '=', 'dead').execute();
      for (let i = 0; i < 40; i++) for (let g = 0; g < 5; g++) await jobs.enqueue(store.db, { kind: 'deliver', instanceId: 'i1', groupKey: `g${g}`, refId: `g${g}-${i}` }, now);
      const seen = new Map<string, number[]>();
      const r = runner(jobs, async (job) => {
        const [g, i] = job.ref_id.split('-');
        seen.set(g, [...(seen.get(g) ?? []), Number(i)]);
        await sleep(1);
        return { kind: 'done' };
      });
      r.start();
      const end = Date.now() + 10_000;
      const left = async () => Number((await store.db.selectFrom('jobs').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow()).n);
      while ((await left()) > 0 && Date.now() < end) await sleep(20);
      assert.equal(await left(), 0, 'every done job deleted while the runner runs');
      await r.stop();
      for (let g = 0; g < 5; g++) assert.deepEqual(seen.get(`g${g}`), Array.from({ length: 40 }, (_, i) => i), `group g${g} ran once each, in order`);
      assert.equal((await jobs.dead('i1', 'deliver')).length, 1, 'the dead job stays for replay');

      // A job finishing right before stop() is still deleted by stop().
      await jobs.enqueue(store.db, { kind: 'deliver', instanceId: 'i1', groupKey: 'last', refId: 'last-0' }, new Date().toISOString());
      let ran = false;
      const r2 = runner(jobs, async () => {
        ran = true;
        return { kind: 'done' };
      });
      r2.start();
      while (!ran && Date.now() < end) await sleep(5);
      await r2.stop();
      assert.equal(await left(), 0);
      await store.close();
    });

    test('a put-off first job parks its conversation (later jobs, and jobs enqueued after, wait for it); other conversations flow; order holds', async () => {
      const { store, jobs } = await setup();
      const t = (ms: number) => new Date(Date.now() + ms).toISOString();
      const now = t(0);
      await jobs.enqueue(store.db, { kind: 'deliver', instanceId: 'i1', groupKey: 'down', refId: 'd1' }, now);
      await jobs.enqueue(store.db, { kind: 'deliver', instanceId: 'i1', groupKey: 'down', refId: 'd2' }, now);
      const [head] = await jobs.claim(['deliver'], 'n1', 1, now, t(60_000));
      assert.equal(head.ref_id, 'd1');
      const retryAt = t(400);
      await jobs.retry(head, 'n1', 'agent down', retryAt, now);
      await jobs.enqueue(store.db, { kind: 'deliver', instanceId: 'i1', groupKey: 'down', refId: 'd3' }, t(0));
      await jobs.enqueue(store.db, { kind: 'deliver', instanceId: 'i1', groupKey: 'ok', refId: 'o1' }, t(0));
      const due = async (ref: string) => (await store.db.selectFrom('jobs').select('next_attempt_at').where('ref_id', '=', ref).executeTakeFirstOrThrow()).next_attempt_at;
      assert.equal(await due('d2'), retryAt, 'a later job of the group is parked until the retry');
      assert.equal(await due('d3'), retryAt, 'a job enqueued behind the put-off one starts parked');
      assert.ok((await due('o1')) < retryAt, 'another conversation is not parked');
      // Until the retry time only the other conversation is claimable.
      const early = await jobs.claim(['deliver'], 'n1', 10, t(0), t(60_000));
      assert.deepEqual(early.map((j) => j.ref_id), ['o1']);
      await jobs.completeMany(early, 'n1');
      // From the retry time on, the group runs again, in order, one at a time.
      await sleep(450);
      const ran: string[] = [];
      const r = runner(jobs, async (job) => {
        ran.push(job.ref_id);
        return { kind: 'done' };
      });
      r.start();
      const end = Date.now() + 10_000;
      while (ran.length < 3 && Date.now() < end) await sleep(10);
      await r.stop();
      assert.deepEqual(ran, ['d1', 'd2', 'd3']);
      await store.close();
    });

    test('a job running past its lease keeps it: another node does not run it too', async () => {
      const { store, jobs } = await setup();
      await jobs.enqueue(store.db, { kind: 'deliver', instanceId: 'i1', groupKey: 'g2', refId: 'long' }, new Date().toISOString());
      const runs: string[] = [];
      const slow = runner(jobs, async () => {
        runs.push('A');
        await sleep(3500);
        return { kind: 'done' };
      }, 1500);
      const other = runner(jobs, async () => {
        runs.push('B');
        return { kind: 'done' };
      }, 1500);
      slow.start();
      while (runs.length === 0) await sleep(10);
      other.start();
      await sleep(4000);
      await slow.stop();
      await other.stop();
      assert.deepEqual(runs, ['A']);
      await store.close();
    });
  });
}
