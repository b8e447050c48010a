/**
 * Wake-ups between the parts of Switchboard that wait on the database: the job runner (new jobs)
 * and event streams (new events). In one process an EventEmitter is enough; with PostgreSQL every
 * node also LISTENs, so a commit on one node wakes the others. Notifications carry no data that
 * matters: receivers always re-read the database, so a lost notification only costs a poll interval.
 */
import { EventEmitter } from 'node:events';
import pg from 'pg';

/** `keys`: an API key was revoked (payload: its id; `*` after a reconnect: forget every cached key). */
export type Topic = 'jobs' | 'events' | 'webchat' | 'keys';
const TOPICS: Topic[] = ['jobs', 'events', 'webchat', 'keys'];

/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
export const MAX_NOTIFY_PAYLOAD_BYTES = 7999;

export class Notifier {
  private readonly emitter = new EventEmitter();
  private client: pg.Client | undefined;
  private pgSchema: string | undefined;

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  private closed = false;
  private url: string | undefined;

  /** Starts listening on PostgreSQL (no-op for SQLite). */
  async listen(pgUrl: string | undefined, pgSchema?: string): Promise<void> {
    if (!pgUrl) return;
    this.url = pgUrl;
    this.pgSchema = pgSchema;
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    // A dropped listening connection is re-opened with backoff; meanwhile the job runner polls and
    // streams re-read on their heartbeat, so nothing is lost, only slower. After a reconnect every
    // topic is woken once, since notifications sent while away are gone.
    client.on('error', () => undefined);
    client.on('end', () => {
      if (this.client === client) this.client = undefined;
      if (!this.closed) this.scheduleReconnect(250);
    });
    await client.connect();
    // Channel names map back to topics exactly (a pattern once missed `sb__webchat`, the names
    // without a schema, so the default deployment in `public` dropped every notification).
    const topics = new Map(TOPICS.map((t) => [channelName(t, this.pgSchema), t]));
    client.on('notification', (n) => {
      const topic = topics.get(n.channel);
      if (topic) this.emitter.emit(topic, n.payload ?? '');
    });
    for (const name of topics.keys()) await client.query(`LISTEN "${name}"`);
    this.client = client;
  }

  private reconnectTimer: NodeJS.Timeout | undefined;

  private scheduleReconnect(ms: number): void {
    if (this.reconnectTimer) return; // one reconnect loop at a time
    const t = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.closed) return;
      this.connect()
        .then(() => {
          for (const topic of ['jobs', 'events'] as Topic[]) this.emitter.emit(topic, '');
          this.emitter.emit('keys', '*'); // a revocation may have been missed while away
        })
        .catch(() => this.scheduleReconnect(Math.min(ms * 2, 10_000)));
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
