/**
 * Opens the store named by DATABASE_URL: `sqlite:<path>` (or `sqlite::memory:`) through
 * better-sqlite3, `postgres://...` through pg. Runs pending migrations before returning.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';
import { WriteWatch } from './write-watch.js';
import { profiled } from './sql-profile.js';
import { nulSafePool } from './pg-nul.js';
import { isConnectionError } from './errors.js';

export type DialectName = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  dialect: DialectName;
  /**
   * Write counters per table, when every write goes through this process (SQLite): read caches
   * use them. Undefined on PostgreSQL, where other nodes write too.
   */
  writes?: WriteWatch;
  /** The connection URL (PostgreSQL nodes LISTEN on a connection of their own). */
  url: string;
  /** Whether the store answers a trivial query (for /readyz). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** PostgreSQL schema to use (created if missing); tests give each file its own. */
  pgSchema?: string;
  poolSize?: number;
  /** SQLite: after this long without writes, the WAL is checkpointed with TRUNCATE (0 bytes). */
  walIdleTruncateMs?: number;
  /** PostgreSQL: an idle pooled connection was closed by the server (logged by the caller). */
  onConnectionLost?: (err: Error) => void;
  /**
   * PostgreSQL: how long to keep trying at start-up while the server cannot be reached (still
   * starting, restarting, not yet accepting connections); 0 (the default) fails at once.
   */
  waitMs?: number;
  /** Called before each wait while the server cannot be reached at start-up. */
  onWaiting?: (err: Error, attempt: number) => void;
}

/** How long a PostgreSQL query waits for a pooled connection (or to open one) before failing. */
export const PG_CONNECT_TIMEOUT_MS = 10_000;

/** Bytes of WAL kept after a reset (SQLite's journal_size_limit). */
const WAL_SIZE_LIMIT = 64 * 1024 * 1024;

