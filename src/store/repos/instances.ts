import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database, InstancesTable } from '../schema.js';

export type InstanceRow = Selectable<InstancesTable>;

export class InstancesRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: Insertable<InstancesTable>): Promise<void> {
    await this.db.insertInto('instances').values(row).execute();
  }

  get(id: string): Promise<InstanceRow | undefined> {
    return this.db.selectFrom('instances').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** All instances, or only `ids` when given (a scoped key's view). */
  list(ids?: string[]): Promise<InstanceRow[]> {
    let q = this.db.selectFrom('instances').selectAll().orderBy('created_at').orderBy('id');
    if (ids) {
      if (ids.length === 0) return Promise.resolve([]);
      q = q.where('id', 'in', ids);
    }
    return q.execute();
  }

  async update(id: string, patch: Partial<Omit<InstanceRow, 'id' | 'created_at' | 'event_seq'>>): Promise<void> {
    await this.db.updateTable('instances').set(patch).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('instances').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
