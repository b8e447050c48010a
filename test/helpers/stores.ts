/**
 * Every store test runs on SQLite and, when TEST_DATABASE_URL points at PostgreSQL, on PostgreSQL
 * too — each test server in a schema of its own so files can run in parallel.
 *
 * Clean-up: `releaseStore` drops what `freshStore` made (the test server does it on close). As a
 * second line, schemas are named after the test run (`SB_TEST_RUN`, set by scripts/run-tests.mjs),
 * which drops every schema of its run at the end, and gives the run its own TMPDIR to remove.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export type StoreKind = 'sqlite' | 'postgres';

export const PG_URL = process.env.TEST_DATABASE_URL;

export function storeKinds(): StoreKind[] {
  return PG_URL ? ['sqlite', 'postgres'] : ['sqlite'];
}

export interface StoreTarget {
  url: string;
  pgSchema?: string;
}

/** The prefix of every schema this test run creates (scripts/run-tests.mjs drops them all at the end). */
export function testSchemaPrefix(): string {
  return `t_${(process.env.SB_TEST_RUN ?? 'x').toLowerCase()}_`;
}

/** A fresh, empty store location of the given kind. */
export function freshStore(kind: StoreKind): StoreTarget {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'sb-test-'));
    return { url: `sqlite:${join(dir, 'switchboard.db')}` };
  }
  if (!PG_URL) throw new Error('TEST_DATABASE_URL is not set');
  return { url: PG_URL, pgSchema: `${testSchemaPrefix()}${Date.now().toString(36)}_${randomBytes(4).toString('hex')}` };
}

/** Removes a store made by `freshStore`: the SQLite file's directory, or the PostgreSQL schema. */
export async function releaseStore(target: StoreTarget): Promise<void> {
  if (target.url.startsWith('sqlite:')) {
    rmSync(dirname(target.url.slice('sqlite:'.length)), { recursive: true, force: true });
    return;
  }
  if (!target.pgSchema) return;
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${target.pgSchema.replace(/"/g, '""')}" CASCADE`);
  } finally {
    await client.end();
  }
}
