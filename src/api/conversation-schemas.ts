/** Response schemas of conversations and history messages (they also serialise: unknown fields drop). */
const ts = { type: 'string', format: 'date-time' };
const nullableTs = { type: ['string', 'null'], format: 'date-time' };
const nullableStr = { type: ['string', 'null'] };

export const conversationSchema = {
  type: 'object',
  title: 'Conversation',
  properties: {
    id: { type: 'string', format: 'uuid' },
    instance_id: { type: 'string', format: 'uuid' },
    channel_id: { type: 'string', format: 'uuid' },
    status: { type: 'string', enum: ['open', 'closed'] },
    mode: { type: 'string', enum: ['agent', 'human'], description: 'Who answers: the agent, or humans (the agent still gets the events; its replies are stored as suppressed).' },
    assignee: { ...nullableStr, description: 'The operator the conversation is handed to, if any.' },
    contact: {
      type: 'object',
      description: 'The person on the other side, as the provider names them.',
      properties: { id: { type: 'string' }, name: nullableStr, username: { type: 'string' }, phone: { type: 'string' }, email: { type: 'string' } },
      required: ['id', 'name'],
      additionalProperties: true,
    },
    key: { type: 'string', description: 'The person/thread within the channel (Telegram chat id, WhatsApp wa_id, phone number, email thread root, call id).' },
    mode_reason: { ...nullableStr, description: 'Why the mode last changed (the handoff reason, operator_message, idle).' },
    created_at: ts,
    updated_at: ts,
    last_message_at: nullableTs,
    closed_at: nullableTs,
  },
  required: ['id', 'instance_id', 'channel_id', 'status', 'mode', 'assignee', 'contact', 'created_at', 'updated_at', 'last_message_at'],
};

export const conversationListSchema = {
  type: 'object',
  title: 'ConversationList',
  properties: {
    conversations: { type: 'array', items: conversationSchema },
    count: { type: 'integer' },
    next_cursor: { ...nullableStr, description: 'Pass as `cursor` for the next page; null on the last page.' },
  },
  required: ['conversations', 'count', 'next_cursor'],
};

/** A media item (filled by the media pipeline). */
export const mediaItemSchema = {
  type: 'object',
  title: 'MediaItem',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['image', 'audio', 'voice', 'video', 'document', 'sticker'] },
    mime_type: { type: 'string' },
    size: { type: 'integer' },
    sha256: { type: 'string' },
    file_name: { type: 'string' },
    caption: { type: 'string' },
    status: { type: 'string', enum: ['ready', 'failed', 'too_large'] },
    url: { type: 'string' },
    transcript: { type: 'string' },
  },
  additionalProperties: true,
};

export const authorSchema = {
  type: 'object',
  title: 'Author',
  properties: { kind: { type: 'string', enum: ['contact', 'agent', 'operator', 'system'] }, id: { type: 'string' }, name: { type: 'string' } },
  required: ['kind'],
};

export const historyMessageSchema = {
  type: 'object',
  title: 'Message',
  properties: {
    id: { type: 'string', format: 'uuid' },
    conversation_id: { type: 'string', format: 'uuid' },
    channel_id: { type: 'string', format: 'uuid' },
    direction: { type: 'string', enum: ['inbound', 'outbound'] },
    author: authorSchema,
    text: { ...nullableStr, description: 'Markdown for outbound messages; the text the person wrote for inbound ones.' },
    attachments: { type: 'array', items: mediaItemSchema },
    in_reply_to: { type: ['string', 'null'], format: 'uuid', description: 'The inbound message this one answers.' },
    status: { type: 'string', description: 'received (inbound); queued, sent, delivered, read, failed, suppressed (outbound).' },
    status_reason: { ...nullableStr, description: 'Why it failed, as a stable word (agent_timeout, whatsapp_window_closed...; see docs/delivery.md); error.message says it in words.' },
    provider_message_id: nullableStr,
    error: { description: 'The provider error, when it failed.' },
    content: { type: 'object', additionalProperties: true, description: 'The normalised message fields (snake_case; the provider payload is on the event, data.raw).' },
    created_at: { ...ts, description: 'When Switchboard accepted it: history sorts causally on it.' },
    sent_at: { ...nullableTs, description: 'When the provider (or the widget) took it.' },
    updated_at: ts,
  },
  required: ['id', 'conversation_id', 'direction', 'author', 'text', 'attachments', 'in_reply_to', 'status', 'created_at', 'sent_at'],
};

export const historySchema = {
  type: 'object',
  title: 'MessageHistory',
  properties: {
    messages: { type: 'array', items: historyMessageSchema },
    count: { type: 'integer' },
    has_more: { type: 'boolean', description: 'More messages exist beyond this window in the direction it was taken (older without `after`, newer with it).' },
  },
  required: ['messages', 'count', 'has_more'],
};

export const idempotencyHeaders = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      maxLength: 255,
      description: 'Makes the request safe to retry: the same key with the same parameters returns the first message (header `idempotent-replayed: true`) and sends nothing; the same key with different parameters answers 422.',
    },
  },
};
