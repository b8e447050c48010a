/**
 * Switchboard under test: the real app (buildApp over openStore + makeServices, started as main.ts
 * does, job runner included) on a fresh SQLite file in a temp dir, seeded with one instance, one
 * stored operator API key (so every request pays the real key lookup) and 10 channels.
 *
 *   LOG_LEVEL   default `warn`, so per-request info logging does not dominate (set `info` to
 *               measure what request logging costs). Logs go to stderr.
 *
 * Prints `{"port":N,"key":"...","instanceId":"..."}` on stdout once listening; exits cleanly on
 * SIGTERM (which also lets `--cpu-prof` write its profile) and removes the temp dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { buildApp } from '../../src/api/app.js';
import { loadConfig } from '../../src/config.js';
import type { ChannelCreate } from '../../src/core/channels.js';
import type { Principal } from '../../src/core/principal.js';
import { makeServices } from '../../src/core/services.js';
import { SecretBox } from '../../src/crypto/secret-box.js';
import { loggerOptions } from '../../src/log.js';
import { openStore } from '../../src/store/database.js';

const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-'));
const logLevel = process.env.LOG_LEVEL ?? 'warn';
const config = loadConfig({
  DATABASE_URL: `sqlite:${join(dir, 'switchboard.db')}`,
  SWITCHBOARD_DATA_DIR: dir,
  PORT: '0',
  LOG_LEVEL: logLevel,
});
const logger = pino(loggerOptions(logLevel), pino.destination(2));
const store = await openStore(config.databaseUrl);
const services = makeServices(config, store, SecretBox.fromKey(randomBytes(32)), logger);

// A stored operator key (no SWITCHBOARD_ADMIN_KEY), as a default install has.
const key = await services.apiKeys.bootstrapOperatorKey();
if (!key) throw new Error('expected a fresh store to generate an operator key');
const operator: Principal = { kind: 'operator', keyId: null };
const instance = await services.instances.create(operator, { name: 'bench', agent_url: 'https://agent.example.com/hook' });

const seed: Array<Pick<ChannelCreate, 'channel_type' | 'provider' | 'external_identifier'> & { config?: Record<string, unknown> }> = [
  { channel_type: 'telegram', provider: 'telegram', external_identifier: 'bench_support_bot' },
  { channel_type: 'telegram', provider: 'telegram', external_identifier: 'bench_sales_bot' },
  { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: '+15550001001', config: { phone_number_id: '109876543210987' } },
  { channel_type: 'whatsapp', provider: 'twilio', external_identifier: '+15550001002' },
  { channel_type: 'sms', provider: 'twilio', external_identifier: '+15550001003' },
  { channel_type: 'sms', provider: 'twilio', external_identifier: '+15550001004' },
  { channel_type: 'voice', provider: 'retell', external_identifier: '+15550001005', config: { agent_id: 'agent_0123456789abcdef' } },
  { channel_type: 'email', provider: 'resend', external_identifier: 'support@bench.example.com' },
  { channel_type: 'email', provider: 'gmail', external_identifier: 'sales@bench.example.com' },
  { channel_type: 'web_chat', provider: 'web', external_identifier: 'bench.example.com', config: { allowed_origins: ['https://bench.example.com'] } },
];
for (const c of seed) {
  await services.channels.create(operator, instance.id, { ...c, config: c.config ?? { label: c.external_identifier }, enabled: true });
}

const app = await buildApp(services, { logger });
await app.listen({ host: '127.0.0.1', port: 0 });
await services.start();
const addr = app.server.address();
const port = typeof addr === 'object' && addr ? addr.port : 0;
config.publicUrl = `http://127.0.0.1:${port}`;
process.stdout.write(JSON.stringify({ port, key, instanceId: instance.id }) + '\n');

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
