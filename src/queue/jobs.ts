/**
 * The durable job queue, in the same database as the data it belongs to, so a job is committed in
 * the same transaction as its cause (an inbound event, an outbound message).
 *
 * Ordering: jobs share a `group_key` (a conversation); only the oldest pending job of a group can
 * be claimed, so a conversation's deliveries and sends happen in order while other conversations
 * proceed in parallel. Dead jobs stop blocking their group.
 *
 * Claims walk the due jobs in due-time order (`jobs_due`) and stop after `limit` matches, so their
 * cost does not grow with the backlog. That needs blocked jobs to be *not due*: when a group's
 * first job is put off (retry, defer), the group's later jobs are "parked" until that time, and a
 * job enqueued behind a put-off one starts parked. Parking never delays a job beyond the moment it
 * could run anyway (its group's first job cannot finish earlier). Without it, an agent that is
 * down left every later job of every conversation due but blocked, and each claim walked them all.
 *
 * Claiming is one UPDATE over a sub-select; on PostgreSQL the sub-select takes `FOR UPDATE SKIP
 * LOCKED`, so any number of nodes claim disjoint jobs without waiting on each other. A claim is a
 * lease (`locked_until`): a node that dies mid-job loses it and another node retries the job.
 */
import { CompiledQuery, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, JobsTable } from '../store/schema.js';
import type { DialectName } from '../store/database.js';
import { forDialect, numbered } from '../store/sql-text.js';

export type JobRow = Selectable<JobsTable>;
export type JobKind = 'deliver' | 'send' | 'media';

export interface NewJob {
  kind: JobKind;
  instanceId: string;
  groupKey: string;
  refId: string;
  payload?: unknown;
  runAt?: string;
}

const SQL = {
  // Behind a group's put-off first job, a new job starts parked at that job's time: one statement
  // (the group head's time is read in it).
  insert: `insert into jobs (kind, instance_id, group_key, ref_id, status, attempts, next_attempt_at, locked_by, locked_until, last_error, payload, created_at, updated_at)
    values (?, ?, ?, ?, 'pending', 0, coalesce((select case when h.next_attempt_at > ? then h.next_attempt_at end from (select next_attempt_at from jobs where group_key = ? and status = 'pending' order by seq limit 1) h), ?), null, null, null, ?, ?, ?)`,
  park: "update jobs set next_attempt_at = ? where group_key = ? and status = 'pending' and seq > ? and next_attempt_at < ?",
  // PostgreSQL: putting a group's first job off and parking the jobs behind it in one statement,
  // so no reader (a claim on another node) sees the later jobs due while their head is not.
  putOffPg: `with head as (
      update jobs set locked_by = null, locked_until = null, last_error = ?, next_attempt_at = ?, attempts = coalesce(?, attempts), updated_at = ?
      where seq = ? and locked_by = ? returning group_key, seq)
    update jobs j set next_attempt_at = ? from head
    where j.group_key = head.group_key and j.status = 'pending' and j.seq > head.seq and j.next_attempt_at < ?`,
} as const;

