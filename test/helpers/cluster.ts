/**
 * Several real Switchboard processes (`node --import tsx src/main.ts`) on one PostgreSQL schema,
 * sharing one operator key and one secret key, for multi-node tests. With `database: true` the
 * nodes get a database of their own (CREATE DATABASE, dropped at close) and run in its `public`
 * schema without SWITCHBOARD_PG_SCHEMA: the defaults a new deployment runs on. Each node's
 * connections carry an application_name of its own (`appName(i)`), so a test can find them in
 * pg_stat_activity (and cut them with pg_terminate_backend).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import pg from 'pg';

export interface ClusterOptions {
  prefix: string;
  deliverySchedule: string;
  /** A database of its own, nodes on its defaults (public schema, no SWITCHBOARD_PG_SCHEMA). */
  database?: boolean;
  /** Extra environment for every node. */
  env?: Record<string, string>;
}

export interface Cluster {
  /** The schema the nodes use (`public` with `database: true`). */
  schema: string;
  /** The connection URL the nodes use. */
  url: string;
  adminKey: string;
  /**
   * Connections to the same database, for inspecting the schema directly (a pool, so a query
   * after a database restart or a cut connection opens a fresh one). Not an application_name of
   * any node.
   */
  admin: pg.Pool;
  /** The tail of each node's stderr, to print when a test fails. */
  stderr: string[];
  /** Starts node `i` and resolves with its base URL once /healthz answers. */
  node(i: number): Promise<string>;
  /** The application_name node `i`'s PostgreSQL sessions carry. */
  appName(i: number): string;
  /** Whether node `i` was started and its process has not exited. */
  alive(i: number): boolean;
  /** POSTs `body` to `base + path` with the operator key; the JSON answer, which must be a 201. */
  create(base: string, path: string, body: unknown): Promise<any>;
  /** Kills node `i` at once (SIGKILL: no shutdown, leases left behind) and waits for it to exit. */
  kill(i: number): Promise<void>;
  /** Stops every node (SIGTERM, then waits) and drops the schema. */
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export async function startCluster(serverUrl: string, opts: ClusterOptions): Promise<Cluster> {
  const name = `${opts.prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`.toLowerCase();
  let pgUrl = serverUrl;
  let schema = name;
  let dropDatabase: (() => Promise<void>) | undefined;
  if (opts.database) {
    const dbName = `sb_${name}`;
    const server = new pg.Client({ connectionString: serverUrl });
    await server.connect();
    await server.query(`CREATE DATABASE "${dbName}"`);
    await server.end();
    const u = new URL(serverUrl);
    u.pathname = `/${dbName}`;
    pgUrl = u.toString();
    schema = 'public';
    dropDatabase = async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).finally(() => c.end());
    };
  }
  const admin = new pg.Pool({ connectionString: pgUrl, max: 2, application_name: `${name}_test` });
  admin.on('error', () => undefined); // an idle connection cut by a fault test: the pool drops it
  if (!opts.database) await admin.query(`CREATE SCHEMA "${schema}"`);
  const adminKey = `sb_${opts.prefix}_admin_` + randomBytes(12).toString('hex');
  // Shared by every node: secrets written by one are read by the other.
  const secretKey = randomBytes(32).toString('hex');
  const children: ChildProcess[] = [];
  const byIndex = new Map<number, ChildProcess>();
  const stderr: string[] = [];
  const appName = (i: number) => `${name}_node${i}`.slice(0, 63);
  const nodeUrl = (i: number) => {
    const u = new URL(pgUrl);
    u.searchParams.set('application_name', appName(i));
    return u.toString();
  };

  return {
    schema,
    url: pgUrl,
    adminKey,
    admin,
    stderr,
    async node(i) {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      stderr[i] = '';
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        env: {
          ...process.env,
          DATABASE_URL: nodeUrl(i),
          // A fresh schema per run (it also namespaces LISTEN/NOTIFY), or none in a database of its own.
          SWITCHBOARD_PG_SCHEMA: opts.database ? '' : schema,
          PORT: String(port),
          HOST: '127.0.0.1',
          PUBLIC_URL: base,
          SWITCHBOARD_ADMIN_KEY: adminKey,
          SWITCHBOARD_SECRET_KEY: secretKey,
          SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true',
          SWITCHBOARD_DELIVERY_SCHEDULE: opts.deliverySchedule,
          LOG_LEVEL: 'warn',
          ...opts.env,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr?.on('data', (c: Buffer) => {
        stderr[i] = (stderr[i] + c.toString()).slice(-3000);
      });
      children.push(child);
      byIndex.set(i, child);
      // Generous: a loaded 2-core machine takes 10–20 s to start a node (tsx compiles the tree).
      const end = Date.now() + 60_000;
      while (!(await fetch(`${base}/healthz`).then((r) => r.ok).catch(() => false))) {
        if (Date.now() > end) throw new Error(`node ${i} did not come up:\n${stderr[i]}`);
        if (child.exitCode !== null) throw new Error(`node ${i} exited with ${child.exitCode} while starting:\n${stderr[i]}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return base;
    },
    appName,
    alive(i) {
      const child = byIndex.get(i);
      return !!child && child.exitCode === null && child.signalCode === null;
    },
    async create(base, path, body) {
      const r = await fetch(base + path, { method: 'POST', headers: { 'x-api-key': adminKey, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await r.text();
      if (r.status !== 201) throw new Error(`POST ${path} answered ${r.status}, not 201: ${text}`);
      return JSON.parse(text);
    },
    async kill(i) {
      const child = byIndex.get(i);
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
    async close() {
      const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
      for (const c of running) c.kill('SIGTERM');
      await Promise.all(running.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r)))));
      if (!opts.database) await admin.query(`DROP SCHEMA "${schema}" CASCADE`).catch(() => undefined);
      await admin.end();
      await dropDatabase?.();
    },
  };
}

/** Runs `fn` on a fresh cluster; when it fails, prints the tail of each node's stderr; always closes the cluster. */
export async function withCluster<T>(pgUrl: string, opts: ClusterOptions, fn: (cluster: Cluster) => Promise<T>): Promise<T> {
  const cluster = await startCluster(pgUrl, opts);
  let failed = false;
  try {
    return await fn(cluster);
  } catch (err) {
    failed = true;
    console.log('# node stderr (tail):\n' + cluster.stderr.join('\n---\n'));
    throw err;
  } finally {
    // After a failure, a failing clean-up (the database may be down: a fault test) must not
    // hide the error that matters.
    await cluster.close().catch((err: unknown) => {
      if (!failed) throw err;
      console.log(`# cluster clean-up failed too: ${String(err)}`);
    });
  }
}
