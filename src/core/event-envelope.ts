/**
 * The JSON an agent receives for each event (by webhook, by the events API and by SSE — the same
 * bytes everywhere). `data` is the normalised event, snake_case (core/public-naming.ts); `raw` inside it is the provider's own payload.
 */
import type { InboundEvent } from './events.js';
import { toPublic } from './public-naming.js';

export interface EventEnvelope {
  id: string;
  type: string;
  instance_id: string;
  channel_id: string | null;
  conversation_id: string | null;
  /** The conversation's status and mode when the event was recorded (null when it has none). */
  conversation: { id: string; status: string; mode: string } | null;
  /** Position in the instance's event stream: pass it as `after` to read what follows. */
  cursor: string;
  created_at: string;
  channel: { type: string; provider: string; external_identifier: string } | null;
  data: Record<string, unknown>;
}

/**
 * The one place an envelope is put together, for provider events and Switchboard's own alike.
 * `cursor` is '' while unknown (PostgreSQL: the sequencer writes it in after the commit).
 */
export function envelopeFor(
  channel: { id: string; instance_id: string; channel_type: string; provider: string; external_identifier: string },
  e: { id: string; type: string; conversation: EventEnvelope['conversation']; data: Record<string, unknown>; createdAt: string; cursor?: string; /** When it differs from `conversation` (an id whose state could not be read). */ conversationId?: string | null },
): EventEnvelope {
  return {
    id: e.id,
    type: e.type,
    instance_id: channel.instance_id,
    channel_id: channel.id,
    conversation_id: e.conversationId !== undefined ? e.conversationId : (e.conversation?.id ?? null),
    conversation: e.conversation,
    cursor: e.cursor ?? '',
    created_at: e.createdAt,
    channel: { type: channel.channel_type, provider: channel.provider, external_identifier: channel.external_identifier },
    data: e.data,
  };
}

/** The normalised event as the agent sees it, with our message id when a message was stored. */
export function eventData(e: InboundEvent, messageId?: string): Record<string, unknown> {
  const { kind, ...rest } = e;
  return { kind, ...(messageId ? { message_id: messageId } : {}), ...toPublic(rest) };
}

/** What an inbound message row keeps: the normalised event without the provider's raw payload. */
export function messageContent(e: InboundEvent): Record<string, unknown> {
  const { kind, raw: _raw, ...rest } = e as InboundEvent & { raw?: unknown };
  return { kind, ...toPublic(rest) };
}

/**
 * On PostgreSQL an event is stored before it has a cursor (the sequencer numbers it after its
 * commit), with this placeholder as the first bytes of its payload; the sequencer replaces it
 * with `{"cursor":"<n>",`. A fixed prefix, so the replacement can never touch the event's data.
 */
export const UNSEQUENCED_PREFIX = '{"cursor":null,';

/** The stored payload of an envelope whose cursor is not known yet. */
export function unsequencedPayload(envelope: Omit<EventEnvelope, 'cursor'>): string {
  const { cursor: _cursor, ...rest } = envelope as EventEnvelope;
  return UNSEQUENCED_PREFIX + JSON.stringify(rest).slice(1);
}
