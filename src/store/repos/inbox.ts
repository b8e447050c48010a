/**
 * The writes of one inbound webhook, in one transaction: events (deduplicated), conversations,
 * messages, status updates and delivery jobs. The instance row is locked first, which serialises
 * an instance's ingests across nodes: duplicate checks see every committed event, and event
 * sequence numbers are handed out in commit order.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, ConversationsTable, MessagesTable } from '../schema.js';
import type { DialectName } from '../database.js';

export type ConversationRow = Selectable<ConversationsTable>;
export type MessageRow = Selectable<MessagesTable>;

export type Tx = Transaction<Database>;

export class InboxRepo {
  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: DialectName,
  ) {}

  transaction<T>(fn: (trx: Tx) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
  }

  /** Takes the instance's write lock (row lock on PostgreSQL, the database write lock on SQLite). */
  async lockInstance(trx: Tx, instanceId: string): Promise<{ event_seq: number; agent_url: string | null } | undefined> {
    await trx.updateTable('instances').set({ event_seq: sql`event_seq` }).where('id', '=', instanceId).execute();
    const r = await trx.selectFrom('instances').select(['event_seq', 'agent_url']).where('id', '=', instanceId).executeTakeFirst();
    return r ? { event_seq: Number(r.event_seq), agent_url: r.agent_url } : undefined;
  }

  async setEventSeq(trx: Tx, instanceId: string, seq: number): Promise<void> {
    await trx.updateTable('instances').set({ event_seq: seq }).where('id', '=', instanceId).execute();
  }

  async eventExists(trx: Tx, dedupeKey: string): Promise<boolean> {
    return (await trx.selectFrom('events').select('id').where('dedupe_key', '=', dedupeKey).executeTakeFirst()) !== undefined;
  }

  async insertEvent(trx: Tx, row: { id: string; instance_id: string; seq: number; channel_id: string | null; conversation_id: string | null; type: string; dedupe_key: string; payload: string; created_at: string }): Promise<void> {
    await trx.insertInto('events').values(row).execute();
  }

  /** The conversation for (channel, key), created when new; participant and inbound time refreshed. */
  async upsertConversation(trx: Tx, p: { instanceId: string; channelId: string; key: string; participant?: unknown; inboundAt?: string; now: string }): Promise<ConversationRow> {
    const existing = await trx.selectFrom('conversations').selectAll().where('channel_id', '=', p.channelId).where('key', '=', p.key).executeTakeFirst();
    const participant = p.participant === undefined ? undefined : JSON.stringify(p.participant);
    if (existing) {
      const patch: Partial<ConversationRow> = { updated_at: p.now };
      if (participant) patch.participant = participant;
      if (p.inboundAt) patch.last_inbound_at = p.inboundAt;
      await trx.updateTable('conversations').set(patch).where('id', '=', existing.id).execute();
      return { ...existing, ...patch };
    }
    const row: ConversationRow = {
      id: randomUUID(),
      instance_id: p.instanceId,
      channel_id: p.channelId,
      key: p.key,
      participant: participant ?? null,
      state: '{}',
      last_inbound_at: p.inboundAt ?? null,
      created_at: p.now,
      updated_at: p.now,
    };
    await trx.insertInto('conversations').values(row).execute();
    return row;
  }

  async insertMessage(trx: Tx | Kysely<Database>, row: MessageRow): Promise<void> {
    await trx.insertInto('messages').values(row).execute();
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
