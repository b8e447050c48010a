/**
 * The one place a message row is put together, for every writer: the inbox (a person's message),
 * the outbound service (an answer queued, suppressed or failed) and voice (a spoken answer). JSON
 * columns are encoded here; what a caller leaves out is null.
 *
 * @example
 *   await repos.inbox.insertMessage(trx, messageRow({ id, instanceId, channelId, conversationId,
 *     direction: 'out', status: 'queued', author: { kind: 'agent' }, text, content: input, at: now }));
 */
import type { NewMessageRow } from '../store/repos/inbox.js';

export interface MessageRowInput {
  id: string;
  instanceId: string;
  channelId: string;
  conversationId: string;
  direction: 'in' | 'out';
  status: string;
  /** Who wrote it (stored as JSON): the contact, the agent, an operator. */
  author: object;
  text: string | null;
  /** The normalised content (stored as JSON). */
  content: object;
  /** created_at; updated_at too unless `updatedAt` is given. */
  at: string;
  updatedAt?: string;
  providerMessageId?: string | null;
  inReplyTo?: string | null;
  idempotencyKey?: string | null;
  /** `{code, message}` (stored as JSON) for a message that failed. */
  error?: object | null;
  statusReason?: string | null;
  sentAt?: string | null;
}

export function messageRow(m: MessageRowInput): NewMessageRow {
  return {
    id: m.id,
    instance_id: m.instanceId,
    channel_id: m.channelId,
    conversation_id: m.conversationId,
    direction: m.direction,
    provider_message_id: m.providerMessageId ?? null,
    status: m.status,
    status_reason: m.statusReason ?? null,
    author: JSON.stringify(m.author),
    in_reply_to: m.inReplyTo ?? null,
    text: m.text,
    content: JSON.stringify(m.content),
    error: m.error ? JSON.stringify(m.error) : null,
    idempotency_key: m.idempotencyKey ?? null,
    sent_at: m.sentAt ?? null,
    created_at: m.at,
    updated_at: m.updatedAt ?? m.at,
  };
}
