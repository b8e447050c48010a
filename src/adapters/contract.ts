/**
 * The provider contract: one `ProviderAdapter` per provider holds every fact and behaviour
 * Switchboard knows about it. Core reads these fields and never asks "which provider is this?".
 * Adapters are framework-free: they take the raw request (method, url, headers, body bytes),
 * get everything about the tenant in a context built per call (no shared client holds a
 * tenant's token), and return typed results. This file imports nothing from core, api or store.
 *
 * Example (a minimal SMS provider, see docs/providers.md for the steps):
 *   export const acme: ProviderAdapter = {
 *     name: 'acme', displayName: 'Acme SMS', channelTypes: ['sms'],
 *     secrets: { required: ['api_key'], optional: [], verify: 'api_key' },
 *     api: { defaultBaseUrl: 'https://api.acme.test', env: 'SWITCHBOARD_ACME_API_URL' },
 *     capabilities: { ...NO_EXTRAS, format: 'plain', maxTextLength: 1600 },
 *     inbound: { verify: verifyAcme, parse: parseAcme },
 *     outbound: { idempotent: false, send: sendAcme, rateLimits: (ctx) => [...] },
 *   };
 */
import type { ChannelType } from './channel-types.js';
import type { InboundEvent } from './events.js';
import type { IdentityRules } from './shared/identity.js';
import type { ProviderMedia } from './shared/media.js';

export type { ChannelType } from './channel-types.js';
export * from './events.js';
export type { IdentityRules } from './shared/identity.js';
export type { FetchedMedia, MediaFetchContext } from './shared/media.js';

// ---------------------------------------------------------------------------------------------
// Facts
// ---------------------------------------------------------------------------------------------

/** How the agent's Markdown is rendered for a channel (see src/render). */
export type TextFormat = 'telegram_html' | 'whatsapp' | 'plain' | 'email' | 'speech' | 'markdown';

/** What a channel can show. Core reads these instead of comparing provider names. */
export interface Capabilities {
  format: TextFormat;
  /** Max characters of one text message after rendering; `Infinity` when there is no limit. */
  maxTextLength: number;
  /**
   * Attachments one message can carry. 1: each attachment goes as its own message after the
   * text; more: they ride on the (last) text message; 0: none can be sent.
   */
  maxAttachments: number;
  /** A growing preview of a streamed answer can be shown (`outbound.draft`). */
  drafts: boolean;
  /** "typing..." can be shown (`outbound.typing`). */
  typing: boolean;
  /** A sent message can be edited. */
  edit: boolean;
  /** Hours after the person's last message during which free-form messages are allowed; null: no window. */
  customerCareWindowHours: number | null;
}

/** Secret names of the connection/credential behind a channel. */
export interface SecretNames {
  /** Every connection/credential of this provider must carry these (checked at create). */
  required: readonly string[];
  /** It may carry these too (a separate webhook signing secret...). */
  optional: readonly string[];
  /**
   * The secret that verifies webhooks when the channel has no webhook_secret of its own
   * (`app_secret` for Meta, `auth_token` for Twilio...). Undefined: only the channel's own can.
   */
  verify?: string;
}

/** The provider's API host: its real default and the environment variable that overrides it. */
export interface ApiBase {
  defaultBaseUrl: string;
  /** e.g. SWITCHBOARD_TWILIO_API_URL; an account's `settings.api_base_url` wins over both. */
  env: string;
}

/** A channel as validateChannel sees it (at create and update). */
export interface ChannelDraft {
  channelType: ChannelType;
  externalIdentifier: string;
  config: Record<string, unknown>;
  /** The webhook_secret given in this request, if any. */
  webhookSecret?: string | null;
}

/** One problem validateChannel found; core turns it into a 422 issue at `body.<field>`. */
export interface ChannelIssue {
  field: 'webhook_secret' | 'external_identifier' | 'config';
  message: string;
}

// ---------------------------------------------------------------------------------------------
// Contexts: everything an adapter call may need, built per call by core (core/channel-context)
// ---------------------------------------------------------------------------------------------

