import type { Kysely } from 'kysely';
import type { ApiKeysTable, Database } from '../schema.js';

export type ApiKeyRow = ApiKeysTable;

export class ApiKeysRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: ApiKeyRow): Promise<void> {
    await this.db.insertInto('api_keys').values(row).execute();
  }

  byHash(hash: string): Promise<ApiKeyRow | undefined> {
    return this.db.selectFrom('api_keys').selectAll().where('key_hash', '=', hash).executeTakeFirst();
  }

  /** Which of these key ids still exist. */
  async existing(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.selectFrom('api_keys').select('id').where('id', 'in', ids).execute();
    return new Set(rows.map((r) => r.id));
  }

  async hasAdminKey(): Promise<boolean> {
    const r = await this.db.selectFrom('api_keys').select('id').where('is_admin', '=', 1).executeTakeFirst();
    return r !== undefined;
  }

  list(): Promise<ApiKeyRow[]> {
    return this.db.selectFrom('api_keys').selectAll().orderBy('created_at').execute();
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('api_keys').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
