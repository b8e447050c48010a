/**
 * Wake-ups between the parts of Switchboard that wait on the database: the job runner (new jobs)
 * and event streams (new events). In one process an EventEmitter is enough; with PostgreSQL every
 * node also LISTENs, so a commit on one node wakes the others. Notifications carry no data that
 * matters: receivers always re-read the database, so a lost notification only costs a poll interval.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import pg from 'pg';

/** `keys`: an API key was revoked (payload: its id; `*` after a reconnect: forget every cached key). */
export type Topic = 'jobs' | 'events' | 'webchat' | 'keys';
const TOPICS: Topic[] = ['jobs', 'events', 'webchat', 'keys'];

/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
export const MAX_NOTIFY_PAYLOAD_BYTES = 7999;

/** Reconnect delays of the LISTEN connection: from 250 ms, doubling, at most 10 s between tries. */
export const LISTEN_RETRY_FIRST_MS = 250;
export const LISTEN_RETRY_MAX_MS = 10_000;

export class Notifier {
  private readonly emitter = new EventEmitter();
  private client: pg.Client | undefined;
  private pgSchema: string | undefined;
  private closed = false;
  private url: string | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** The next reconnect delay; back to the first after a connection that got as far as LISTEN. */
  private retryMs = LISTEN_RETRY_FIRST_MS;
  private failures = 0;

  constructor(private readonly log?: Pick<Logger, 'warn' | 'info'>) {
    this.emitter.setMaxListeners(0);
  }

  /** Whether the LISTEN connection is up (always false on SQLite, which needs none). */
  get listening(): boolean {
    return this.client !== undefined;
  }

  /** Starts listening on PostgreSQL (no-op for SQLite). */
  async listen(pgUrl: string | undefined, pgSchema?: string): Promise<void> {
    if (!pgUrl) return;
    this.url = pgUrl;
    this.pgSchema = pgSchema;
    await this.connect();
  }

  /**
   * Opens the listening connection and LISTENs on every topic. If the connection drops later
   * (database restart, pg_terminate_backend, network), it is re-opened with backoff and the
   * channels LISTENed again; meanwhile the job runner polls and streams re-read on their
   * heartbeat, so nothing is lost, only slower. After a reconnect every topic is woken once, since
   * notifications sent while away are gone.
   */
  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, fallback_application_name: 'switchboard-listen', keepAlive: true, connectionTimeoutMillis: 10_000 });
    let ready = false;
    client.on('error', () => undefined); // followed by 'end', handled there
    client.once('end', () => {
      if (this.client === client) this.client = undefined;
      // A connection that never got ready is the caller's failure to handle (listen / the retry loop).
      if (ready && !this.closed) {
        this.log?.warn({}, 'the LISTEN connection to PostgreSQL was lost; reconnecting');
        this.scheduleReconnect();
      }
    });
    try {
      await client.connect();
      // Channel names map back to topics exactly (a pattern once missed `sb__webchat`, the names
      // without a schema, so the default deployment in `public` dropped every notification).
      const topics = new Map(TOPICS.map((t) => [channelName(t, this.pgSchema), t]));
      client.on('notification', (n) => {
        const topic = topics.get(n.channel);
        if (topic) this.emitter.emit(topic, n.payload ?? '');
      });
      // One round trip for every channel.
      await client.query([...topics.keys()].map((name) => `LISTEN "${name}"`).join('; '));
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    ready = true;
    this.client = client;
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer || this.closed) return; // one reconnect loop at a time
    const ms = this.retryMs;
    this.retryMs = Math.min(ms * 2, LISTEN_RETRY_MAX_MS);
    const t = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.closed) return;
      this.connect().then(
        () => {
          if (this.closed) return;
          this.log?.info({ failed_attempts: this.failures }, 'the LISTEN connection to PostgreSQL is back');
          this.failures = 0;
          this.retryMs = LISTEN_RETRY_FIRST_MS;
          for (const topic of ['jobs', 'events'] as Topic[]) this.emitter.emit(topic, '');
          this.emitter.emit('keys', '*'); // a revocation may have been missed while away
        },
        () => {
          this.failures++;
          this.scheduleReconnect();
        },
      );
    }, ms);
    t.unref();
    this.reconnectTimer = t;
  }

  /** Wakes local listeners now (other nodes learn through pg_notify in the writing transaction). */
  local(topic: Topic, payload = ''): void {
    this.emitter.emit(topic, payload);
  }

  /**
   * Sends `payload` to the topic's listeners on every node, this one included. On PostgreSQL it
   * goes out through pg_notify on the listening connection and comes back to this node like to the
   * others (one path, one order); without PostgreSQL it is emitted locally. Unlike `local`, the
   * payload carries data, so it must stay under 8000 bytes (PostgreSQL's limit).
   */
  async publish(topic: Topic, payload: string): Promise<void> {
    if (Buffer.byteLength(payload) > MAX_NOTIFY_PAYLOAD_BYTES) throw new Error(`notification payload over ${MAX_NOTIFY_PAYLOAD_BYTES} bytes`);
    if (!this.client) {
      this.emitter.emit(topic, payload);
      return;
    }
    try {
      await this.client.query('select pg_notify($1, $2)', [channelName(topic, this.pgSchema), payload]);
    } catch {
      // The listening connection is gone: this node still hears itself.
      this.emitter.emit(topic, payload);
    }
  }

  on(topic: Topic, fn: (payload: string) => void): () => void {
    this.emitter.on(topic, fn);
    return () => this.emitter.off(topic, fn);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }
}

/** The PostgreSQL channel name for a topic, namespaced by schema so test schemas do not cross-talk. */
export function channelName(topic: Topic, pgSchema?: string): string {
  return pgSchema ? `sb_${pgSchema.toLowerCase()}__${topic}` : `sb__${topic}`;
}