/** What any call to the provider's API needs. */
export interface ApiContext {
  /** Decrypted secrets of the connection/credential behind the channel (bot_token, api_key...). */
  secrets: Record<string, string>;
  /** Non-secret settings of the connection/credential, e.g. `api_base_url`. */
  settings: Record<string, unknown>;
  /** The channel's `config` (verify_token, phone_number_id, greeting...). */
  config: Record<string, unknown>;
  /** The provider API base URL to call (fakes plug in here). */
  apiBaseUrl: string;
  /** HTTP client for provider API calls: the SSRF-guarded one when the base URL is tenant input. */
  fetch: typeof fetch;
  /**
   * The account is a platform credential, shared by tenants (not a customer's own connection).
   * Where a secret alone decides who a send speaks as (a Telegram bot token), an adapter must
   * then prove the channel is that identity before using it: another tenant's channel on the
   * same credential would otherwise speak as the channel that really is.
   */
  shared?: boolean;
}

/** An inbound HTTP request exactly as received, before any parsing. */
export interface RawRequest {
  method: string;
  /**
   * The URL the provider called, rebuilt from PUBLIC_URL + path + query (never from the Host
   * header: behind a proxy that is not what the provider signed).
   */
  publicUrl: string;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string | undefined>;
  /** The body bytes as received: signatures are computed over these, never re-serialised JSON. */
  body: Buffer;
}

/** Everything an inbound adapter may need about the channel or account a request is for. */
export interface AdapterContext extends ApiContext {
  /** The secret that verifies this provider's requests (channel webhook_secret, else the account's). */
  verifySecret?: string;
  /** Current time in ms; injectable so signature windows can be tested with pinned clocks. */
  now: () => number;
}

/** Everything a sender needs about where a message goes. */
export interface SendContext extends ApiContext {
  channelType: ChannelType;
  /** The channel's own identity: bot username, our number, our address, phone_number_id. */
  externalIdentifier: string;
  /** The conversation's key: chat id, wa_id, the person's number, the email thread. */
  conversationKey: string;
  /** Where the provider should send status callbacks (Twilio StatusCallback). */
  webhookUrl: string;
  /** Stable per message chunk: providers with idempotency (Resend) get it so a retry cannot double-send. */
  idempotencyKey: string;
  timeoutMs: number;
}

/** Everything provisioning needs to register a channel with its provider. */
export interface ProvisionContext extends ApiContext {
  channelId: string;
  channelType: ChannelType;
  externalIdentifier: string;
  /** PUBLIC_URL, for provider-facing URLs other than the webhook (Twilio voice routes). */
  publicUrl: string;
  /** The channel's webhook URL: PUBLIC_URL/v1/webhooks/{channel}. */
  webhookUrl: string;
  /** The channel's own webhook secret, decrypted (Telegram's secret_token). */
  webhookSecret?: string;
  timeoutMs: number;
}

// ---------------------------------------------------------------------------------------------
// Parts
// ---------------------------------------------------------------------------------------------

export type VerifyResult = { ok: true } | { ok: false; status: 401 | 403; reason: string };

/** A response the webhook endpoint must send instead of the default `200 {"ok":true}`. */
export interface WebhookReply {
  status: number;
  contentType: string;
  body: string;
}

/** Thrown by `parse` when the body is not what the provider sends: answered 400, nothing stored. */
export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadError';
  }
}

/** Webhooks from the provider. */
export interface InboundPart {
  /** Fail-closed signature/token check over the raw request. Never throws. */
  verify(req: RawRequest, ctx: AdapterContext): Promise<VerifyResult>;
  /** Raw body -> normalised events. Throws PayloadError on malformed input. May call the provider API. */
  parse(req: RawRequest, ctx: AdapterContext): Promise<InboundEvent[]>;
  /** GET subscription handshakes (Meta `hub.challenge`). Undefined when the provider has none. */
  handshake?(req: RawRequest, ctx: AdapterContext): WebhookReply;
  /** The body the provider expects as acknowledgement (Twilio wants TwiML). */
  ack?(): WebhookReply;
  /**
   * Channel config to remember once a request's events are committed (Gmail: the pushed
   * historyId, where the next history read starts). `identity` names the channel for
   * account-level webhooks.
   */
  configAfterCommit?(req: RawRequest, config: Record<string, unknown>): { identity?: string; patch: Record<string, unknown> } | undefined;
}

/**
 * A file to send. `url` is always set (a signed Switchboard link for uploaded media, which
 * providers that fetch by URL use: Twilio MMS); `load` is set for uploaded media, whose bytes
 * senders that upload natively (Telegram multipart, WhatsApp /media, email) read.
 */
export interface OutboundAttachment {
  url: string;
  kind?: string;
  fileName?: string;
  caption?: string;
  mimeType?: string;
  size?: number;
  load?: () => Promise<Buffer>;
}

