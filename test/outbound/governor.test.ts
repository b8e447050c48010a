/** The rate governor's buckets on every store: burst then refill, and idle buckets pruned. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../src/store/database.js';
import { RateGovernor } from '../../src/core/outbound/governor.js';
import { RateBucketsRepo } from '../../src/store/repos/rate-buckets.js';
import { freshStore, releaseStore, storeKinds } from '../helpers/stores.js';

for (const kind of storeKinds()) {
  describe(`rate governor on ${kind}`, () => {
    test('a burst, then a wait; idle buckets are pruned and come back full', async () => {
      const t = freshStore(kind);
      const store = await openStore(t.url, { pgSchema: t.pgSchema });
      try {
        const g = new RateGovernor(new RateBucketsRepo(store.db, store.dialect));
        const limit = { key: 'webchat:msg:x', burst: 2, perSecond: 0.5 };
        const t0 = 1_800_000_000_000;
        assert.deepEqual(await g.take([limit], t0), { ok: true });
        assert.deepEqual(await g.take([limit], t0), { ok: true });
        assert.deepEqual(await g.take([limit], t0), { ok: false, waitMs: 2000 });
        await g.take([{ key: 'telegram:chat:b:1', burst: 1, perSecond: 1 }], t0 + 3 * 3600_000);
        // Two hours idle: the first bucket goes, the recent one stays.
        assert.equal(await g.prune(2 * 3600_000, t0 + 3 * 3600_000), 1);
        const keys = (await store.db.selectFrom('rate_buckets').select('key').execute()).map((r) => r.key);
        assert.deepEqual(keys, ['telegram:chat:b:1']);
        assert.deepEqual(await g.take([limit], t0 + 3 * 3600_000), { ok: true }, 'a pruned bucket starts full again');
      } finally {
        await store.close();
        await releaseStore(t);
      }
    });
  });
}
