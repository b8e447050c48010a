/**
 * The one normalised event model every provider's inbound payload is turned into.
 *
 * Adapters produce `InboundEvent`s (a tagged union on `kind`); the inbox stores them and the
 * delivery worker sends them to the agent. Every variant keeps the provider's `raw` payload
 * fragment so nothing a provider says is lost, and anything an adapter does not understand
 * becomes `unsupported` instead of being dropped.
 */

/** Who sent or received something, in the provider's own terms. */
export interface Party {
  /** Provider-stable id: Telegram user id, WhatsApp wa_id, E.164 number, email address. */
  id: string;
  name?: string;
  username?: string;
  phone?: string;
  email?: string;
}

export type MediaKind = 'image' | 'audio' | 'voice' | 'video' | 'document' | 'sticker' | 'animation' | 'file';

/** A reference to media held by the provider; fetched lazily through the provider's API. */
export interface MediaRef {
  kind: MediaKind;
  /** Telegram file_id, WhatsApp media id, Resend attachment id... */
  providerFileId?: string;
  /** Direct URL where the provider gives one (Twilio MediaUrlN). */
  url?: string;
  /**
   * A file Switchboard already holds (a web chat visitor's upload, by media id): bound to the
   * message as it is, nothing to capture.
   */
  uploadId?: string;
  mimeType?: string;
  fileName?: string;
  size?: number;
  sha256?: string;
  caption?: string;
}

export interface Location {
  latitude: number;
  longitude: number;
  name?: string;
  address?: string;
}

export interface Contact {
  name: string;
  phones: string[];
  emails: string[];
}

export interface EmailFields {
  subject: string;
  from: string;
  to: string[];
  cc: string[];
  text?: string;
  html?: string;
  /** RFC 5322 Message-ID of this email, angle brackets kept. */
  messageId?: string;
  inReplyTo?: string;
  references: string[];
  /** Provider thread id where it has one (Gmail threadId). */
  threadId?: string;
  attachments: { fileName: string; contentType?: string; size?: number; providerFileId?: string }[];
}

interface EventBase {
  /**
   * The provider's own id for this event: Telegram `update_id`, WhatsApp `wamid` (or wamid+status
   * for statuses), Twilio `MessageSid` (+status), svix-id, Retell call id + event, Gmail message id.
   * Unique per channel; a retry of the same event carries the same id and becomes a no-op.
   */
  providerEventId: string;
  /** ISO-8601 time the provider says the event happened (falls back to receipt time). */
  occurredAt: string;
  /**
   * The person/thread this event belongs to, unique within the channel: Telegram chat id,
   * WhatsApp wa_id, the remote phone number, the email thread root, the call id.
   */
  conversationKey?: string;
  /**
   * Keys the same person had before on this channel (WhatsApp: the wa_id a BSUID now stands for,
   * or the previous BSUID after a `user_id_update`): a conversation under one of them moves to
   * `conversationKey`, so the person keeps one conversation.
   */
  previousConversationKeys?: string[];
  /**
   * The channel identity the event was addressed to (`metadata.phone_number_id`, recipient email,
   * Gmail `emailAddress`, Retell `agent_id`/`to_number`), used to route per-connection webhooks.
   */
  channelIdentity?: string;
  /** The provider's payload fragment for this event, verbatim. */
  raw: unknown;
}

export interface MessageEvent extends EventBase {
  kind: 'message';
  conversationKey: string;
  providerMessageId: string;
  from: Party;
  to?: Party;
  text?: string;
  media?: MediaRef[];
  location?: Location;
  contacts?: Contact[];
  /** A button/list/callback answer: the id the agent set and the title the person saw. */
  interactive?: { id: string; title?: string };
  reaction?: { emoji: string; targetProviderMessageId: string };
  /** The provider message id this one replies to. */
  replyToProviderMessageId?: string;
  edited?: boolean;
  email?: EmailFields;
}

export type DeliveryStatus = 'queued' | 'sent' | 'delivered' | 'read' | 'failed';

export interface StatusEvent extends EventBase {
  kind: 'status';
  /** The provider id of the outbound message whose status changed. */
  providerMessageId: string;
  status: DeliveryStatus;
  /** The provider's own status word (`undelivered`, `bounced`...) when it maps loosely. */
  providerStatus: string;
  error?: { code?: string; message?: string };
  /** Email: the Message-ID the provider gave the sent email (the thread root replies will name). */
  emailMessageId?: string;
}

export type CallPhase = 'started' | 'ended' | 'analyzed';

export interface CallEvent extends EventBase {
  kind: 'call';
  conversationKey: string;
  callId: string;
  phase: CallPhase;
  from?: Party;
  to?: Party;
  direction?: 'inbound' | 'outbound';
  transcript?: { role: string; content: string }[];
  summary?: string;
  sentiment?: string;
  durationMs?: number;
  disconnectionReason?: string;
  /** The call's recording where the provider offers one (Retell `recording_url`): captured as an audio item. */
  media?: MediaRef[];
}

export interface UnsupportedEvent extends EventBase {
  kind: 'unsupported';
  /** What the payload was, in the provider's words (`edited_channel_post`, `email.opened`...). */
  providerType: string;
}

export type InboundEvent = MessageEvent | StatusEvent | CallEvent | UnsupportedEvent;

/** The agent-facing event type name for an inbound event. */
export function eventTypeOf(e: InboundEvent): string {
  switch (e.kind) {
    case 'message':
      return 'message.received';
    case 'status':
      return 'message.status';
    case 'call':
      return `call.${e.phase}`;
    case 'unsupported':
      return 'event.unsupported';
  }
}
