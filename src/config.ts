/** Process configuration, read once from the environment. Every knob is listed in the README. */
import { resolve } from 'node:path';
import { providers } from './adapters/registry.js';

export interface Config {
  host: string;
  port: number;
  databaseUrl: string;
  /** Base URL providers call us on; webhook URLs and Twilio signatures are built from it. */
  publicUrl: string;
  dataDir: string;
  adminKey?: string;
  secretKey?: string;
  logLevel: string;
  allowPrivateUrls: boolean;
  /**
   * Provider name -> API base URL: each adapter's `api.env` variable, else its default (fakes plug
   * in here); a connection's settings.api_base_url wins over both.
   */
  providerApi: Record<string, string>;
  /** Agent delivery retry delays (ms); SWITCHBOARD_DELIVERY_SCHEDULE as comma-separated seconds. */
  deliveryScheduleMs?: number[];
  /** Bearer token /metrics requires, when set. */
  metricsToken?: string;
  /** How often each node looks for Gmail watches close to lapsing (they last 7 days). */
  gmailWatchCheckMs: number;
  /** Media capture, storage and links (docs/media.md). */
  media: MediaConfig;
  /** How often a node returns idle human-mode conversations to the agent. */
  handoffSweepMs: number;
  /** HTTP server limits (docs/security.md); unset fields take the defaults in api/app.ts. */
  http?: HttpLimits;
}

export interface HttpLimits {
  /** Headers and body must have arrived within this (SWITCHBOARD_REQUEST_TIMEOUT_MS, default 30 s). */
  requestTimeoutMs: number;
  /** An idle keep-alive socket is closed after this (SWITCHBOARD_KEEPALIVE_TIMEOUT_MS, default 72 s). */
  keepAliveTimeoutMs: number;
  /** Open connections per process beyond which new ones are refused (SWITCHBOARD_MAX_CONNECTIONS, default 10,000). */
  maxConnections: number;
}

export interface MediaConfig {
  /** SWITCHBOARD_MEDIA_STORE: unset (files under the data dir), file:///path or s3://bucket?endpoint=&region= */
  store?: string;
  s3AccessKeyId?: string;
  s3SecretAccessKey?: string;
  /** Largest file captured or uploaded (SWITCHBOARD_MEDIA_MAX_BYTES, default 25 MB). */
  maxBytes: number;
  /** Media older than this is deleted (SWITCHBOARD_MEDIA_RETENTION_DAYS, default 30; 0 keeps it). */
  retentionDays: number;
  /** Lifetime of a signed media link (SWITCHBOARD_MEDIA_LINK_TTL seconds, default 7 days). */
  linkTtlSeconds: number;
  /** How long message.received waits for its media to be captured (SWITCHBOARD_MEDIA_CAPTURE_WAIT_MS, default 15 s). */
  captureWaitMs: number;
}

function bool(v: string | undefined): boolean {
  return v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const host = env.HOST ?? '127.0.0.1';
  const port = Number(env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be 0-65535, got ${env.PORT}`);
  const providerApi: Record<string, string> = {};
  for (const a of providers()) if (a.api) providerApi[a.name] = env[a.api.env] ?? a.api.defaultBaseUrl;
  return {
    host,
    port,
    databaseUrl: env.DATABASE_URL ?? 'sqlite:./data/switchboard.db',
    publicUrl: (env.PUBLIC_URL ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`).replace(/\/+$/, ''),
    dataDir: resolve(env.SWITCHBOARD_DATA_DIR ?? './data'),
    adminKey: env.SWITCHBOARD_ADMIN_KEY || undefined,
    secretKey: env.SWITCHBOARD_SECRET_KEY || undefined,
    logLevel: env.LOG_LEVEL ?? 'info',
    allowPrivateUrls: bool(env.SWITCHBOARD_ALLOW_PRIVATE_URLS),
    providerApi,
    deliveryScheduleMs: env.SWITCHBOARD_DELIVERY_SCHEDULE ? parseSchedule(env.SWITCHBOARD_DELIVERY_SCHEDULE) : undefined,
    metricsToken: env.SWITCHBOARD_METRICS_TOKEN || undefined,
    gmailWatchCheckMs: positiveMs(env.SWITCHBOARD_GMAIL_WATCH_CHECK_MS, 3_600_000, 'SWITCHBOARD_GMAIL_WATCH_CHECK_MS'),
    http: {
      requestTimeoutMs: whole(env.SWITCHBOARD_REQUEST_TIMEOUT_MS, 30_000, 100, 'SWITCHBOARD_REQUEST_TIMEOUT_MS'),
      keepAliveTimeoutMs: whole(env.SWITCHBOARD_KEEPALIVE_TIMEOUT_MS, 72_000, 100, 'SWITCHBOARD_KEEPALIVE_TIMEOUT_MS'),
      maxConnections: whole(env.SWITCHBOARD_MAX_CONNECTIONS, 10_000, 1, 'SWITCHBOARD_MAX_CONNECTIONS'),
    },
    media: {
      store: env.SWITCHBOARD_MEDIA_STORE || undefined,
      s3AccessKeyId: env.SWITCHBOARD_S3_ACCESS_KEY_ID || undefined,
      s3SecretAccessKey: env.SWITCHBOARD_S3_SECRET_ACCESS_KEY || undefined,
      maxBytes: whole(env.SWITCHBOARD_MEDIA_MAX_BYTES, 25 * 1024 * 1024, 1, 'SWITCHBOARD_MEDIA_MAX_BYTES'),
      retentionDays: whole(env.SWITCHBOARD_MEDIA_RETENTION_DAYS, 30, 0, 'SWITCHBOARD_MEDIA_RETENTION_DAYS'),
      linkTtlSeconds: whole(env.SWITCHBOARD_MEDIA_LINK_TTL, 7 * 86_400, 1, 'SWITCHBOARD_MEDIA_LINK_TTL'),
      captureWaitMs: whole(env.SWITCHBOARD_MEDIA_CAPTURE_WAIT_MS, 15_000, 0, 'SWITCHBOARD_MEDIA_CAPTURE_WAIT_MS'),
    },
    handoffSweepMs: positiveMs(env.SWITCHBOARD_HANDOFF_SWEEP_MS, 30_000, 'SWITCHBOARD_HANDOFF_SWEEP_MS'),
  };
}

function parseSchedule(text: string): number[] {
  const ms = text.split(',').map((x) => Number(x.trim()) * 1000);
  if (ms.some((x) => !Number.isFinite(x) || x < 0)) throw new Error('SWITCHBOARD_DELIVERY_SCHEDULE must be comma-separated seconds, e.g. 5,300,1800');
  return ms;
}

function positiveMs(v: string | undefined, dflt: number, name: string): number {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 10) throw new Error(`${name} must be a whole number of milliseconds >= 10, got ${v}`);
  return n;
}

function whole(v: string | undefined, dflt: number, min: number, name: string): number {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name} must be a whole number >= ${min}, got ${v}`);
  return n;
}