export class JobsRepo {
  /** Fixed statements, `?` placeholders numbered for PostgreSQL. */
  private readonly sql: Record<keyof typeof SQL, string>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectName,
  ) {
    this.sql = forDialect(SQL, dialect);
  }

  async enqueue(trx: Kysely<Database> | Transaction<Database>, job: NewJob, now: string): Promise<void> {
    const runAt = job.runAt ?? now;
    await trx.executeQuery(CompiledQuery.raw(this.sql.insert, [job.kind, job.instanceId, job.groupKey, job.refId, runAt, job.groupKey, runAt, JSON.stringify(job.payload ?? {}), now, now]));
  }

  /** Claim SQL per number of kinds; fixed text, so it is compiled (and prepared) once. */
  private readonly claimSql = new Map<number, string>();

  private claimText(kindCount: number): string {
    let text = this.claimSql.get(kindCount);
    if (text) return text;
    // Due jobs in due-time order, straight off the jobs_due index (status, next_attempt_at, then
    // seq as SQLite's rowid): no sort, and the walk stops after `limit` matches. SQLite is told
    // to use it: without ANALYZE statistics it may not.
    const sqlite = this.dialect === 'sqlite';
    const kinds = Array.from({ length: kindCount }, () => '?').join(', ');
    text = `update jobs set locked_by = ?, locked_until = ?, attempts = attempts + 1, updated_at = ?
      where seq in (
        select j.seq from jobs j ${sqlite ? 'indexed by jobs_due' : ''}
        where j.status = 'pending' and j.next_attempt_at <= ? and j.kind in (${kinds})
          and (j.locked_until is null or j.locked_until < ?)
          and not exists (select 1 from jobs p where p.group_key = j.group_key and p.status = 'pending' and p.seq < j.seq)
        order by j.next_attempt_at, j.seq
        limit ?
        ${sqlite ? '' : 'for update skip locked'}
      )
      returning *`;
    if (!sqlite) text = numbered(text);
    this.claimSql.set(kindCount, text);
    return text;
  }

  /**
   * Leases up to `limit` runnable jobs of `kinds` to `node` until `until`. `finished` jobs (done
   * since the last claim) are deleted in the same transaction: one commit per runner cycle instead
   * of one per job, and their groups' next jobs become claimable in that same claim.
   */
  async claim(kinds: JobKind[], node: string, limit: number, now: string, until: string, finished: JobRow[] = []): Promise<JobRow[]> {
    const claimQuery = CompiledQuery.raw(this.claimText(kinds.length), [node, until, now, now, ...kinds, now, limit]);
    if (finished.length === 0) return sortBySeq((await this.db.executeQuery<JobRow>(claimQuery)).rows);
    return this.db.transaction().execute(async (trx) => {
      await trx.executeQuery(this.deleteMany(finished, node));
      return limit > 0 ? sortBySeq((await trx.executeQuery<JobRow>(claimQuery)).rows) : [];
    });
  }

  /** Deletes finished jobs still leased to `node` (see claim; used alone when a runner stops). */
  async completeMany(jobs: JobRow[], node: string): Promise<void> {
    if (jobs.length) await this.db.executeQuery(this.deleteMany(jobs, node));
  }

  private deleteMany(jobs: JobRow[], node: string): CompiledQuery {
    return this.dialect === 'sqlite'
      ? CompiledQuery.raw('delete from jobs where locked_by = ? and seq in (select value from json_each(?))', [node, JSON.stringify(jobs.map((j) => Number(j.seq)))])
      : CompiledQuery.raw('delete from jobs where locked_by = $1 and seq = any($2::bigint[])', [node, jobs.map((j) => String(j.seq))]);
  }

  async extend(job: JobRow, node: string, until: string): Promise<void> {
    await this.db.updateTable('jobs').set({ locked_until: until }).where('seq', '=', job.seq).where('locked_by', '=', node).execute();
  }

  async retry(job: JobRow, node: string, error: string, runAt: string, now: string): Promise<void> {
    await this.putOff(job, node, error, runAt, now, undefined);
  }

  /** Gives the attempt back: the job was not tried (e.g. the rate governor asked to wait). */
  async defer(job: JobRow, node: string, reason: string, runAt: string, now: string): Promise<void> {
    await this.putOff(job, node, reason, runAt, now, Math.max(0, job.attempts - 1));
  }

  /**
   * Releases `job` (still leased to `node`) until `runAt` and parks its group's later jobs until
   * then, atomically: if a claim could see the head put off but the jobs behind it still due, it
   * would walk over them (blocked) until the parking landed. One statement on PostgreSQL, one
   * transaction on SQLite.
   */
  private async putOff(job: JobRow, node: string, error: string, runAt: string, now: string, attempts: number | undefined): Promise<void> {
    if (this.dialect === 'postgres') {
      await this.db.executeQuery(CompiledQuery.raw(this.sql.putOffPg, [error, runAt, attempts ?? null, now, job.seq, node, runAt, runAt]));
      return;
    }
    await this.db.transaction().execute(async (trx) => {
      const r = await trx
        .updateTable('jobs')
        .set({ locked_by: null, locked_until: null, last_error: error, next_attempt_at: runAt, updated_at: now, ...(attempts === undefined ? {} : { attempts }) })
        .where('seq', '=', job.seq)
        .where('locked_by', '=', node)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) > 0) await trx.executeQuery(CompiledQuery.raw(this.sql.park, [runAt, job.group_key, job.seq, runAt]));
    });
  }

  /** A running job's own progress (a send's parts already sent), kept for its next attempt. */
  async savePayload(seq: number, payload: string): Promise<void> {
    await this.db.updateTable('jobs').set({ payload }).where('seq', '=', seq).execute();
  }

  /** Makes a waiting (deferred) job of `kind` for `refId` due now: what it waited for is done. */
  async hurry(kind: JobKind, refId: string, now: string): Promise<void> {
    await this.db.updateTable('jobs').set({ next_attempt_at: now }).where('kind', '=', kind).where('ref_id', '=', refId).where('status', '=', 'pending').where('locked_by', 'is', null).where('next_attempt_at', '>', now).execute();
  }

  async kill(job: JobRow, node: string, error: string, now: string): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ status: 'dead', locked_by: null, locked_until: null, last_error: error, updated_at: now })
      .where('seq', '=', job.seq)
      .where('locked_by', '=', node)
      .execute();
  }

  /** Dead jobs of an instance, newest first. */
  dead(instanceId: string, kind: JobKind, limit = 100): Promise<JobRow[]> {
    return this.db.selectFrom('jobs').selectAll().where('instance_id', '=', instanceId).where('kind', '=', kind).where('status', '=', 'dead').orderBy('seq', 'desc').limit(limit).execute();
  }

  /** Puts a dead job back in line with a fresh attempt budget. */
  async replay(instanceId: string, seq: number, now: string): Promise<boolean> {
    const r = await this.db
      .updateTable('jobs')
      .set({ status: 'pending', attempts: 0, next_attempt_at: now, last_error: null, updated_at: now })
      .where('seq', '=', seq)
      .where('instance_id', '=', instanceId)
      .where('status', '=', 'dead')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Single-process stores only: at start-up every lease belongs to a dead process. */
  async releaseAllLeases(): Promise<void> {
    await this.db.updateTable('jobs').set({ locked_by: null, locked_until: null }).where('status', '=', 'pending').where('locked_by', 'is not', null).execute();
  }

  async pendingCount(): Promise<number> {
    const r = await this.db.selectFrom('jobs').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirst();
    return Number(r?.n ?? 0);
  }
}

function sortBySeq(rows: JobRow[]): JobRow[] {
  return rows.sort((a, b) => Number(a.seq) - Number(b.seq));
}
