/**
 * The writes of one inbound webhook, in one transaction: events (deduplicated), conversations,
 * messages, status updates and delivery jobs. The instance row is locked first, which serialises
 * an instance's ingests across nodes: duplicate checks see every committed event, and event
 * sequence numbers are handed out in commit order.
 */
import { newId } from '../ids.js';
import { CompiledQuery, sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, ConversationsTable, MessagesTable } from '../schema.js';
import type { DialectName } from '../database.js';
import { forDialect } from '../sql-text.js';

export type ConversationRow = Selectable<ConversationsTable>;
export type MessageRow = Selectable<MessagesTable>;
/** A message as inserted: columns added later (status_reason) are set by their own updates. */
export type NewMessageRow = Omit<MessageRow, 'status_reason'> & { status_reason?: string | null };

export type Tx = Transaction<Database>;

/**
 * The ingest path runs a dozen statements per webhook; building and compiling each through the
 * query builder cost as much as running it. These are fixed SQL texts, written once with `?`
 * placeholders (numbered for PostgreSQL) and executed as compiled queries.
 * Not used for writes to `channels`: those must pass the write watch (store/write-watch.ts).
 */
const INBOX_SQL = {
  lockInstance: 'update instances set event_seq = event_seq where id = ? returning event_seq, agent_url',
  setEventSeq: 'update instances set event_seq = ? where id = ?',
  eventExists: 'select 1 as x from events where dedupe_key = ?',
  // New conversation, or the known one with its participant and last inbound time refreshed
  // (each kept when the event does not carry it): one statement either way.
  upsertConversation: `insert into conversations (id, instance_id, channel_id, key, participant, state, last_inbound_at, created_at, updated_at) values (?, ?, ?, ?, ?, '{}', ?, ?, ?)
    on conflict (channel_id, key) do update set updated_at = excluded.updated_at,
      participant = coalesce(excluded.participant, conversations.participant),
      last_inbound_at = coalesce(excluded.last_inbound_at, conversations.last_inbound_at)
    returning id`,
  insertEvent: 'insert into events (id, instance_id, seq, channel_id, conversation_id, type, dedupe_key, payload, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  insertMessage: 'insert into messages (id, instance_id, channel_id, conversation_id, direction, provider_message_id, status, text, content, error, idempotency_key, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
} as const;

export class InboxRepo {
  private readonly sqlText: Record<keyof typeof INBOX_SQL, string>;

  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: DialectName,
  ) {
    this.sqlText = forDialect(INBOX_SQL, dialect);
  }

  private async run<R>(trx: Tx | Kysely<Database>, name: keyof typeof INBOX_SQL, params: unknown[]): Promise<R[]> {
    return (await trx.executeQuery<R>(CompiledQuery.raw(this.sqlText[name], params))).rows;
  }

  transaction<T>(fn: (trx: Tx) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
  }

  /** Takes the instance's write lock (row lock on PostgreSQL, the database write lock on SQLite). */
  async lockInstance(trx: Tx, instanceId: string): Promise<{ event_seq: number; agent_url: string | null } | undefined> {
    const [r] = await this.run<{ event_seq: number | string; agent_url: string | null }>(trx, 'lockInstance', [instanceId]);
    return r ? { event_seq: Number(r.event_seq), agent_url: r.agent_url } : undefined;
  }

  async setEventSeq(trx: Tx, instanceId: string, seq: number): Promise<void> {
    await this.run(trx, 'setEventSeq', [seq, instanceId]);
  }

  async eventExists(trx: Tx, dedupeKey: string): Promise<boolean> {
    return (await this.run(trx, 'eventExists', [dedupeKey])).length > 0;
  }

  async insertEvent(trx: Tx, row: { id: string; instance_id: string; seq: number; channel_id: string | null; conversation_id: string | null; type: string; dedupe_key: string; payload: string; created_at: string }): Promise<void> {
    await this.run(trx, 'insertEvent', [row.id, row.instance_id, row.seq, row.channel_id, row.conversation_id, row.type, row.dedupe_key, row.payload, row.created_at]);
  }

  /** The conversation id for (channel, key), created when new; participant and inbound time refreshed. */
  async upsertConversation(trx: Tx, p: { instanceId: string; channelId: string; key: string; participant?: unknown; inboundAt?: string; now: string }): Promise<{ id: string }> {
    const participant = p.participant === undefined ? null : JSON.stringify(p.participant);
    const [row] = await this.run<{ id: string }>(trx, 'upsertConversation', [newId(), p.instanceId, p.channelId, p.key, participant, p.inboundAt ?? null, p.now, p.now]);
    return row;
  }

  async insertMessage(trx: Tx | Kysely<Database>, row: NewMessageRow): Promise<void> {
    await this.run(trx, 'insertMessage', [row.id, row.instance_id, row.channel_id, row.conversation_id, row.direction, row.provider_message_id, row.status, row.text, row.content, row.error, row.idempotency_key, row.created_at, row.updated_at]);
  }

  async messageByProviderId(trx: Tx, channelId: string, providerMessageId: string): Promise<MessageRow | undefined> {
    return trx.selectFrom('messages').selectAll().where('channel_id', '=', channelId).where('provider_message_id', '=', providerMessageId).where('direction', '=', 'out').executeTakeFirst();
  }

  async updateMessage(trx: Tx | Kysely<Database>, id: string, patch: Partial<MessageRow>): Promise<void> {
    await trx.updateTable('messages').set(patch).where('id', '=', id).execute();
  }

  /** last_event_at, and pending -> active on the first verified traffic; skipped when fresh (hot rows). */
  async touchChannel(trx: Tx, channelId: string, now: string, staleBefore: string): Promise<void> {
    await trx
      .updateTable('channels')
      .set({ last_event_at: now, status: sql`case when status = 'pending' then 'active' else status end` })
      .where('id', '=', channelId)
      .where((eb) => eb.or([eb('last_event_at', 'is', null), eb('last_event_at', '<', staleBefore), eb('status', '=', 'pending')]))
      .execute();
  }

  async notify(trx: Tx, channel: string): Promise<void> {
    if (this.dialect === 'postgres') await sql`select pg_notify(${channel}, '')`.execute(trx);
  }
}
