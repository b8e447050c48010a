/** SQL for media rows (store/migrations/0050-media.ts). */
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, MediaTable } from '../schema.js';

export type MediaRow = Selectable<MediaTable>;

export class MediaRepo {
  constructor(readonly db: Kysely<Database>) {}

  async insert(trx: Kysely<Database> | Transaction<Database>, row: MediaRow): Promise<void> {
    await trx.insertInto('media').values(row).execute();
  }

  /** `insert` as a statement of its own (no caller transaction). */
  insertAlone(row: MediaRow): Promise<void> {
    return this.insert(this.db, row);
  }

  get(id: string): Promise<MediaRow | undefined> {
    return this.db.selectFrom('media').selectAll().where('id', '=', id).executeTakeFirst();
  }

  forEvent(eventId: string): Promise<MediaRow[]> {
    return this.db.selectFrom('media').selectAll().where('event_id', '=', eventId).orderBy('position').execute();
  }

  /** Items of several messages at once (history pages), in their order within each message. */
  async forMessages(messageIds: string[]): Promise<MediaRow[]> {
    if (messageIds.length === 0) return [];
    return this.db.selectFrom('media').selectAll().where('message_id', 'in', messageIds).orderBy('message_id').orderBy('position').execute();
  }

  /**
   * Binds a person's upload (a web chat visitor's file) to their inbound message, inside the
   * ingest transaction; false when it is not an unbound upload of this channel.
   */
  async bindUpload(trx: Kysely<Database> | Transaction<Database>, id: string, channelId: string, messageId: string, eventId: string, position: number): Promise<boolean> {
    const r = await trx
      .updateTable('media')
      .set({ message_id: messageId, event_id: eventId, position })
      .where('id', '=', id)
      .where('channel_id', '=', channelId)
      .where('direction', '=', 'in')
      .where('status', '=', 'ready')
      .where('message_id', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  getIn(trx: Kysely<Database> | Transaction<Database>, id: string): Promise<MediaRow | undefined> {
    return trx.selectFrom('media').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async update(id: string, patch: Partial<MediaRow>): Promise<void> {
    await this.db.updateTable('media').set(patch).where('id', '=', id).execute();
  }

  /** Uploads get bound to the outbound message that sends them. */
  async attach(trx: Kysely<Database> | Transaction<Database>, ids: string[], messageId: string): Promise<void> {
    if (ids.length) await trx.updateTable('media').set({ message_id: messageId }).where('id', 'in', ids).where('message_id', 'is', null).execute();
  }

  attachAlone(ids: string[], messageId: string): Promise<void> {
    return this.attach(this.db, ids, messageId);
  }

  /** Rows to delete: older than `before`, or whose instance is gone. */
  expired(before: string | undefined, limit: number): Promise<MediaRow[]> {
    return this.db
      .selectFrom('media')
      .selectAll()
      .where((eb) => {
        const orphan = eb.not(eb.exists(eb.selectFrom('instances').select('instances.id').whereRef('instances.id', '=', 'media.instance_id')));
        return before ? eb.or([eb('media.created_at', '<', before), orphan]) : orphan;
      })
      .limit(limit)
      .execute();
  }

  /** The stored event, once its media is final (store-wide SQL on events stays small: one update). */
  async setEventPayload(eventId: string, payload: string): Promise<void> {
    await this.db.updateTable('events').set({ payload }).where('id', '=', eventId).execute();
  }

  async setMessageTextIfEmpty(messageId: string, text: string): Promise<void> {
    await this.db.updateTable('messages').set({ text }).where('id', '=', messageId).where((eb) => eb.or([eb('text', 'is', null), eb('text', '=', '')])).execute();
  }

  async delete(ids: string[]): Promise<void> {
    if (ids.length) await this.db.deleteFrom('media').where('id', 'in', ids).execute();
  }
}
