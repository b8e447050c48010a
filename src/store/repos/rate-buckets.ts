/**
 * The rate governor's token buckets (core/outbound/governor.ts does the arithmetic). A change to
 * some buckets runs in one transaction with their rows locked (PostgreSQL `FOR UPDATE`, one lock
 * order by key, so two nodes never deadlock), so every node draws from the same bucket.
 */
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';
import type { Database } from '../schema.js';

export interface BucketState {
  tokens: number;
  updatedMs: number;
}

export class RateBucketsRepo {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectName,
  ) {}

  /**
   * Locks the buckets (created full, `burst` tokens, when missing), hands their state to `decide`
   * and writes back the token counts it returns, stamped `nowMs`; returns what `decide` returns.
   * Keys must be unique.
   */
  async change<T>(buckets: { key: string; burst: number }[], nowMs: number, decide: (state: Map<string, BucketState>) => { tokens: Map<string, number>; result: T }): Promise<T> {
    const sorted = [...buckets].sort((a, b) => a.key.localeCompare(b.key));
    return this.db.transaction().execute(async (trx) => {
      for (const b of sorted) {
        await trx.insertInto('rate_buckets').values({ key: b.key, tokens: b.burst, updated_ms: nowMs }).onConflict((oc) => oc.column('key').doNothing()).execute();
      }
      const lock = this.dialect === 'postgres' ? sql` for update` : sql``;
      const rows = await sql<{ key: string; tokens: number; updated_ms: number | string }>`select key, tokens, updated_ms from rate_buckets where key in (${sql.join(sorted.map((b) => b.key))}) order by key${lock}`.execute(trx);
      const state = new Map(rows.rows.map((r) => [r.key, { tokens: Number(r.tokens), updatedMs: Number(r.updated_ms) }]));
      const { tokens, result } = decide(state);
      for (const b of sorted) {
        const t = tokens.get(b.key);
        if (t !== undefined) await trx.updateTable('rate_buckets').set({ tokens: t, updated_ms: nowMs }).where('key', '=', b.key).execute();
      }
      return result;
    });
  }

  /** Drops buckets untouched since `beforeMs`; returns how many. */
  async prune(beforeMs: number): Promise<number> {
    const r = await this.db.deleteFrom('rate_buckets').where('updated_ms', '<', beforeMs).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
