import type { Kysely } from 'kysely';

/**
 * Settings of a built-in agent bridge (agent_url `openai+https://...`): `agent_config` is the JSON
 * of its public settings (model, system prompt...), `agent_api_key_enc` the model API key,
 * encrypted like every other secret (crypto/secret-box.ts), bound to the instance row.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('instances').addColumn('agent_config', 'text').execute();
  await db.schema.alterTable('instances').addColumn('agent_api_key_enc', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('instances').dropColumn('agent_api_key_enc').execute();
  await db.schema.alterTable('instances').dropColumn('agent_config').execute();
}