/** One message to send, already rendered in the channel's own format. */
export interface OutboundChunk {
  /** Telegram HTML, WhatsApp markup or plain text (the email's text part). */
  text: string;
  /** Email only: the HTML part and the subject. */
  html?: string;
  subject?: string;
  attachments?: OutboundAttachment[];
  /** The provider id of the message this one answers (first chunk only). */
  replyToProviderMessageId?: string;
  /**
   * Email threading: who, and which message/thread this continues. `messageId` (angle brackets
   * kept) is the Message-ID this email must carry: set on the first email of a thread Switchboard
   * starts, so the person's reply (In-Reply-To/References) finds its conversation.
   */
  email?: { from: string; to: string[]; cc?: string[]; inReplyTo?: string; references?: string[]; threadId?: string; messageId?: string };
  /** WhatsApp template (the only message allowed outside the 24-hour window). */
  template?: { name: string; language: string; components?: unknown[] };
}

/** What a provider answered to one sent chunk. */
export interface SendResult {
  providerMessageId: string;
  /**
   * The conversation key the person's answers to this message will arrive with (`conversationKey`
   * of inbound events), when the provider decides it at send time (Gmail's threadId for a new
   * thread). Core re-keys the conversation to it.
   */
  conversationKey?: string;
  /** The provider's thread id for later sends into the same thread (Gmail threadId). */
  threadId?: string;
}

/** A token bucket: up to `burst` sends at once, refilled at `perSecond`. */
export interface RateLimit {
  key: string;
  burst: number;
  perSecond: number;
}

/** Sending to the provider. Errors are thrown as ProviderError (shared/provider-error.ts). */
export interface OutboundPart {
  /** Whether a retry after an unknown outcome is safe (the provider deduplicates on idempotencyKey). */
  readonly idempotent: boolean;
  /** Sends one chunk; throws ProviderError. */
  send(ctx: SendContext, chunk: OutboundChunk): Promise<SendResult>;
  /**
   * The provider's documented rate limits that apply to this send, as token buckets: the rate
   * governor waits (never fails) until every bucket has a token. Keys must be globally unique:
   * they start with the provider name.
   */
  rateLimits(ctx: SendContext): RateLimit[];
  /** Shows "typing..." where the channel can (capabilities.typing). */
  typing?(ctx: SendContext, lastInboundProviderMessageId?: string): Promise<void>;
  /**
   * Albums, on channels that send one attachment per message (capabilities.maxAttachments 1):
   * consecutive attachments with the same `key` (undefined: never grouped) go as one chunk of up
   * to `max`, the text as the first one's caption (Telegram sendMediaGroup).
   */
  mediaGroup?: { max: number; key(a: OutboundAttachment): string | undefined };
  /** A live preview of a streamed answer (capabilities.drafts). */
  draft?: {
    /** Whether this conversation can show drafts (Telegram: private chats only). */
    available(conversationKey: string): boolean;
    /** Replaces the preview with `text`, already rendered in capabilities.format. */
    update(ctx: SendContext, draftId: number, text: string): Promise<void>;
  };
}

/** Thrown by provisioning when the provider says the channel is not what it claims; shown as-is. */
export class ProvisionRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProvisionRefused';
  }
}

/** What a renewal writes: `patch` always, `ifAbsent` only where the channel's current config has no value. */
export interface RenewResult {
  patch: Record<string, unknown>;
  ifAbsent?: Record<string, unknown>;
}

/** Registering channels with the provider, where it allows that. Failures put the channel in error. */
export interface ProvisionPart {
  /** After create or enable. Returns config to merge into the channel (a cursor, an expiry). */
  register(ctx: ProvisionContext): Promise<Record<string, unknown> | undefined>;
  /** Before delete or after disable; best effort. */
  deregister?(ctx: ProvisionContext): Promise<void>;
  /** Registrations that lapse (Gmail watches, 7 days) are renewed when `due`, checked periodically. */
  renew?: {
    due(config: Record<string, unknown>, now: number): boolean;
    run(ctx: ProvisionContext): Promise<RenewResult>;
  };
}

/** A file to hand to the provider before sending it (native outbound attachments). */
export interface MediaUpload {
  bytes: Uint8Array;
  mimeType: string;
  fileName?: string;
}

