/**
 * The rate governor: token buckets kept in the database, so every node draws from the same
 * bucket (a bot's 30 messages/s is the bot's, not each node's). A send takes one token from each
 * bucket that applies, or learns how long to wait — it never fails because of a limit.
 */
import type { RateLimit } from '../../adapters/contract.js';
import type { RateBucketsRepo } from '../../store/repos/rate-buckets.js';

export type TakeResult = { ok: true } | { ok: false; waitMs: number };

export class RateGovernor {
  constructor(private readonly buckets: RateBucketsRepo) {}

  async take(limits: RateLimit[], nowMs = Date.now()): Promise<TakeResult> {
    if (limits.length === 0) return { ok: true };
    return this.buckets.change(limits, nowMs, (state) => {
      let waitMs = 0;
      const refilled = limits.map((l) => {
        const r = state.get(l.key)!;
        const elapsed = Math.max(0, nowMs - r.updatedMs) / 1000;
        const tokens = Math.min(l.burst, r.tokens + elapsed * l.perSecond);
        if (tokens < 1) waitMs = Math.max(waitMs, Math.ceil(((1 - tokens) / l.perSecond) * 1000));
        return { l, tokens };
      });
      const ok = waitMs === 0;
      return {
        tokens: new Map(refilled.map(({ l, tokens }) => [l.key, ok ? tokens - 1 : tokens])),
        result: ok ? { ok: true as const } : { ok: false as const, waitMs },
      };
    });
  }

  /**
   * A provider said "slow down" (429): no bucket gives a token for `ms`, on any node. A bucket is
   * left so that it holds exactly one token `ms` from now (1 - ms x rate), or less when it was
   * already emptier: the provider's wait is honoured without adding a refill period on top of it,
   * and a penalty never loosens a bucket's own rate.
   */
  async penalise(limits: RateLimit[], ms: number, nowMs = Date.now()): Promise<void> {
    if (limits.length === 0) return;
    await this.buckets.change(limits, nowMs, (state) => {
      const tokens = new Map<string, number>();
      for (const l of limits) {
        const target = 1 - (ms / 1000) * l.perSecond;
        const row = state.get(l.key);
        const current = row ? Math.min(l.burst, row.tokens + (Math.max(0, nowMs - row.updatedMs) / 1000) * l.perSecond) : l.burst;
        tokens.set(l.key, Math.min(current, target));
      }
      return { tokens, result: undefined };
    });
  }

  /**
   * Forgets buckets untouched for `idleMs`: by then they have refilled (a 429 penalty lasts at most
   * an hour), so a missing row means the same as a full one. One bucket per chat or web visitor
   * would otherwise pile up for ever.
   */
  prune(idleMs: number, nowMs = Date.now()): Promise<number> {
    return this.buckets.prune(nowMs - idleMs);
  }
}
