/** Starts a real Switchboard HTTP server on a loopback port, on a fresh store, for one test file. */
import { providers } from '../../src/adapters/registry.js';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { makeServices, type ServiceOptions, type Services } from '../../src/core/services.js';
import { SecretBox } from '../../src/crypto/secret-box.js';
import { loggerOptions } from '../../src/log.js';
import { openStore } from '../../src/store/database.js';
import { freshStore, releaseStore, type StoreKind, type StoreTarget } from './stores.js';

export interface TestServer {
  url: string;
  adminKey: string;
  services: Services;
  app: FastifyInstance;
  /** Every log line the server wrote, as text (to check no secret ever appears). */
  logs: string[];
  close(): Promise<void>;
  /** fetch against the server with the admin key unless `key` is given (or null for none). */
  api(method: string, path: string, body?: unknown, key?: string | null, headers?: Record<string, string>): Promise<{ status: number; body: any; text: string; headers: Headers }>;
}

export interface StartOptions {
  env?: Record<string, string>;
  target?: StoreTarget;
  secretKey?: Buffer;
  services?: ServiceOptions;
  /** Start the job runner (default true). */
  startWorkers?: boolean;
}

/**
 * Opens the store, once more if PostgreSQL answers that the schema it just created does not exist.
 * Seen a few times per full run on the shared test database (a schema created by CREATE SCHEMA IF
 * NOT EXISTS reported missing by the migrator a moment later) and never outside parallel test
 * files; the cause is not found yet (see the closing note), so the retry is logged, not silent.
 */
async function openStoreRetrying(target: StoreTarget) {
  try {
    return await openStore(target.url, { pgSchema: target.pgSchema });
  } catch (err) {
    if (!target.pgSchema || !/schema ".*" does not exist/.test(String((err as Error).message))) throw err;
    process.stderr.write(`# test server: ${(err as Error).message}; opening the store once more\n`);
    return openStore(target.url, { pgSchema: target.pgSchema });
  }
}

export async function startServer(kind: StoreKind, opts: StartOptions = {}): Promise<TestServer> {
  const adminKey = 'sb_test_admin_' + randomBytes(16).toString('hex');
  const target = opts.target ?? freshStore(kind);
  // Tests never reach the internet: providers' default API URLs point at a closed loopback port
  // unless a test plugs a fake in.
  const offline: Record<string, string> = {};
  for (const p of providers()) if (p.api) offline[p.api.env] = 'http://127.0.0.1:9';
  const config: Config = loadConfig({ ...offline, SWITCHBOARD_ADMIN_KEY: adminKey, DATABASE_URL: target.url, PORT: '0', LOG_LEVEL: 'info', ...opts.env });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const logger = pino(loggerOptions('info'), sink);
  const store = await openStoreRetrying(target);
  const box = SecretBox.fromKey(opts.secretKey ?? randomBytes(32));
  const services = makeServices(config, store, box, logger, { pgSchema: target.pgSchema, ...opts.services });
  if (opts.startWorkers !== false) await services.start();
  const app = await buildApp(services, { logger });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  // PUBLIC_URL defaults to the bound address; with port 0 it is known only now.
  config.publicUrl = opts.env?.PUBLIC_URL ?? url;

  return {
    url,
    adminKey,
    services,
    app,
    logs,
    async close() {
      // Each step is bounded, like main.ts bounds a SIGTERM shutdown (10 s, then exit): a step
      // that never settles is reported with what is still open, and teardown goes on, so one
      // stuck close cannot hang a whole CI run. (Seen twice in CI, in provisioning.test.ts, and
      // never reproduced alone: see the closing note.)
      const step = async (name: string, p: Promise<unknown>) => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), 20_000)));
        const r = await Promise.race([p.then(() => 'done' as const), late]);
        clearTimeout(timer);
        if (r === 'late') {
          const handles = (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles().map((h) => h.constructor.name);
          process.stderr.write(`# test server close: ${name} still pending after 20 s (open handles: ${handles.join(', ')}); going on\n`);
        }
      };
      await step('app.close()', app.close());
      await step('services.stop()', services.stop());
      await step('store.close()', store.close());
      // A store passed in belongs to the caller (restart tests reopen it); one made here is ours.
      if (!opts.target) await step('releaseStore()', releaseStore(target));
    },
    async api(method, path, body, key, headers = {}) {
      const h: Record<string, string> = { ...headers };
      if (key !== null) h['x-api-key'] = key ?? adminKey;
      let payload: string | undefined;
      if (body !== undefined) {
        payload = typeof body === 'string' ? body : JSON.stringify(body);
        h['content-type'] ??= 'application/json';
      }
      const res = await fetch(url + path, { method, headers: h, body: payload });
      const text = await res.text();
      let parsed: unknown = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, body: parsed, text, headers: res.headers };
    },
  };
}

/** Two nodes of one installation, in this process: see startTwoNodes. */
export interface TwoNodes {
  a: TestServer;
  b: TestServer;
  target: StoreTarget;
  /** Stops both, then drops their store (shared, so neither server's own to drop). */
  close(): Promise<void>;
}

/**
 * Two servers on one fresh PostgreSQL schema with one secret key (each reads the secrets the other
 * wrote), for features that cross nodes (revocation, sessions, cursors, rate limits).
 */
export async function startTwoNodes(opts: Omit<StartOptions, 'target' | 'secretKey'> = {}): Promise<TwoNodes> {
  const target = freshStore('postgres');
  const secretKey = randomBytes(32);
  const nodes: TestServer[] = [];
  const close = async () => {
    for (const n of nodes) await n.close();
    await releaseStore(target);
  };
  try {
    for (let i = 0; i < 2; i++) nodes.push(await startServer('postgres', { ...opts, target, secretKey }));
  } catch (err) {
    await close();
    throw err;
  }
  return { a: nodes[0], b: nodes[1], target, close };
}
