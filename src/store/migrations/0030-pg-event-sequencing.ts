import { sql, type Kysely } from 'kysely';

/**
 * PostgreSQL: events are numbered after they commit (core/event-sequencer.ts) instead of under the
 * instance's row lock inside every ingest transaction. An event is inserted with `seq` null and a
 * `pos` from a sequence (drawn after the conversation's row lock, so per conversation `pos` follows
 * commit order); the sequencer numbers committed, unnumbered events in `pos` order. The partial
 * index finds them. SQLite (one writer) keeps numbering inside the transaction: nothing changes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`alter table events alter column seq drop not null`.execute(db);
  await sql`create sequence events_pos`.execute(db);
  await sql`alter table events add column pos bigint`.execute(db);
  await sql`alter table events alter column pos set default nextval('events_pos')`.execute(db);
  await sql`create index events_unsequenced on events (instance_id, pos) where seq is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`drop index events_unsequenced`.execute(db);
  await sql`alter table events drop column pos`.execute(db);
  await sql`drop sequence events_pos`.execute(db);
}

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter.constructor.name.toLowerCase().includes('postgres');
}
