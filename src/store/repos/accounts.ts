import type { Kysely } from 'kysely';
import type { AccountsTable, Database } from '../schema.js';

export type AccountRow = AccountsTable;
export type AccountKind = 'connection' | 'credential';

/** Connections (a customer's provider accounts) and credentials (the platform's) share one table. */
export class AccountsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: AccountRow): Promise<void> {
    await this.db.insertInto('accounts').values(row).execute();
  }

  get(id: string, kind?: AccountKind): Promise<AccountRow | undefined> {
    let q = this.db.selectFrom('accounts').selectAll().where('id', '=', id);
    if (kind) q = q.where('kind', '=', kind);
    return q.executeTakeFirst();
  }

  list(kind: AccountKind, instanceId?: string): Promise<AccountRow[]> {
    let q = this.db.selectFrom('accounts').selectAll().where('kind', '=', kind);
    if (instanceId) q = q.where('instance_id', '=', instanceId);
    return q.orderBy('created_at').orderBy('id').execute();
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('accounts').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async inUse(id: string): Promise<boolean> {
    const r = await this.db
      .selectFrom('channels')
      .select('id')
      .where((eb) => eb.or([eb('connection_id', '=', id), eb('credential_id', '=', id)]))
      .executeTakeFirst();
    return r !== undefined;
  }
}
