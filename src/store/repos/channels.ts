import type { Kysely } from 'kysely';
import type { ChannelsTable, Database } from '../schema.js';
import { isUniqueViolation } from '../errors.js';

export type ChannelRow = ChannelsTable;

/** Thrown when a channel write hits the unique identity index (same provider + identifier). */
export class DuplicateIdentity extends Error {}

export class ChannelsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: ChannelRow): Promise<void> {
    try {
      await this.db.insertInto('channels').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new DuplicateIdentity();
      throw err;
    }
  }

  get(id: string): Promise<ChannelRow | undefined> {
    return this.db.selectFrom('channels').selectAll().where('id', '=', id).executeTakeFirst();
  }

  listByInstance(instanceId: string): Promise<ChannelRow[]> {
    return this.db.selectFrom('channels').selectAll().where('instance_id', '=', instanceId).orderBy('created_at').orderBy('id').execute();
  }

  /** Enabled channels of one provider, across instances (maintenance such as Gmail watch renewal). */
  listEnabledByProvider(provider: string): Promise<ChannelRow[]> {
    return this.db.selectFrom('channels').selectAll().where('provider', '=', provider).where('enabled', '=', 1).execute();
  }

  /** Channels served by one connection or credential (per-account webhook routing). */
  listByAccount(accountId: string): Promise<ChannelRow[]> {
    return this.db
      .selectFrom('channels')
      .selectAll()
      .where((eb) => eb.or([eb('connection_id', '=', accountId), eb('credential_id', '=', accountId)]))
      .execute();
  }

  byIdentity(identityKey: string): Promise<ChannelRow | undefined> {
    return this.db.selectFrom('channels').selectAll().where('identity_key', '=', identityKey).executeTakeFirst();
  }

  async update(id: string, patch: Partial<Omit<ChannelRow, 'id' | 'instance_id' | 'created_at'>>): Promise<void> {
    try {
      await this.db.updateTable('channels').set(patch).where('id', '=', id).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new DuplicateIdentity();
      throw err;
    }
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('channels').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
