/**
 * The rate governor: token buckets kept in the database, so every node draws from the same
 * bucket (a bot's 30 messages/s is the bot's, not each node's). A send takes one token from each
 * bucket that applies, or learns how long to wait — it never fails because of a limit.
 */
import { sql, type Kysely } from 'kysely';
import type { RateLimit } from '../../adapters/contract.js';
import type { DialectName } from '../../store/database.js';
import type { Database } from '../../store/schema.js';

export type TakeResult = { ok: true } | { ok: false; waitMs: number };

export class RateGovernor {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectName,
  ) {}

  async take(limits: RateLimit[], nowMs = Date.now()): Promise<TakeResult> {
    if (limits.length === 0) return { ok: true };
    const sorted = [...limits].sort((a, b) => a.key.localeCompare(b.key)); // one lock order: no deadlocks
    return this.db.transaction().execute(async (trx) => {
      for (const l of sorted) {
        await trx.insertInto('rate_buckets').values({ key: l.key, tokens: l.burst, updated_ms: nowMs }).onConflict((oc) => oc.column('key').doNothing()).execute();
      }
      const lock = this.dialect === 'postgres' ? sql` for update` : sql``;
      const rows = await sql<{ key: string; tokens: number; updated_ms: number | string }>`select key, tokens, updated_ms from rate_buckets where key in (${sql.join(sorted.map((l) => l.key))}) order by key${lock}`.execute(trx);
      const byKey = new Map(rows.rows.map((r) => [r.key, r]));
      let waitMs = 0;
      const refilled = sorted.map((l) => {
        const r = byKey.get(l.key)!;
        const elapsed = Math.max(0, nowMs - Number(r.updated_ms)) / 1000;
        const tokens = Math.min(l.burst, Number(r.tokens) + elapsed * l.perSecond);
        if (tokens < 1) waitMs = Math.max(waitMs, Math.ceil(((1 - tokens) / l.perSecond) * 1000));
        return { l, tokens };
      });
      const ok = waitMs === 0;
      for (const { l, tokens } of refilled) {
        await trx.updateTable('rate_buckets').set({ tokens: ok ? tokens - 1 : tokens, updated_ms: nowMs }).where('key', '=', l.key).execute();
      }
      return ok ? { ok: true as const } : { ok: false as const, waitMs };
    });
  }

  /**
   * A provider said "slow down" (429): no bucket gives a token for `ms`, on any node. A bucket is
   * left so that it holds exactly one token `ms` from now (1 - ms x rate), or less when it was
   * already emptier: the provider's wait is honoured without adding a refill period on top of it,
   * and a penalty never loosens a bucket's own rate.
   */
  async penalise(limits: RateLimit[], ms: number, nowMs = Date.now()): Promise<void> {
    const sorted = [...limits].sort((a, b) => a.key.localeCompare(b.key));
    await this.db.transaction().execute(async (trx) => {
      for (const l of sorted) {
        const target = 1 - (ms / 1000) * l.perSecond;
        const lock = this.dialect === 'postgres' ? sql` for update` : sql``;
        const row = (await sql<{ tokens: number; updated_ms: number | string }>`select tokens, updated_ms from rate_buckets where key = ${l.key}${lock}`.execute(trx)).rows[0];
        const current = row ? Math.min(l.burst, Number(row.tokens) + (Math.max(0, nowMs - Number(row.updated_ms)) / 1000) * l.perSecond) : l.burst;
        const tokens = Math.min(current, target);
        await trx.insertInto('rate_buckets').values({ key: l.key, tokens, updated_ms: nowMs }).onConflict((oc) => oc.column('key').doUpdateSet({ tokens, updated_ms: nowMs })).execute();
      }
    });
  }

  /**
   * Forgets buckets untouched for `idleMs`: by then they have refilled (a 429 penalty lasts at most
   * an hour), so a missing row means the same as a full one. One bucket per chat or web visitor
   * would otherwise pile up for ever.
   */
  async prune(idleMs: number, nowMs = Date.now()): Promise<number> {
    const r = await this.db.deleteFrom('rate_buckets').where('updated_ms', '<', nowMs - idleMs).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
