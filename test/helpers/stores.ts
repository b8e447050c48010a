/**
 * Every store test runs on SQLite and, when TEST_DATABASE_URL points at PostgreSQL, on PostgreSQL
 * too — each test server in a schema of its own so files can run in parallel.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export type StoreKind = 'sqlite' | 'postgres';

export const PG_URL = process.env.TEST_DATABASE_URL;

export function storeKinds(): StoreKind[] {
  return PG_URL ? ['sqlite', 'postgres'] : ['sqlite'];
}

export interface StoreTarget {
  url: string;
  pgSchema?: string;
}

/** A fresh, empty store location of the given kind. */
export function freshStore(kind: StoreKind): StoreTarget {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'sb-test-'));
    return { url: `sqlite:${join(dir, 'switchboard.db')}` };
  }
  if (!PG_URL) throw new Error('TEST_DATABASE_URL is not set');
  return { url: PG_URL, pgSchema: `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}` };
}
