/**
 * SQLite's WAL stays bounded (issue 10, item 9): journal_size_limit is set, and once writes stop
 * the checkpointer empties the WAL with a TRUNCATE checkpoint instead of leaving it at the size a
 * burst grew it to.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openStore } from '../../src/store/database.js';

test('after a burst, an idle SQLite store truncates its WAL', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-wal-'));
  const file = join(dir, 'db.sqlite');
  const store = await openStore(`sqlite:${file}`, { walIdleTruncateMs: 300 });
  try {
    const limit = await sql<{ journal_size_limit: number }>`pragma journal_size_limit`.execute(store.db);
    assert.equal(Number(limit.rows[0].journal_size_limit), 64 * 1024 * 1024);
    const blob = 'x'.repeat(4000);
    for (let i = 0; i < 40; i++) {
      await store.db.transaction().execute(async (trx) => {
        for (let j = 0; j < 50; j++) await trx.insertInto('switchboard_meta').values({ key: `burst-${i}-${j}`, value: blob }).execute();
      });
    }
    const wal = () => { try { return statSync(file + '-wal').size; } catch { return 0; } };
    const peak = wal();
    assert.ok(peak > 1024 * 1024, `the burst grew the WAL (${peak} bytes)`);
    const deadline = Date.now() + 15_000;
    while (wal() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(wal(), 0, `the idle WAL was truncated (still ${wal()} bytes after 15 s)`);
    const n = await store.db.selectFrom('switchboard_meta').select((eb) => eb.fn.countAll<number>().as('n')).where('key', 'like', 'burst-%').executeTakeFirstOrThrow();
    assert.equal(Number(n.n), 2000, 'nothing was lost');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
