import type { Kysely } from 'kysely';

/**
 * Voice-note transcription of an instance (media/transcription.ts): `transcription` is the JSON of
 * its public settings ({url, model, language?}), `transcription_api_key_enc` the endpoint's API
 * key, encrypted like every other secret (crypto/secret-box.ts), bound to the instance row.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('instances').addColumn('transcription', 'text').execute();
  await db.schema.alterTable('instances').addColumn('transcription_api_key_enc', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('instances').dropColumn('transcription_api_key_enc').execute();
  await db.schema.alterTable('instances').dropColumn('transcription').execute();
}
