/** Entry point: `npm start`. Reads the environment, opens the store, serves, shuts down cleanly. */
import pino from 'pino';
import { buildApp } from './api/app.js';
import { loadConfig } from './config.js';
import { makeServices } from './core/services.js';
import { loadSecretBox } from './crypto/secret-box.js';
import { loggerOptions } from './log.js';
import { openStore } from './store/database.js';
import { seedDemo } from './demo/seed.js';

/** How long a starting node waits for an unreachable PostgreSQL before giving up. */
const PG_STARTUP_WAIT_MS = 60_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = pino(loggerOptions(config.logLevel));
  const box = loadSecretBox(config.secretKey, config.dataDir, (m) => logger.warn(m));
  // Optional PostgreSQL schema (created if missing): lets several deployments, or test runs,
  // share one database; it also namespaces the LISTEN/NOTIFY channels. Ignored for SQLite.
  const pgSchema = process.env.SWITCHBOARD_PG_SCHEMA || undefined;
  const store = await openStore(config.databaseUrl, {
    pgSchema,
    onConnectionLost: (err) => logger.warn({ db_error: (err as { code?: string }).code ?? err.message }, 'a pooled database connection was closed; it is reopened when needed'),
    // A PostgreSQL that is still starting (started alongside, or restarting) is waited for.
    waitMs: PG_STARTUP_WAIT_MS,
    onWaiting: (err, attempt) => {
      if (attempt === 1 || attempt % 10 === 0) logger.warn({ db_error: (err as { code?: string }).code ?? err.message, attempt }, 'PostgreSQL cannot be reached yet; waiting');
    },
  });
  const services = makeServices(config, store, box, logger, { pgSchema });

  const generated = await services.apiKeys.bootstrapOperatorKey();
  if (generated) {
    // Printed once, to the terminal only (never through the logger): only its hash is stored.
    process.stdout.write(`\n  Operator API key (shown once, store it now): ${generated}\n\n`);
  }

  const app = await buildApp(services, { logger });
  await app.listen({ host: config.host, port: config.port });
  await services.start();
  logger.info({ store: store.dialect, publicUrl: config.publicUrl }, 'Switchboard is up');
  // The offline demo (a web chat answered by the built-in echo agent); SWITCHBOARD_DEMO=false skips it.
  if (!/^(0|false|no|off)$/i.test(process.env.SWITCHBOARD_DEMO ?? '')) {
    const demo = await seedDemo(services);
    process.stdout.write(`\n  Dashboard:   ${demo.dashboardUrl}\n  Demo chat:   ${demo.pageUrl}\n  API docs:    ${config.publicUrl}/docs\n\n`);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    // Stop taking requests, let running jobs finish (their leases would otherwise delay a retry), then close the store.
    await app.close();
    await services.stop();
    await store.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`Switchboard failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
