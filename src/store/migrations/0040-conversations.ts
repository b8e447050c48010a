import type { Kysely } from 'kysely';

/**
 * Conversations get a lifecycle and a driver: `status` (open | closed), `mode` (agent | human),
 * an `assignee`, and the time the mode last changed (idle human conversations return to the agent).
 * `thread_key` keeps the person/thread address for good: a closed conversation gives up `key`
 * (it becomes `closed\n<id>`, keeping the unique (channel_id, key) constraint for open ones), so
 * the person's next message opens a new conversation while sends still reach the old thread.
 * Messages get an author, the message they answer (`in_reply_to`) and when the provider took them
 * (`sent_at`); `created_at` stays the time Switchboard accepted them. Instances get their
 * handoff settings.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const conv = () => db.schema.alterTable('conversations');
  await conv().addColumn('status', 'varchar(16)', (c) => c.notNull().defaultTo('open')).execute();
  await conv().addColumn('mode', 'varchar(16)', (c) => c.notNull().defaultTo('agent')).execute();
  await conv().addColumn('assignee', 'text').execute();
  await conv().addColumn('mode_reason', 'text').execute();
  await conv().addColumn('mode_changed_at', 'varchar(32)').execute();
  await conv().addColumn('closed_at', 'varchar(32)').execute();
  await conv().addColumn('last_message_at', 'varchar(32)').execute();
  await conv().addColumn('thread_key', 'varchar(512)').execute();
  await db.schema.createIndex('conversations_mode').on('conversations').columns(['mode', 'last_message_at']).execute();

  const msg = () => db.schema.alterTable('messages');
  await msg().addColumn('author', 'text').execute();
  await msg().addColumn('in_reply_to', 'varchar(36)').execute();
  await msg().addColumn('sent_at', 'varchar(32)').execute();

  await db.schema.alterTable('instances').addColumn('handoff', 'text', (c) => c.notNull().defaultTo('{}')).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('conversations_mode').execute();
  for (const c of ['status', 'mode', 'assignee', 'mode_reason', 'mode_changed_at', 'closed_at', 'last_message_at', 'thread_key']) await db.schema.alterTable('conversations').dropColumn(c).execute();
  for (const c of ['author', 'in_reply_to', 'sent_at']) await db.schema.alterTable('messages').dropColumn(c).execute();
  await db.schema.alterTable('instances').dropColumn('handoff').execute();
}
