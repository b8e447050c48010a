import type { Kysely } from 'kysely';
import type { ChannelsTable, Database } from '../schema.js';
import { isUniqueViolation } from '../errors.js';

export type ChannelRow = ChannelsTable;

/** Thrown when a channel write hits the unique identity index (same provider + identifier). */
export class DuplicateIdentity extends Error {}

export class ChannelsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Inserts the channel with its canonical identities, all or nothing. */
  async insert(row: ChannelRow, identities: string[] = []): Promise<void> {
    try {
      await this.db.transaction().execute(async (trx) => {
        await trx.insertInto('channels').values(row).execute();
        if (identities.length) await trx.insertInto('channel_identities').values(identityRows(row.provider, row.id, identities)).execute();
      });
    } catch (err) {
      if (isUniqueViolation(err, { primaryKey: true })) throw new DuplicateIdentity();
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

  /**
   * Updates the row; with `identities` (provider + canonical values) its identity set is replaced
   * in the same transaction, so a clash (409) changes nothing.
   */
  async update(id: string, patch: Partial<Omit<ChannelRow, 'id' | 'instance_id' | 'created_at'>>, identities?: { provider: string; values: string[] }): Promise<void> {
    try {
      if (!identities) {
        await this.db.updateTable('channels').set(patch).where('id', '=', id).execute();
        return;
      }
      await this.db.transaction().execute(async (trx) => {
        await trx.updateTable('channels').set(patch).where('id', '=', id).execute();
        await trx.deleteFrom('channel_identities').where('channel_id', '=', id).execute();
        if (identities.values.length) await trx.insertInto('channel_identities').values(identityRows(identities.provider, id, identities.values)).execute();
      });
    } catch (err) {
      if (isUniqueViolation(err, { primaryKey: true })) throw new DuplicateIdentity();
      throw err;
    }
  }

  async delete(id: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('channel_identities').where('channel_id', '=', id).execute();
      const r = await trx.deleteFrom('channels').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }
}

function identityRows(provider: string, channelId: string, identities: string[]) {
  return identities.map((identity) => ({ provider: provider.toLowerCase(), identity, channel_id: channelId }));
}