export async function openStore(url: string, opts: OpenOptions = {}): Promise<Store> {
  let db: Kysely<Database>;
  let dialect: DialectName;
  let writes: WriteWatch | undefined;
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\//, '');
    const memory = file === ':memory:' || file === '';
    if (!memory) mkdirSync(dirname(resolve(file)), { recursive: true });
    const raw = new SqliteDatabase(memory ? ':memory:' : file);
    // WAL lets readers run while a writer commits; NORMAL sync is durable across process crashes
    // (the only loss window is an OS crash/power cut, documented in the README).
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.pragma('foreign_keys = ON');
    raw.pragma('busy_timeout = 5000');
    // After a checkpoint resets the WAL, SQLite shrinks the file back to this (else it keeps its
    // largest size: 808 MB next to a 196 MB database after one burst).
    raw.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
    if (!memory) startCheckpointer(raw, resolve(file), opts.walIdleTruncateMs ?? 10_000);
    writes = new WriteWatch();
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }), plugins: [writes] });
    dialect = 'sqlite';
  } else if (/^postgres(ql)?:\/\//.test(url)) {
    if (opts.waitMs) await waitForPostgres(url, opts.waitMs, opts.onWaiting);
    const options = opts.pgSchema ? `-c search_path=${opts.pgSchema}` : undefined;
    if (opts.pgSchema) {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`CREATE SCHEMA IF NOT EXISTS "${opts.pgSchema.replace(/"/g, '')}"`);
      await admin.end();
    }
    const pool = new pg.Pool({
      connectionString: url,
      max: opts.poolSize ?? 10,
      options,
      // Named in pg_stat_activity (an operator can find, or cut, one node's sessions); an
      // application_name in DATABASE_URL wins.
      fallback_application_name: 'switchboard',
      // Waiting for a connection ends: a request fails with a 503 (see isConnectionError) instead
      // of hanging while the database is unreachable or every connection is stuck.
      connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
      // A server that vanished without closing the socket is noticed by TCP instead of never.
      keepAlive: true,
    });
    // An idle connection the server closes (restart, pg_terminate_backend) raises 'error' on the
    // pool; unheard, that event would end the process. The pool drops the connection and opens a
    // fresh one when next needed, so there is nothing to do but say so.
    pool.on('error', (err) => opts.onConnectionLost?.(err));
    // A connection that is checked out but between statements (a transaction waiting on its next
    // query) has no listener of the pool's, and its 'error' would end the process the same way.
    // The failure reaches the code using it as a rejected next query ("not queryable"); on release
    // the pool sees it is broken and drops it.
    pool.on('connect', (client) => client.on('error', () => undefined));
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: nulSafePool(pool) }) });
    dialect = 'postgres';
  } else {
    throw new Error(`DATABASE_URL must start with sqlite: or postgres://, got ${url.split(':')[0]}:`);
  }

  // On PostgreSQL the migration tables' schema must always be named: without one, Kysely's
  // Migrator treats a `switchboard_migrations` table in ANY schema of the database as ours, so a
  // deployment in `public` (or one pinned by search_path in the URL) next to another schema's
  // Switchboard tables failed to start ("relation switchboard_migrations_lock does not exist").
  let migrationSchema = opts.pgSchema;
  if (dialect === 'postgres' && !migrationSchema) {
    migrationSchema = (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s ?? undefined;
  }
  const migrator = new Migrator({ db, provider: migrationProvider, migrationTableName: 'switchboard_migrations', migrationLockTableName: 'switchboard_migrations_lock', ...(migrationSchema ? { migrationTableSchema: migrationSchema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${error instanceof Error ? error.message : String(error)}`);
  }

  return {
    db,
    dialect,
    writes,
    url,
    async ping() {
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },
    close: () => db.destroy(),
  };
}

/**
 * Start-up next to a database that is not up yet (containers started together, a restart in
 * progress): connection errors are retried with backoff (250 ms doubling to 5 s) until `waitMs`
 * has passed; any other error (bad credentials, unknown database) fails at once.
 */
async function waitForPostgres(url: string, waitMs: number, onWaiting?: (err: Error, attempt: number) => void): Promise<void> {
  const end = Date.now() + waitMs;
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS, fallback_application_name: 'switchboard' });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
      return;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (!isConnectionError(err) || Date.now() + delay > end) throw err;
      onWaiting?.(err as Error, attempt);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5_000);
    }
  }
}

/**
 * Kysely prepares every SQLite query anew; preparing costs about as much as running a small
 * query. The same SQL text always compiles to the same statement, so keep them (bounded).
 */
function withStatementCache(raw: SqliteDatabase.Database, max = 1000) {
  const profile = process.env.SWITCHBOARD_SQL_PROFILE === '1';
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => raw.close(),
    prepare(sqlText: string) {
      let st = cache.get(sqlText);
      if (!st) {
        st = raw.prepare(sqlText);
        if (profile) st = profiled(sqlText, st);
        if (cache.size >= max) cache.delete(cache.keys().next().value as string);
        cache.set(sqlText, st);
      }
      return st;
    },
  };
}

/**
 * WAL checkpoints off the request path. By default SQLite checkpoints inside whichever COMMIT
 * crosses 1,000 WAL pages, stalling that request (and, with one connection, the event loop) for
 * 15-25 ms. Instead a worker thread with its own connection runs a PASSIVE checkpoint (it never
 * blocks writers) every half second. If the worker dies, automatic checkpoints come back.
 */
function startCheckpointer(raw: SqliteDatabase.Database, file: string, idleTruncateMs: number): void {
  // When a PASSIVE checkpoint finds nothing new for idleTruncateMs (no writes), one TRUNCATE
  // checkpoint empties the WAL file: bounded on disk however large a burst made it.
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    const Database = require(workerData.module);
    const db = new Database(workerData.file);
    db.pragma('busy_timeout = 1000');
    db.pragma('journal_size_limit = ' + workerData.sizeLimit);
    let lastLog = -1, quietSince = Date.now(), truncated = true;
    const timer = setInterval(() => {
      try {
        const r = db.pragma('wal_checkpoint(PASSIVE)')[0] || {};
        const now = Date.now();
        if (r.log !== lastLog) { lastLog = r.log; quietSince = now; if (r.log > 0) truncated = false; }
        else if (!truncated && r.busy === 0 && r.log === r.checkpointed && now - quietSince >= workerData.idleMs) {
          const t = db.pragma('wal_checkpoint(TRUNCATE)')[0] || {};
          if (t.busy === 0) { truncated = true; lastLog = 0; }
        }
      } catch {}
    }, Math.min(500, workerData.idleMs));
    parentPort.on('message', () => { clearInterval(timer); db.close(); process.exit(0); });
  `;
  let worker: Worker;
  try {
    worker = new Worker(code, { eval: true, workerData: { file, module: require_resolve('better-sqlite3'), sizeLimit: WAL_SIZE_LIMIT, idleMs: Math.max(50, idleTruncateMs) } });
  } catch {
    return; // keep SQLite's own automatic checkpoints
  }
  raw.pragma('wal_autocheckpoint = 0');
  worker.unref();
  worker.on('error', () => raw.open && raw.pragma('wal_autocheckpoint = 1000'));
  worker.on('exit', () => raw.open && raw.pragma('wal_autocheckpoint = 1000'));
  const close = raw.close.bind(raw);
  raw.close = () => {
    worker.postMessage('stop');
    return close();
  };
}

function require_resolve(name: string): string {
  return createRequire(import.meta.url).resolve(name);
}
