/**
 * Switchboard for the outbound bench: the real app with its job runner (as main.ts starts it) on a
 * fresh SQLite file in a temp dir, sending to the provider API URLs given in the environment
 * (SWITCHBOARD_META_GRAPH_URL, SWITCHBOARD_TELEGRAM_API_URL, ...: the bench's fakes on loopback).
 * Nothing is seeded: the bench provisions instance, connection and channels through the API.
 *
 *   LOG_LEVEL   default `warn`. Logs go to stderr.
 *
 * Prints `{"port":N,"adminKey":"..."}` on stdout once listening; exits cleanly on SIGTERM.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { buildApp } from '../../src/api/app.js';
import { loadConfig } from '../../src/config.js';
import { makeServices } from '../../src/core/services.js';
import { SecretBox } from '../../src/crypto/secret-box.js';
import { loggerOptions } from '../../src/log.js';
import { openStore } from '../../src/store/database.js';

const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-outbound-'));
const logLevel = process.env.LOG_LEVEL ?? 'warn';
const adminKey = process.env.BENCH_SB_ADMIN_KEY || 'sb_bench_admin_' + randomBytes(16).toString('hex');
const providerUrls = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => /^SWITCHBOARD_[A-Z_]+_(API|GRAPH)_URL$/.test(k) && v)) as Record<string, string>;
const config = loadConfig({
  // BENCH_SB_DATABASE_URL: a PostgreSQL database instead (bench/store.ts; several nodes share it).
  DATABASE_URL: process.env.BENCH_SB_DATABASE_URL || `sqlite:${join(dir, 'switchboard.db')}`,
  SWITCHBOARD_DATA_DIR: dir,
  SWITCHBOARD_ADMIN_KEY: adminKey,
  SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true',
  PORT: '0',
  LOG_LEVEL: logLevel,
  ...providerUrls,
});
// BENCH_SB_LOG_FILE: where log lines go (default stderr), so `info` can be measured without a flood.
const logger = pino(loggerOptions(logLevel), process.env.BENCH_SB_LOG_FILE ? pino.destination({ dest: process.env.BENCH_SB_LOG_FILE, sync: true }) : pino.destination(2));
const store = await openStore(config.databaseUrl);
const services = makeServices(config, store, SecretBox.fromKey(process.env.BENCH_SB_SECRET_KEY ? Buffer.from(process.env.BENCH_SB_SECRET_KEY, 'hex') : randomBytes(32)), logger);

const app = await buildApp(services, { logger });
await app.listen({ host: '127.0.0.1', port: 0 });
await services.start();
const addr = app.server.address();
const port = typeof addr === 'object' && addr ? addr.port : 0;
config.publicUrl = `http://127.0.0.1:${port}`;
process.stdout.write(JSON.stringify({ port, adminKey }) + '\n');

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void (async () => {
    app.server.closeAllConnections();
    await app.close();
    await services.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  })();
});
