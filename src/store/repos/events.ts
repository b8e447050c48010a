import type { Kysely, Selectable } from 'kysely';
import type { Database, EventsTable } from '../schema.js';

export type EventRow = Selectable<EventsTable>;

export class EventsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  get(id: string): Promise<EventRow | undefined> {
    return this.db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The event stored for a provider event (the inbox's dedupe key: channel id and provider event id). */
  byDedupeKey(key: string): Promise<EventRow | undefined> {
    return this.db.selectFrom('events').selectAll().where('dedupe_key', '=', key).executeTakeFirst();
  }

  /** An instance's events after `cursor`, oldest first. */
  after(instanceId: string, cursor: number, limit: number): Promise<EventRow[]> {
    return this.db.selectFrom('events').selectAll().where('instance_id', '=', instanceId).where('seq', '>', cursor).orderBy('seq').limit(limit).execute();
  }
}
