/**
 * The writes of one inbound webhook, in one transaction: events (deduplicated), conversations,
 * messages, status updates and delivery jobs. On SQLite (one writer) the instance row is locked
 * and events are numbered inside it. On PostgreSQL nothing instance-wide is locked: events are
 * inserted unnumbered and the event sequencer numbers them after they commit (`sequence` below);
 * a conversation's row lock (the upsert) orders its own events and jobs.
 */
import { newId } from '../ids.js';
import { CompiledQuery, sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, ConversationsTable, EventsTable, MessagesTable } from '../schema.js';
import type { DialectName } from '../database.js';
import { forDialect } from '../sql-text.js';
import { UNSEQUENCED_PREFIX } from '../../core/event-envelope.js';

export type ConversationRow = Selectable<ConversationsTable>;
export type MessageRow = Selectable<MessagesTable>;
/** A message to insert: the columns added after the first release may be left out (null). */
export type MessageInsert = Omit<MessageRow, 'status_reason' | 'author' | 'in_reply_to' | 'sent_at'> & Partial<Pick<MessageRow, 'status_reason' | 'author' | 'in_reply_to' | 'sent_at'>>;
export type NewMessageRow = MessageInsert;

/** The part of a conversation every event envelope carries. */
export interface ConversationState {
  id: string;
  status: string;
  mode: string;
}

/** The address a conversation sends to (the person/thread), also once it is closed. */
export const threadKeyOf = (c: Pick<ConversationRow, 'key' | 'thread_key'>): string => c.thread_key ?? c.key;

export type Tx = Transaction<Database>;

/**
 * The ingest path runs a dozen statements per webhook; building and compiling each through the
 * query builder cost as much as running it. These are fixed SQL texts, written once with `?`
 * placeholders (numbered for PostgreSQL) and executed as compiled queries.
 * Not used for writes to `channels`: those must pass the write watch (store/write-watch.ts).
 */
const INBOX_SQL = {
  lockInstance: 'update instances set event_seq = event_seq where id = ? returning event_seq, agent_url',
  instanceAgent: 'select agent_url from instances where id = ?',
  lockConversation: 'select 1 as x from conversations where id = ? for no key update',
  setEventSeq: 'update instances set event_seq = ? where id = ?',
  eventExists: 'select 1 as x from events where dedupe_key = ?',
  // New conversation, or the known one with its participant and last inbound time refreshed
  // (each kept when the event does not carry it): one statement either way.
  // A closed conversation no longer holds its key (see migration 0040), so the person's next
  // message lands here as an insert: a new conversation.
  upsertConversation: `insert into conversations (id, instance_id, channel_id, key, thread_key, participant, state, last_inbound_at, last_message_at, created_at, updated_at) values (?, ?, ?, ?, ?, ?, '{}', ?, ?, ?, ?)
    on conflict (channel_id, key) do update set updated_at = excluded.updated_at,
      participant = coalesce(excluded.participant, conversations.participant),
      last_inbound_at = coalesce(excluded.last_inbound_at, conversations.last_inbound_at),
      last_message_at = coalesce(excluded.last_message_at, conversations.last_message_at)
    returning id, status, mode`,
  conversationState: 'select id, status, mode from conversations where id = ?',
  insertEvent: 'insert into events (id, instance_id, seq, channel_id, conversation_id, type, dedupe_key, payload, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  insertMessage: 'insert into messages (id, instance_id, channel_id, conversation_id, direction, provider_message_id, status, text, content, error, idempotency_key, created_at, updated_at, author, in_reply_to, sent_at, status_reason) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
} as const;

/** PostgreSQL only: the event sequencer's statements (see core/event-sequencer.ts). */
const SEQUENCER_SQL = {
  // Waiting here is what orders two sequencers of one instance; the numbering statement runs
  // after the wait, so its snapshot sees everything the other one committed. NO KEY UPDATE, not
  // UPDATE: every ingest's event insert holds KEY SHARE on the instance row (the foreign key)
  // until it commits, and FOR UPDATE would wait for (and queue new ingests behind) all of them.
  lock: 'select event_seq from instances where id = ? for no key update',
  // Numbers committed, unnumbered events in `pos` order after the instance's last number, writes
  // the number into the payload's placeholder, moves the instance's counter and wakes readers,
  // all in one statement.
  number: `with todo as (
      select id, cast(? as bigint) + row_number() over (order by pos) as n from events where instance_id = ? and seq is null order by pos limit ?
    ), upd as (
      update events e set seq = todo.n,
        payload = case when left(e.payload, ${UNSEQUENCED_PREFIX.length}) = '${UNSEQUENCED_PREFIX}' then '{"cursor":"' || todo.n || '",' || substr(e.payload, ${UNSEQUENCED_PREFIX.length + 1}) else e.payload end
      from todo where e.id = todo.id and e.seq is null
      returning todo.n
    )
    update instances set event_seq = (select max(n) from upd) where id = ? and exists (select 1 from upd)
    returning (select count(*) from upd) as n, pg_notify(?, ?) is null as notified`,
  stale: 'select distinct instance_id from events where seq is null and created_at < ? limit 100',
} as const;

