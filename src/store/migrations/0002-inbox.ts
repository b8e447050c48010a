import type { Kysely } from 'kysely';

/**
 * Conversations, events, messages and the job queue. `events` is deduplicated on the provider's
 * own id per channel; `instances.event_seq` numbers each instance's events in commit order (the
 * increment takes the instance's row lock, so a cursor never skips an event committed late).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = isPostgres(db);
  await db.schema.alterTable('instances').addColumn('event_seq', 'bigint', (c) => c.notNull().defaultTo(0)).execute();

  await db.schema
    .createTable('conversations')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('instance_id', 'varchar(36)', (c) => c.notNull().references('instances.id').onDelete('cascade'))
    .addColumn('channel_id', 'varchar(36)', (c) => c.notNull().references('channels.id').onDelete('cascade'))
    .addColumn('key', 'varchar(512)', (c) => c.notNull())
    .addColumn('participant', 'text')
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('last_inbound_at', 'varchar(32)')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .addUniqueConstraint('conversations_channel_key', ['channel_id', 'key'])
    .execute();
  await db.schema.createIndex('conversations_instance').on('conversations').columns(['instance_id', 'updated_at']).execute();

  await db.schema
    .createTable('events')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('instance_id', 'varchar(36)', (c) => c.notNull().references('instances.id').onDelete('cascade'))
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('channel_id', 'varchar(36)', (c) => c.references('channels.id').onDelete('cascade'))
    .addColumn('conversation_id', 'varchar(36)')
    .addColumn('type', 'varchar(64)', (c) => c.notNull())
    .addColumn('dedupe_key', 'varchar(600)', (c) => c.notNull().unique())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_instance_seq').on('events').columns(['instance_id', 'seq']).unique().execute();

  await db.schema
    .createTable('messages')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('instance_id', 'varchar(36)', (c) => c.notNull().references('instances.id').onDelete('cascade'))
    .addColumn('channel_id', 'varchar(36)', (c) => c.notNull().references('channels.id').onDelete('cascade'))
    .addColumn('conversation_id', 'varchar(36)', (c) => c.notNull().references('conversations.id').onDelete('cascade'))
    .addColumn('direction', 'varchar(8)', (c) => c.notNull())
    .addColumn('provider_message_id', 'varchar(255)')
    .addColumn('status', 'varchar(32)', (c) => c.notNull())
    .addColumn('text', 'text')
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('idempotency_key', 'varchar(300)')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('messages_conversation').on('messages').columns(['conversation_id', 'created_at']).execute();
  await db.schema.createIndex('messages_provider_id').on('messages').columns(['channel_id', 'provider_message_id']).execute();
  await db.schema.createIndex('messages_idempotency').on('messages').columns(['instance_id', 'idempotency_key']).unique().execute();

  await db.schema
    .createTable('jobs')
    .addColumn('seq', pg ? 'bigserial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('kind', 'varchar(32)', (c) => c.notNull())
    .addColumn('instance_id', 'varchar(36)', (c) => c.notNull().references('instances.id').onDelete('cascade'))
    .addColumn('group_key', 'varchar(64)', (c) => c.notNull())
    .addColumn('ref_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('locked_by', 'varchar(64)')
    .addColumn('locked_until', 'varchar(32)')
    .addColumn('last_error', 'text')
    .addColumn('payload', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('jobs_due').on('jobs').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('jobs_group').on('jobs').columns(['group_key', 'status', 'seq']).execute();
  await db.schema.createIndex('jobs_ref').on('jobs').columns(['ref_id']).execute();
}

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter.constructor.name.toLowerCase().includes('postgres');
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['jobs', 'messages', 'events', 'conversations']) await db.schema.dropTable(t).execute();
}
