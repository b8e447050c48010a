import type { Kysely } from 'kysely';

/**
 * No answer lost without a word: a message's `status_reason` (why it failed: agent_timeout,
 * agent_stream_broken, whatsapp_window_closed, provider_refused...) and each instance's agent
 * time limits (null = the documented defaults, see docs/delivery.md).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('messages').addColumn('status_reason', 'varchar(64)').execute();
  await db.schema.alterTable('instances').addColumn('agent_first_byte_timeout_ms', 'integer').execute();
  await db.schema.alterTable('instances').addColumn('agent_idle_timeout_ms', 'integer').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('instances').dropColumn('agent_idle_timeout_ms').execute();
  await db.schema.alterTable('instances').dropColumn('agent_first_byte_timeout_ms').execute();
  await db.schema.alterTable('messages').dropColumn('status_reason').execute();
}