/**
 * PostgreSQL only: one round trip per batch instead of one per event. Each statement costs a round
 * trip inside the batch's transaction, and a batch's statements run one after another, so they
 * (not the database's CPU) bounded PostgreSQL ingest.
 */
const PG_BATCH_SQL = {
  knownDedupeKeys: 'select dedupe_key from events where dedupe_key = any($1::varchar[])',
  // `with ordinality ... order by` keeps the rows' order, so `pos` (drawn per row, see migration
  // 0030) follows the order the events were stored in.
  insertEvents: `insert into events (id, instance_id, seq, channel_id, conversation_id, type, dedupe_key, payload, created_at)
    select id, instance_id, null, channel_id, conversation_id, type, dedupe_key, payload, created_at
    from unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], $6::varchar[], $7::text[], $8::varchar[])
      with ordinality as r(id, instance_id, channel_id, conversation_id, type, dedupe_key, payload, created_at, ord)
    order by ord`,
} as const;

/** An events row as written (`seq` is a number, or null on PostgreSQL until it is numbered). */
export type EventInsert = Omit<EventsTable, 'seq'> & { seq: number | null };

const PG_SEQUENCER = forDialect(SEQUENCER_SQL, 'postgres');

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

  /** The instance's agent_url without locking anything (PostgreSQL ingests); undefined when it is gone. */
  async instanceAgent(trx: Tx, instanceId: string): Promise<{ agent_url: string | null } | undefined> {
    return (await this.run<{ agent_url: string | null }>(trx, 'instanceAgent', [instanceId]))[0];
  }

  /** Holds a conversation's row until commit, ordering its events and jobs (status events). */
  async lockConversation(trx: Tx, conversationId: string): Promise<void> {
    await this.run(trx, 'lockConversation', [conversationId]);
  }

  /**
   * PostgreSQL: numbers up to `limit` of the instance's committed, unnumbered events, in one short
   * transaction holding the instance's row; returns how many it numbered.
   */
  async sequence(instanceId: string, eventsChannel: string, limit: number): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const [inst] = (await trx.executeQuery<{ event_seq: string }>(CompiledQuery.raw(PG_SEQUENCER.lock, [instanceId]))).rows;
      if (!inst) return 0;
      const [r] = (await trx.executeQuery<{ n: string }>(CompiledQuery.raw(PG_SEQUENCER.number, [inst.event_seq, instanceId, limit, instanceId, eventsChannel, instanceId]))).rows;
      return r ? Number(r.n) : 0;
    });
  }

  /** Instances with events left unnumbered since before `before` (their node died or failed). */
  async staleUnsequenced(before: string): Promise<string[]> {
    return (await this.db.executeQuery<{ instance_id: string }>(CompiledQuery.raw(PG_SEQUENCER.stale, [before]))).rows.map((r) => r.instance_id);
  }

  async setEventSeq(trx: Tx, instanceId: string, seq: number): Promise<void> {
    await this.run(trx, 'setEventSeq', [seq, instanceId]);
  }

  async eventExists(trx: Tx, dedupeKey: string): Promise<boolean> {
    return (await this.run(trx, 'eventExists', [dedupeKey])).length > 0;
  }

  async insertEvent(trx: Tx, row: EventInsert): Promise<void> {
    await this.run(trx, 'insertEvent', [row.id, row.instance_id, row.seq, row.channel_id, row.conversation_id, row.type, row.dedupe_key, row.payload, row.created_at]);
  }

  /** PostgreSQL: which of these dedupe keys are already stored (one statement for a batch). */
  async knownDedupeKeys(trx: Tx, keys: string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const { rows } = await trx.executeQuery<{ dedupe_key: string }>(CompiledQuery.raw(PG_BATCH_SQL.knownDedupeKeys, [keys]));
    return new Set(rows.map((r) => r.dedupe_key));
  }

  /** PostgreSQL: unnumbered events in one statement, in the given order. */
  async insertEventsUnnumbered(trx: Tx, rows: EventInsert[]): Promise<void> {
    if (rows.length === 0) return;
    const col = <K extends keyof EventInsert>(k: K) => rows.map((r) => r[k]);
    await trx.executeQuery(CompiledQuery.raw(PG_BATCH_SQL.insertEvents, [col('id'), col('instance_id'), col('channel_id'), col('conversation_id'), col('type'), col('dedupe_key'), col('payload'), col('created_at')]));
  }

  /**
   * The open conversation for (channel, key), created when there is none (`created`); participant,
   * inbound and last message times refreshed.
   */
  async upsertConversation(trx: Tx, p: { instanceId: string; channelId: string; key: string; participant?: unknown; inboundAt?: string; messageAt?: string; now: string; id?: string }): Promise<ConversationState & { created: boolean }> {
    const participant = p.participant === undefined ? null : JSON.stringify(p.participant);
    // A caller may choose the id (to raise the conversation's event in the same transaction).
    const id = p.id ?? newId();
    const [row] = await this.run<ConversationState>(trx, 'upsertConversation', [id, p.instanceId, p.channelId, p.key, p.key, participant, p.inboundAt ?? null, p.messageAt ?? null, p.now, p.now]);
    return { ...row, created: row.id === id };
  }

  async conversationState(trx: Tx | Kysely<Database>, id: string): Promise<ConversationState | undefined> {
    const [row] = await this.run<ConversationState>(trx, 'conversationState', [id]);
    return row;
  }

  /**
   * Moves the channel's conversation keyed by one of `fromKeys` to `toKey`, unless `toKey` already
   * has one (then the person's conversation is that one). Returns whether a conversation moved.
   */
  async moveConversationKey(trx: Tx, channelId: string, toKey: string, fromKeys: string[]): Promise<boolean> {
    const others = fromKeys.filter((k) => k && k !== toKey);
    if (others.length === 0) return false;
    const taken = await trx.selectFrom('conversations').select('id').where('channel_id', '=', channelId).where('key', '=', toKey).executeTakeFirst();
    if (taken) return false;
    const old = await trx.selectFrom('conversations').select('id').where('channel_id', '=', channelId).where('key', 'in', others).orderBy('updated_at', 'desc').limit(1).executeTakeFirst();
    if (!old) return false;
    // thread_key too: it is where sends go (see migration 0040).
    await trx.updateTable('conversations').set({ key: toKey, thread_key: toKey }).where('id', '=', old.id).execute();
    return true;
  }

  /** What an email thread's re-keying needs of a conversation (core/outbound/email-thread.ts). */
  async conversationThread(trx: Tx, id: string): Promise<Pick<ConversationRow, 'state' | 'last_inbound_at' | 'status' | 'key'> | undefined> {
    return trx.selectFrom('conversations').select(['state', 'last_inbound_at', 'status', 'key']).where('id', '=', id).executeTakeFirst();
  }

  async setConversationState(trx: Tx, id: string, state: string): Promise<void> {
    await trx.updateTable('conversations').set({ state }).where('id', '=', id).execute();
  }

  async insertMessage(trx: Tx | Kysely<Database>, row: MessageInsert): Promise<void> {
    await this.run(trx, 'insertMessage', [row.id, row.instance_id, row.channel_id, row.conversation_id, row.direction, row.provider_message_id, row.status, row.text, row.content, row.error, row.idempotency_key, row.created_at, row.updated_at, row.author ?? null, row.in_reply_to ?? null, row.sent_at ?? null, row.status_reason ?? null]);
  }

  /** `insertMessage` as a statement of its own (no caller transaction); `…Alone` means the same below. */
  insertMessageAlone(row: MessageInsert): Promise<void> {
    return this.insertMessage(this.db, row);
  }

  /** An outbound message by the provider's id, with its conversation's status and mode (for the event). */
  async messageByProviderId(trx: Tx, channelId: string, providerMessageId: string): Promise<(MessageRow & { conv_status: string; conv_mode: string }) | undefined> {
    return trx
      .selectFrom('messages')
      .innerJoin('conversations', 'conversations.id', 'messages.conversation_id')
      .selectAll('messages')
      .select(['conversations.status as conv_status', 'conversations.mode as conv_mode'])
      .where('messages.channel_id', '=', channelId)
      .where('messages.provider_message_id', '=', providerMessageId)
      .where('messages.direction', '=', 'out')
      .executeTakeFirst();
  }

  async updateMessage(trx: Tx | Kysely<Database>, id: string, patch: Partial<MessageRow>): Promise<void> {
    await trx.updateTable('messages').set(patch).where('id', '=', id).execute();
  }

  updateMessageAlone(id: string, patch: Partial<MessageRow>): Promise<void> {
    return this.updateMessage(this.db, id, patch);
  }

  /** last_event_at, and pending -> active on the first verified traffic; skipped when fresh (hot rows). */
  async touchChannel(trx: Tx | Kysely<Database>, channelId: string, now: string, staleBefore: string): Promise<void> {
    await trx
      .updateTable('channels')
      .set({ last_event_at: now, status: sql`case when status = 'pending' then 'active' else status end` })
      .where('id', '=', channelId)
      .where((eb) => eb.or([eb('last_event_at', 'is', null), eb('last_event_at', '<', staleBefore), eb('status', '=', 'pending')]))
      .execute();
  }

  touchChannelAlone(channelId: string, now: string, staleBefore: string): Promise<void> {
    return this.touchChannel(this.db, channelId, now, staleBefore);
  }

  async notify(trx: Tx, channel: string, payload = ''): Promise<void> {
    if (this.dialect === 'postgres') await sql`select pg_notify(${channel}, ${payload})`.execute(trx);
  }
}
