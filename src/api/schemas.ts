/** Request models and response schemas shared by the routes; one definition feeds docs and checks. */
import { CHANNEL_TYPES } from '../core/channel-types.js';
import { agentConfigBody, agentConfigResponse } from './agent-config-schema.js';
import { transcriptionBody, transcriptionResponse } from './transcription-schema.js';
import { bool, dict, httpUrl, int, list, literal, model, nullable, record, str, uuid, type Field } from './validation/fields.js';

/**
 * An http(s) URL, `builtin:echo` (the built-in demo agent that answers in-process), or
 * `openai+https://host/v1` (a model behind a Chat Completions API, set up by `agent_config`).
 */
function agentUrl(): Field<string> {
  const url = httpUrl({ description: "Where events are POSTed (Standard Webhooks signed), 'builtin:echo', or 'openai+https://host/v1' (an OpenAI-compatible model, see agent_config)." });
  return {
    schema: url.schema,
    parse(v, loc, issues) {
      if (v === 'builtin:echo') return v;
      if (typeof v === 'string' && v.startsWith('openai+')) {
        const r = url.parse(v.slice('openai+'.length), loc, issues);
        return typeof r === 'string' ? v : r;
      }
      return url.parse(v, loc, issues);
    },
  };
}

const ts = { type: 'string', format: 'date-time' };
const nullableTs = { type: ['string', 'null'], format: 'date-time' };
const nullableUuid = { type: ['string', 'null'], format: 'uuid' };

export const instancePath = model({ instance_id: { field: uuid({ title: 'Instance Id' }), required: true } });
export const channelPath = model({
  instance_id: { field: uuid({ title: 'Instance Id' }), required: true },
  endpoint_id: { field: uuid({ title: 'Endpoint Id' }), required: true },
});
export const idPath = model({ id: { field: uuid({ title: 'Id' }), required: true } });
export const connectionPath = model({
  instance_id: { field: uuid({ title: 'Instance Id' }), required: true },
  connection_id: { field: uuid({ title: 'Connection Id' }), required: true },
});

export const channelCreateBody = model(
  {
    channel_type: { field: literal(CHANNEL_TYPES, { title: 'Channel Type' }), required: true },
    config: { field: dict({ title: 'Config', description: 'Channel-specific config (streaming mode, processing rules, etc.)' }), default: () => ({}) },
    connection_id: { field: nullable(uuid({ title: 'Connection Id', description: 'FK to customer_connections for customer-owned channels' })) },
    credential_id: { field: nullable(uuid({ title: 'Credential Id', description: 'FK to mcp_credentials for platform-provisioned channels' })) },
    enabled: { field: bool({ default: true }), default: () => true },
    external_identifier: { field: str({ maxLength: 255, title: 'External Identifier', description: 'Phone number, bot username, email address, etc.' }), required: true },
    provider: { field: str({ maxLength: 50, title: 'Provider', description: 'telegram|meta_cloud|retell|twilio|gmail|resend|etc.' }), required: true },
    webhook_secret: { field: nullable(str({ maxLength: 256, title: 'Webhook Secret' })) },
  },
  { title: 'ChannelEndpointCreate' },
);

export const channelUpdateBody = model(
  {
    config: { field: nullable(dict({ title: 'Config' })) },
    enabled: { field: nullable(bool()) },
    error_message: { field: nullable(str({ maxLength: 2000, title: 'Error Message' })) },
    external_identifier: { field: nullable(str({ maxLength: 255, title: 'External Identifier' })) },
    provider: { field: nullable(str({ maxLength: 50, title: 'Provider' })) },
    status: { field: nullable(str({ maxLength: 50, title: 'Status' })) },
    webhook_secret: { field: nullable(str({ maxLength: 256, title: 'Webhook Secret' })) },
  },
  { title: 'ChannelEndpointUpdate' },
);

export const channelResponse = {
  type: 'object',
  title: 'ChannelEndpointResponse',
  properties: {
    channel_type: { type: 'string' },
    config: { type: 'object', additionalProperties: true },
    connection_id: nullableUuid,
    created_at: ts,
    enabled: { type: 'boolean' },
    error_message: { type: ['string', 'null'] },
    external_identifier: { type: 'string' },
    id: { type: 'string', format: 'uuid' },
    instance_id: { type: 'string', format: 'uuid' },
    last_event_at: nullableTs,
    provider: { type: 'string' },
    status: { type: 'string' },
    updated_at: ts,
    webhook_url: { type: 'string', description: 'The URL to give the provider for this channel (Switchboard extension).' },
  },
  required: ['channel_type', 'config', 'connection_id', 'created_at', 'enabled', 'error_message', 'external_identifier', 'id', 'instance_id', 'last_event_at', 'provider', 'status', 'updated_at'],
};

export const channelListResponse = {
  type: 'object',
  title: 'ChannelEndpointListResponse',
  properties: { channels: { type: 'array', items: channelResponse }, count: { type: 'integer' } },
  required: ['channels', 'count'],
};

