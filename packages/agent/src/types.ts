/**
 * The shapes Switchboard sends and returns, as an agent sees them. `test/openapi.test.ts` checks
 * the key lists below against the server's OpenAPI document, so a renamed field fails the build
 * instead of an agent in production.
 */

/** Where a conversation stands: open or closed, answered by the agent or by a person. */
export interface ConversationRef {
  id: string;
  status: 'open' | 'closed';
  mode: 'agent' | 'human';
}

export interface ChannelRef {
  type: 'telegram' | 'whatsapp' | 'voice' | 'sms' | 'email' | 'web_chat' | (string & {});
  provider: string;
  external_identifier: string;
}

/** A person or account on the other side. */
export interface Party {
  id?: string;
  name?: string;
  [key: string]: unknown;
}

/** A stored attachment (image, voice note, document...), downloadable through its signed `url`. */
export interface MediaItem {
  id: string;
  kind: 'image' | 'audio' | 'voice' | 'video' | 'document' | 'sticker';
  mime_type: string;
  size: number;
  sha256: string;
  file_name?: string;
  caption?: string;
  status: 'ready' | 'failed' | 'too_large';
  url: string;
  transcript?: string;
}

export interface MessageReceivedData {
  kind: 'message';
  message_id: string;
  from?: Party;
  text?: string;
  attachments?: MediaItem[];
  /** Several quick messages delivered as one turn (channel `config.turns: burst`). */
  messages?: MessageReceivedData[];
  raw?: unknown;
  [key: string]: unknown;
}

export interface MessageStatusData {
  kind: 'status';
  message_id: string;
  status: 'queued' | 'sent' | 'delivered' | 'read' | 'failed' | 'suppressed' | (string & {});
  [key: string]: unknown;
}

interface EnvelopeBase<T extends string, D> {
  id: string;
  type: T;
  instance_id: string;
  channel_id: string | null;
  conversation_id: string | null;
  /** Position in the instance's event stream (pass as `after` to read what follows). */
  cursor: string;
  created_at: string;
  channel: ChannelRef | null;
  /** The conversation's state when the event was made (absent on events without one). */
  conversation?: ConversationRef;
  data: D;
}

export type MessageReceivedEvent = EnvelopeBase<'message.received', MessageReceivedData>;
export type MessageStatusEvent = EnvelopeBase<'message.status', MessageStatusData>;
/** Every other event type (calls, channel health, conversation lifecycle, unsupported...). */
export type OtherEvent = EnvelopeBase<
  | 'call.started' | 'call.ended' | 'call.analyzed' | 'channel.error' | 'channel.recovered' | 'event.unsupported'
  | 'conversation.opened' | 'conversation.closed' | 'conversation.handoff' | 'conversation.resumed',
  Record<string, unknown>
>;

/** What Switchboard POSTs to an agent_url (and returns from the events API and stream). */
export type EventEnvelope = MessageReceivedEvent | MessageStatusEvent | OtherEvent;

/** A conversation as the conversations API returns it. */
export interface Conversation {
  id: string;
  instance_id: string;
  channel_id: string;
  status: 'open' | 'closed';
  mode: 'agent' | 'human';
  assignee: string | null;
  contact: Party | null;
  created_at: string;
  updated_at: string;
  last_message_at: string | null;
}

export interface Author {
  kind: 'contact' | 'agent' | 'operator' | 'system';
  id?: string;
  name?: string;
}

/** One message of a conversation's history. */
export interface HistoryMessage {
  id: string;
  conversation_id: string;
  direction: 'inbound' | 'outbound';
  author: Author;
  text: string | null;
  attachments: MediaItem[];
  in_reply_to: string | null;
  status: string;
  status_reason?: string | null;
  created_at: string;
  sent_at: string | null;
}

/** A message accepted for sending (202). */
export interface SentMessage {
  id: string;
  conversation_id: string;
  status: string;
  text: string | null;
  [key: string]: unknown;
}

type Keys<T> = readonly (keyof T)[];
/** Checked at compile time to name every key of the type, and at test time against OpenAPI. */
export const ENVELOPE_KEYS = ['id', 'type', 'instance_id', 'channel_id', 'conversation_id', 'cursor', 'created_at', 'channel', 'conversation', 'data'] as const satisfies Keys<EnvelopeBase<string, unknown>>;
export const CONVERSATION_KEYS = ['id', 'instance_id', 'channel_id', 'status', 'mode', 'assignee', 'contact', 'created_at', 'updated_at', 'last_message_at'] as const satisfies Keys<Conversation>;
export const HISTORY_MESSAGE_KEYS = ['id', 'conversation_id', 'direction', 'author', 'text', 'attachments', 'in_reply_to', 'status', 'status_reason', 'created_at', 'sent_at'] as const satisfies Keys<HistoryMessage>;

// The other direction: a key added to a type but not to its list is a compile error.
type Missing<T, L extends readonly unknown[]> = Exclude<keyof T, L[number]>;
const complete: [Missing<EnvelopeBase<string, unknown>, typeof ENVELOPE_KEYS>, Missing<Conversation, typeof CONVERSATION_KEYS>, Missing<HistoryMessage, typeof HISTORY_MESSAGE_KEYS>] extends [never, never, never] ? true : false = true;
void complete;
