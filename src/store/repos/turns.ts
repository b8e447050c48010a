/**
 * What turn control (core/turns.ts) needs from the queue: the person's messages still waiting
 * behind a conversation's running delivery, and moving them into it. Everything is in the jobs
 * table, so any node sees what any other node queued.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

export interface WaitingMessage {
  seq: number;
  event_id: string;
  created_at: string;
  payload: string;
}

export class TurnsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Pending message.received deliveries queued after job `seq` in its group, oldest first. */
  async waitingMessages(groupKey: string, seq: number, limit = 50): Promise<WaitingMessage[]> {
    const rows = await this.db
      .selectFrom('jobs')
      .innerJoin('events', 'events.id', 'jobs.ref_id')
      .select(['jobs.seq as seq', 'events.id as event_id', 'events.created_at as created_at', 'events.payload as payload'])
      .where('jobs.group_key', '=', groupKey)
      .where('jobs.kind', '=', 'deliver')
      .where('jobs.status', '=', 'pending')
      .where('jobs.seq', '>', seq)
      .where('events.type', '=', 'message.received')
      .orderBy('jobs.seq')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
  }

  /** Whether a message.received delivery is queued after job `seq` (cheap: used while polling). */
  async hasWaitingMessage(groupKey: string, seq: number): Promise<boolean> {
    const r = await this.db
      .selectFrom('jobs')
      .innerJoin('events', 'events.id', 'jobs.ref_id')
      .select('jobs.seq')
      .where('jobs.group_key', '=', groupKey)
      .where('jobs.kind', '=', 'deliver')
      .where('jobs.status', '=', 'pending')
      .where('jobs.seq', '>', seq)
      .where('events.type', '=', 'message.received')
      .limit(1)
      .executeTakeFirst();
    return r !== undefined;
  }

  /**
   * Moves the deliveries `seqs` into the running job `headSeq` (burst): its payload records their
   * events, and their own jobs go, in one transaction, so a crash repeats the merged delivery
   * rather than losing a message. Only pending, unleased jobs are taken (a group's later jobs
   * are never leased while its head runs).
   */
  async absorb(headSeq: number, headPayload: Record<string, unknown>, seqs: number[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('jobs').set({ payload: JSON.stringify(headPayload) }).where('seq', '=', headSeq).execute();
      if (seqs.length) await trx.deleteFrom('jobs').where('seq', 'in', seqs).where('status', '=', 'pending').where('locked_by', 'is', null).execute();
    });
  }

  /** Merges `patch` into a job's payload (supersede: the next delivery carries what was missed). */
  async mergePayload(seq: number, patch: Record<string, unknown>): Promise<void> {
    const row = await this.db.selectFrom('jobs').select('payload').where('seq', '=', seq).executeTakeFirst();
    if (!row) return;
    const cur = JSON.parse(row.payload || '{}') as Record<string, unknown>;
    await this.db.updateTable('jobs').set({ payload: JSON.stringify({ ...cur, ...patch }) }).where('seq', '=', seq).execute();
  }

  async eventPayloads(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.selectFrom('events').select(['id', 'payload']).where('id', 'in', ids).execute();
    return new Map(rows.map((r) => [r.id, r.payload]));
  }
}
