/**
 * The event envelope as OpenAPI documents it (events API, SSE stream, agent webhooks). The SDK's
 * types (packages/agent/src/types.ts) are checked against it by test/agent-sdk/openapi.test.ts.
 * `additionalProperties` stays open: the serialiser must never drop a field an event carries.
 */
const nullableStr = { type: ['string', 'null'] };

export const eventEnvelopeSchema = {
  type: 'object',
  title: 'EventEnvelope',
  additionalProperties: true,
  required: ['id', 'type', 'instance_id', 'channel_id', 'conversation_id', 'cursor', 'created_at', 'channel', 'data'],
  properties: {
    id: { type: 'string', description: 'The event id; also the webhook-id of every delivery attempt.' },
    type: { type: 'string', description: 'message.received, message.status, call.*, channel.*, conversation.*, event.unsupported' },
    instance_id: { type: 'string' },
    channel_id: nullableStr,
    conversation_id: nullableStr,
    cursor: { type: 'string', description: 'Position in the instance event stream (pass as `after`).' },
    created_at: { type: 'string', format: 'date-time' },
    channel: {
      type: ['object', 'null'],
      additionalProperties: true,
      properties: { type: { type: 'string' }, provider: { type: 'string' }, external_identifier: { type: 'string' } },
    },
    conversation: {
      type: 'object',
      additionalProperties: true,
      description: "The conversation's state when the event was made.",
      properties: { id: { type: 'string' }, status: { type: 'string', enum: ['open', 'closed'] }, mode: { type: 'string', enum: ['agent', 'human'] } },
    },
    data: { type: 'object', additionalProperties: true, description: 'The normalised event; `raw` inside it is the provider payload.' },
  },
} as const;
