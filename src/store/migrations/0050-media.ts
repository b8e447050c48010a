import type { Kysely } from 'kysely';

/**
 * Media items: what people send (captured from the provider) and what agents upload. The bytes
 * are in the blob store under `blob_key`; a row never says `ready` before its bytes are stored.
 * No foreign key to instances on purpose: a deleted instance's rows must outlive it until the
 * cleanup job has deleted their blobs too (it removes both).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('media')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('instance_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('channel_id', 'varchar(36)')
    .addColumn('message_id', 'varchar(36)')
    .addColumn('event_id', 'varchar(36)')
    // 'in' (captured from a provider) or 'out' (uploaded through the API).
    .addColumn('direction', 'varchar(8)', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('mime_type', 'varchar(255)')
    .addColumn('size', 'bigint')
    .addColumn('sha256', 'varchar(64)')
    .addColumn('file_name', 'varchar(255)')
    .addColumn('caption', 'text')
    // pending -> ready | failed | too_large
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('error', 'text')
    // JSON: where the provider keeps it (file_id, media id, URL, expected hash and size).
    .addColumn('source', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('blob_key', 'varchar(200)')
    .addColumn('transcript', 'text')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('media_message').on('media').columns(['message_id', 'position']).execute();
  await db.schema.createIndex('media_event').on('media').columns(['event_id']).execute();
  await db.schema.createIndex('media_created').on('media').columns(['created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('media').execute();
}