/**
 * Media in and out (adapters/<p>/media.ts): `fetchMedia` captures an inbound item with the
 * channel's credentials (the capture job stores the bytes, see src/media/capture.ts); `upload`
 * hands a file to the provider and returns its own reference for a send. Both optional.
 */
export interface MediaPart extends Partial<ProviderMedia> {
  upload?(ctx: SendContext, file: MediaUpload): Promise<{ providerFileId: string }>;
}

/** Provider-facing URLs of a voice channel (GET .../channels/{id}/voice). */
export interface VoiceLinksInput {
  publicUrl: string;
  channelId: string;
  channelType: ChannelType;
  /** The channel's verification secret (webhook_secret, else the account's verify secret). */
  verifySecret?: string;
}

/**
 * What a provider accepts as files on one outbound message, from its documented limits; checked
 * when a message is accepted (a clear 422 up front instead of a failed send later).
 */
export interface AttachmentLimits {
  maxCount: number;
  /** Bytes per file, by media kind (`image`, `voice`...) and MIME type. */
  perFile(kind: string, mime: string): number;
  /** Bytes for all files of one message together. */
  total?: number;
}

export const MB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// The adapter
// ---------------------------------------------------------------------------------------------

export interface ProviderAdapter {
  /** Provider name as used in the API (`telegram`, `meta_cloud`...). */
  readonly name: string;
  /** How people write it (`WhatsApp Cloud API`); used in messages and the dashboard. */
  readonly displayName: string;
  /** Channel types this provider serves; a channel of another type is refused at create. */
  readonly channelTypes: readonly ChannelType[];
  readonly secrets: SecretNames;
  /** Undefined for providers Switchboard does not call (the web chat widget). */
  readonly api?: ApiBase;
  readonly capabilities: Capabilities;
  /** Where one channel type differs from `capabilities` (Twilio WhatsApp renders WhatsApp markup). */
  readonly channelCapabilities?: Partial<Record<ChannelType, Partial<Capabilities>>>;
  /** Files per outbound message; undefined: only Switchboard's own upload cap applies. */
  readonly attachmentLimits?: AttachmentLimits;
  /** Where one channel type's files differ from `attachmentLimits`. */
  readonly channelAttachmentLimits?: Partial<Record<ChannelType, AttachmentLimits>>;
  /**
   * How this provider's channel identities are canonicalised and which config keys are identities
   * too (adapters/<p>/identity.ts): uniqueness, account-level routing and provisioning checks
   * compare these forms. Undefined: the external identifier, trimmed and case-folded.
   */
  readonly identity?: IdentityRules;
  /**
   * The conversation key a person reached first by us gets, as `parse` keys their messages
   * (`recipient` is +E.164 for phone channels): Meta and Vonage key by digits without '+'.
   * Undefined: the recipient as given.
   */
  conversationKeyFor?(recipient: string, channelType: ChannelType): string;
  /** Switchboard chooses the channel's webhook secret when none is given (Telegram secret_token, web chat). */
  readonly generatesWebhookSecret?: boolean;
  /**
   * Switchboard itself is the channel (the web chat widget): outbound messages are stored and
   * pushed to the widget by the web chat hub, not sent to a provider; live deltas go there too.
   */
  readonly widget?: boolean;
  /**
   * False when the provider's events must not be accepted at the public webhook URL because they
   * arrive through a route of their own that enforces more (web chat: origin, flood and length
   * rules in /v1/webchat). Default true.
   */
  readonly publicWebhook?: boolean;
  /** Provider-specific channel rules, checked at create and update; all issues reported at once. */
  validateChannel?(channel: ChannelDraft): ChannelIssue[];
  readonly inbound?: InboundPart;
  readonly outbound?: OutboundPart;
  readonly provision?: ProvisionPart;
  readonly media?: MediaPart;
  /** Voice channels: the URLs to configure at the provider. */
  voiceLinks?(input: VoiceLinksInput): Record<string, string>;
}

/** A starting point for capabilities: text only, no extras. */
export const NO_EXTRAS: Omit<Capabilities, 'format' | 'maxTextLength'> = {
  maxAttachments: 0,
  drafts: false,
  typing: false,
  edit: false,
  customerCareWindowHours: null,
};

/** The capabilities of one channel type of a provider. */
export function capabilitiesFor(adapter: ProviderAdapter, channelType: string): Capabilities {
  const over = adapter.channelCapabilities?.[channelType as ChannelType];
  return over ? { ...adapter.capabilities, ...over } : adapter.capabilities;
}
