/**
 * Table shapes as Kysely sees them. Portable column choices, on purpose:
 * - timestamps are ISO-8601 UTC text (sorts correctly, identical on SQLite and PostgreSQL);
 * - booleans are integers 0/1 (SQLite has no boolean type);
 * - JSON is text (parsed in the repositories), ciphertext is text (see crypto/secret-box.ts).
 */
import type { ColumnType, Generated } from 'kysely';

/** A nullable column that inserts may leave out (added by a later migration, defaulting to null). */
type OptionalNullable<T> = ColumnType<T | null, T | null | undefined, T | null>;
type OptionalText = OptionalNullable<string>;

export interface InstancesTable {
  id: string;
  name: string;
  agent_url: string | null;
  signing_secret_enc: string;
  /** Last event sequence number handed out for this instance (the events cursor). */
  event_seq: Generated<number | string>;
  /** JSON of a built-in bridge's settings (core/agent-config.ts), without its API key. */
  agent_config: OptionalText;
  /** The bridge's model API key, encrypted (AAD: instance:<id>:agent_api_key). */
  agent_api_key_enc: OptionalText;
  /** JSON of the voice-note transcription settings (media/transcription.ts), without its API key. */
  transcription: OptionalText;
  /** The transcription endpoint's API key, encrypted (AAD: instance:<id>:transcription_api_key). */
  transcription_api_key_enc: OptionalText;
  /** Agent time limits in ms; null = the defaults (core/delivery.ts). */
  agent_first_byte_timeout_ms?: number | null;
  agent_idle_timeout_ms?: number | null;
  /** JSON handoff settings (core/conversations.ts: operator_takeover, idle_resume_seconds). */
  handoff: Generated<string>;
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

/** One canonical identity of a channel (see adapters/shared/identity.ts); (provider, identity) is unique. */
export interface ChannelIdentitiesTable {
  provider: string;
  identity: string;
  channel_id: string;
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
  channel_identities: ChannelIdentitiesTable;
  switchboard_meta: MetaTable;
  conversations: ConversationsTable;
  events: EventsTable;
  messages: MessagesTable;
  jobs: JobsTable;
  rate_buckets: RateBucketsTable;
  media: MediaTable;
}


export interface ConversationsTable {
  id: string;
  instance_id: string;
  channel_id: string;
  /** The person/thread within the channel (chat id, wa_id, phone number, email thread root). */
  key: string;
  /** JSON Party of the other side, as last seen. */
  participant: string | null;
  /** JSON: per-conversation provider state (email thread headers, Telegram draft ids...). */
  state: string;
  /** Last inbound message time: WhatsApp's 24-hour customer-service window starts here. */
  last_inbound_at: string | null;
  created_at: string;
  updated_at: string;
  /** 'open' | 'closed'. */
  status: Generated<string>;
  /** 'agent' | 'human': who answers the person. */
  mode: Generated<string>;
  assignee: OptionalNullable<string>;
  /** Why the mode last changed (the handoff reason). */
  mode_reason: OptionalNullable<string>;
  mode_changed_at: OptionalNullable<string>;
  closed_at: OptionalNullable<string>;
  last_message_at: OptionalNullable<string>;
  /** The person/thread address for good; `key` becomes `closed\n<id>` once closed. Null = `key`. */
  thread_key: OptionalNullable<string>;
}

export interface EventsTable {
  id: string;
  instance_id: string;
  /** The cursor; null on PostgreSQL until the event sequencer numbers it (after its commit). */
  seq: number | string | null;
  channel_id: string | null;
  conversation_id: string | null;
  type: string;
  /** channel id + provider event id: a provider's retry hits this unique key and becomes a no-op. */
  dedupe_key: string;
  payload: string;
  created_at: string;
}

export interface MessagesTable {
  id: string;
  instance_id: string;
  channel_id: string;
  conversation_id: string;
  direction: string;
  provider_message_id: string | null;
  status: string;
  text: string | null;
  content: string;
  error: string | null;
  /** Why a message failed, as a stable word (agent_timeout, whatsapp_window_closed...); null otherwise. */
  status_reason?: string | null;
  idempotency_key: string | null;
  /** When Switchboard accepted it (so history order is causal). */
  created_at: string;
  updated_at: string;
  /** JSON {kind: contact|agent|operator|system, id?, name?}; null on rows older than authors. */
  author: OptionalNullable<string>;
  /** Our id of the inbound message this one answers. */
  in_reply_to: OptionalNullable<string>;
  /** When the provider accepted it (or the widget got it). */
  sent_at: OptionalNullable<string>;
}

export interface JobsTable {
  seq: Generated<number>;
  kind: string;
  instance_id: string;
  /** Jobs of one group run one at a time, in seq order (a conversation's deliveries and sends). */
  group_key: string;
  ref_id: string;
  status: string;
  attempts: number;
  next_attempt_at: string;
  locked_by: string | null;
  locked_until: string | null;
  last_error: string | null;
  payload: string;
  created_at: string;
  updated_at: string;
}

export interface RateBucketsTable {
  key: string;
  tokens: number;
  updated_ms: number | string;
}

export interface MediaTable {
  id: string;
  instance_id: string;
  channel_id: string | null;
  message_id: string | null;
  event_id: string | null;
  direction: string;
  position: number;
  kind: string;
  mime_type: string | null;
  size: number | string | null;
  sha256: string | null;
  file_name: string | null;
  caption: string | null;
  status: string;
  error: string | null;
  source: string;
  blob_key: string | null;
  transcript: string | null;
  created_at: string;
  updated_at: string;
}