/** Per-instance agent time limits (docs/delivery.md); null = the default. */
const agentTimeouts = {
  agent_first_byte_timeout_ms: { field: nullable(int({ ge: 1000, le: 900_000, description: 'How long the agent may take to start answering (response headers), in ms. Default 120000.' })) },
  agent_idle_timeout_ms: { field: nullable(int({ ge: 1000, le: 900_000, description: 'The longest silence allowed inside an answer being received, in ms. Default 60000.' })) },
};
/** Per-instance handoff settings (conversations in human mode; see docs/api.md). */
const handoffSettings = model(
  {
    operator_takeover: { field: bool({ description: 'An operator message in agent mode hands the conversation to humans (default true).' }) },
    idle_resume_seconds: { field: int({ ge: 0, le: 30 * 86400, description: 'A human conversation with no message for this long goes back to the agent; 0 = never (default 1800).' }) },
  },
  { title: 'HandoffSettings' },
);

export const instanceCreateBody = model(
  {
    name: { field: str({ minLength: 1, maxLength: 200, title: 'Name' }), required: true },
    agent_url: { field: nullable(agentUrl()) },
    agent_config: { field: nullable(agentConfigBody) },
    transcription: { field: nullable(transcriptionBody) },
    ...agentTimeouts,
    handoff: { field: handoffSettings },
  },
  { title: 'InstanceCreate' },
);
export const instanceUpdateBody = model(
  {
    name: { field: str({ minLength: 1, maxLength: 200, title: 'Name' }) },
    agent_url: { field: nullable(agentUrl()) },
    agent_config: { field: nullable(agentConfigBody) },
    transcription: { field: nullable(transcriptionBody) },
    ...agentTimeouts,
    handoff: { field: handoffSettings },
  },
  { title: 'InstanceUpdate' },
);

const instanceProps = {
  id: { type: 'string', format: 'uuid' },
  name: { type: 'string' },
  agent_url: { type: ['string', 'null'] },
  agent_config: agentConfigResponse,
  transcription: transcriptionResponse,
  agent_first_byte_timeout_ms: { type: 'integer', description: 'In effect (the default unless set).' },
  agent_idle_timeout_ms: { type: 'integer', description: 'In effect (the default unless set).' },
  handoff: {
    type: 'object',
    properties: { operator_takeover: { type: 'boolean' }, idle_resume_seconds: { type: 'integer' } },
    required: ['operator_takeover', 'idle_resume_seconds'],
  },
  created_at: ts,
  updated_at: ts,
};
export const instanceResponse = { type: 'object', title: 'InstanceResponse', properties: instanceProps, required: Object.keys(instanceProps) };
export const instanceCreatedResponse = {
  type: 'object',
  title: 'InstanceCreated',
  properties: { ...instanceProps, signing_secret: { type: 'string', description: 'Standard Webhooks secret for verifying deliveries; shown only now.' } },
  required: [...Object.keys(instanceProps), 'signing_secret'],
};
export const instanceListResponse = { type: 'object', properties: { instances: { type: 'array', items: instanceResponse }, count: { type: 'integer' } }, required: ['instances', 'count'] };
export const signingSecretResponse = { type: 'object', properties: { signing_secret: { type: 'string' } }, required: ['signing_secret'] };

export const apiKeyCreateBody = model(
  {
    name: { field: str({ minLength: 1, maxLength: 200 }), required: true },
    instance_ids: { field: list(uuid()), required: true },
  },
  { title: 'ApiKeyCreate' },
);
const apiKeyProps = { id: { type: 'string', format: 'uuid' }, name: { type: 'string' }, instance_ids: { type: 'array', items: { type: 'string' } }, created_at: ts };
export const apiKeyResponse = { type: 'object', properties: apiKeyProps, required: Object.keys(apiKeyProps) };
export const apiKeyCreatedResponse = { type: 'object', properties: { ...apiKeyProps, key: { type: 'string', description: 'The key itself; shown only now.' } }, required: [...Object.keys(apiKeyProps), 'key'] };
export const apiKeyListResponse = { type: 'object', properties: { api_keys: { type: 'array', items: apiKeyResponse }, count: { type: 'integer' } } };

export const accountCreateBody = model(
  {
    provider: { field: str({ minLength: 1, maxLength: 50 }), required: true },
    name: { field: nullable(str({ maxLength: 200 })) },
    secrets: { field: record(str({ maxLength: 8192 }), { description: 'Provider secrets (bot_token, auth_token, api_key...). Write-only.' }), default: () => ({}) },
    settings: { field: dict({ description: 'Non-secret settings, e.g. api_base_url.' }), default: () => ({}) },
  },
  { title: 'AccountCreate' },
);
const accountProps = {
  id: { type: 'string', format: 'uuid' },
  instance_id: { type: 'string', format: 'uuid' },
  provider: { type: 'string' },
  name: { type: ['string', 'null'] },
  secret_names: { type: 'array', items: { type: 'string' } },
  settings: { type: 'object', additionalProperties: true },
  created_at: ts,
  updated_at: ts,
  webhook_url: { type: 'string' },
};
export const accountResponse = { type: 'object', properties: accountProps, required: ['id', 'provider', 'name', 'secret_names', 'settings', 'created_at', 'updated_at'] };
export const accountListResponse = (key: string) => ({ type: 'object', properties: { [key]: { type: 'array', items: accountResponse }, count: { type: 'integer' } } });
