import type { Kysely } from 'kysely';

/** Instances, API keys, accounts (connections + credentials) and channels: the seed API's objects. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('instances')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('agent_url', 'text')
    .addColumn('signing_secret_enc', 'text', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('is_admin', 'integer', (c) => c.notNull())
    .addColumn('instance_ids', 'text', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('accounts')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('instance_id', 'varchar(36)', (c) => c.references('instances.id').onDelete('cascade'))
    .addColumn('provider', 'varchar(50)', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('secrets_enc', 'text', (c) => c.notNull())
    .addColumn('secret_names', 'text', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('accounts_instance').on('accounts').columns(['instance_id']).execute();

  await db.schema
    .createTable('channels')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('instance_id', 'varchar(36)', (c) => c.notNull().references('instances.id').onDelete('cascade'))
    .addColumn('channel_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('provider', 'varchar(50)', (c) => c.notNull())
    .addColumn('external_identifier', 'varchar(255)', (c) => c.notNull())
    .addColumn('identity_key', 'varchar(320)', (c) => c.notNull().unique())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('connection_id', 'varchar(36)', (c) => c.references('accounts.id'))
    .addColumn('credential_id', 'varchar(36)', (c) => c.references('accounts.id'))
    .addColumn('webhook_secret_enc', 'text')
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('status', 'varchar(50)', (c) => c.notNull())
    .addColumn('error_message', 'text')
    .addColumn('last_event_at', 'varchar(32)')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('channels_instance').on('channels').columns(['instance_id', 'created_at']).execute();

  await db.schema
    .createTable('switchboard_meta')
    .addColumn('key', 'varchar(100)', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['channels', 'accounts', 'api_keys', 'instances', 'switchboard_meta']) await db.schema.dropTable(t).execute();
}
