import type { Kysely } from 'kysely';
import { channelIdentities, defaultIdentityRules, type IdentityRules } from '../../adapters/shared/identity.js';
import { gmailIdentity } from '../../adapters/gmail/identity.js';
import { metaCloudIdentity } from '../../adapters/meta_cloud/identity.js';
import { resendIdentity } from '../../adapters/resend/identity.js';
import { retellIdentity } from '../../adapters/retell/identity.js';
import { telegramIdentity } from '../../adapters/telegram/identity.js';
import { twilioIdentity } from '../../adapters/twilio/identity.js';
import { webIdentity } from '../../adapters/web/identity.js';

// The providers that existed when this migration was written (later ones have no old rows).
const RULES: Record<string, IdentityRules> = {
  telegram: telegramIdentity, meta_cloud: metaCloudIdentity, twilio: twilioIdentity, resend: resendIdentity,
  gmail: gmailIdentity, retell: retellIdentity, web: webIdentity,
};

/**
 * Every value that names a channel to its provider (the external identifier and routing config
 * keys such as phone_number_id, agent_id, a routed address), canonical, unique per provider: one
 * number, bot, agent or address can belong to one channel only. Existing channels are filled in;
 * where two already claimed one identity, the older keeps it (the other stops receiving
 * account-routed events for it and shows up on its next PATCH as a 409).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('channel_identities')
    .addColumn('provider', 'varchar(50)', (c) => c.notNull())
    .addColumn('identity', 'varchar(600)', (c) => c.notNull())
    .addColumn('channel_id', 'varchar(36)', (c) => c.notNull().references('channels.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('channel_identities_pk', ['provider', 'identity'])
    .execute();
  await db.schema.createIndex('channel_identities_channel').on('channel_identities').columns(['channel_id']).execute();

  const rows = (await db.selectFrom('channels').select(['id', 'provider', 'external_identifier', 'config']).orderBy('created_at').orderBy('id').execute()) as {
    id: string; provider: string; external_identifier: string; config: string;
  }[];
  for (const r of rows) {
    let config: Record<string, unknown> = {};
    try {
      config = JSON.parse(r.config) as Record<string, unknown>;
    } catch {
      config = {};
    }
    const rules = Object.prototype.hasOwnProperty.call(RULES, r.provider) ? RULES[r.provider] : defaultIdentityRules;
    for (const identity of channelIdentities(rules, r.external_identifier, config).identities) {
      await db.insertInto('channel_identities').values({ provider: r.provider.toLowerCase(), identity, channel_id: r.id }).onConflict((oc) => oc.doNothing()).execute();
    }
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('channel_identities').execute();
}
