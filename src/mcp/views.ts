/**
 * The shapes MCP tools return: the same public JSON as the REST API (conversation, history
 * message, media item), so an MCP agent and an HTTP agent read identical objects.
 */
import { threadKeyOf, type ConversationRow, type MessageRow } from '../store/repos/inbox.js';

type Row = Record<string, unknown>;

function json(v: unknown): unknown {
  if (typeof v !== 'string' || !v) return null;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return null;
  }
}

export function conversationView(c: ConversationRow): Record<string, unknown> {
  const r = c as unknown as Row;
  const participant = (json(c.participant) ?? {}) as Record<string, unknown>;
  return {
    id: c.id,
    instance_id: c.instance_id,
    channel_id: c.channel_id,
    status: typeof r.status === 'string' ? r.status : 'open',
    mode: typeof r.mode === 'string' ? r.mode : 'agent',
    assignee: typeof r.assignee === 'string' ? r.assignee : null,
    contact: { ...participant, id: typeof participant.id === 'string' ? participant.id : threadKeyOf(c), name: typeof participant.name === 'string' ? participant.name : null },
    created_at: c.created_at,
    updated_at: c.updated_at,
    last_message_at: (typeof r.last_message_at === 'string' ? r.last_message_at : null) ?? c.last_inbound_at,
  };
}

export function messageView(m: MessageRow, attachments: unknown[] = []): Record<string, unknown> {
  const r = m as unknown as Row;
  const author = json(r.author) ?? (m.direction === 'in' ? { kind: 'contact', ...fromOf(m) } : { kind: 'agent' });
  const error = json(m.error) as { message?: unknown } | null;
  return {
    id: m.id,
    conversation_id: m.conversation_id,
    channel_id: m.channel_id,
    direction: m.direction === 'in' ? 'inbound' : 'outbound',
    author,
    text: m.text,
    attachments,
    in_reply_to: typeof r.in_reply_to === 'string' ? r.in_reply_to : null,
    status: m.status,
    status_reason: error && typeof error.message === 'string' ? error.message : null,
    created_at: m.created_at,
    sent_at: typeof r.sent_at === 'string' ? r.sent_at : null,
  };
}

function fromOf(m: MessageRow): Record<string, unknown> {
  const from = (json(m.content) as { from?: { id?: unknown; name?: unknown } } | null)?.from;
  return { ...(typeof from?.id === 'string' ? { id: from.id } : {}), ...(typeof from?.name === 'string' ? { name: from.name } : {}) };
}
