/**
 * Table shapes as Kysely sees them. Portable column choices, on purpose:
 * - timestamps are ISO-8601 UTC text (sorts correctly, identical on SQLite and PostgreSQL);
 * - booleans are integers 0/1 (SQLite has no boolean type);
 * - JSON is text (parsed in the repositories), ciphertext is text (see crypto/secret-box.ts).
 */
import type { Generated } from 'kysely';

export interface InstancesTable {
  id: string;
  name: string;
  agent_url: string | null;
  signing_secret_enc: string;
  created_at: string;
  updated_at: string;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  key_hash: string;
  is_admin: number;
  /** JSON array of instance ids the key may see; ignored for admin keys. */
  instance_ids: string;
  created_at: string;
}

export interface AccountsTable {
  id: string;
  /** 'connection' (a customer's own provider account, bound to an instance) or 'credential' (the platform's). */
  kind: string;
  instance_id: string | null;
  provider: string;
  name: string | null;
  secrets_enc: string;
  /** JSON array of the secret names present, so they can be listed without decrypting. */
  secret_names: string;
  settings: string;
  created_at: string;
  updated_at: string;
}

export interface ChannelsTable {
  id: string;
  instance_id: string;
  channel_type: string;
  provider: string;
  external_identifier: string;
  /** lower(provider) + '\n' + lower(external_identifier): unique, so one identity has one channel. */
  identity_key: string;
  config: string;
  connection_id: string | null;
  credential_id: string | null;
  webhook_secret_enc: string | null;
  /** Unguessable token in the webhook URL path segment for providers that sign nothing themselves. */
  enabled: number;
  status: string;
  error_message: string | null;
  last_event_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface Database {
  instances: InstancesTable;
  api_keys: ApiKeysTable;
  accounts: AccountsTable;
  channels: ChannelsTable;
  switchboard_meta: MetaTable;
}

// Generated is re-exported for later tables with database-assigned columns.
export type { Generated };
