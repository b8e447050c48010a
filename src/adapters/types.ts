/**
 * The one interface every provider implements. Adapters are framework-free: they take the raw
 * request (method, url, headers, body bytes) and return typed results; they never import Fastify
 * and never hold a tenant's token between calls (everything arrives in the context).
 */
import type { ChannelType } from '../core/channel-types.js';
import type { InboundEvent } from '../core/events.js';
import type { IdentityRules } from './shared/identity.js';

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

/** Everything an adapter may need about the channel or account a request is for. */
export interface AdapterContext {
  /** The secret that verifies this provider's requests (channel webhook_secret, else the account's). */
  verifySecret?: string;
  /** Decrypted secrets of the connection/credential behind the channel (bot_token, api_key...). */
  secrets: Record<string, string>;
  /** Non-secret settings of the connection/credential, e.g. `api_base_url`. */
  settings: Record<string, unknown>;
  /** The channel's `config` (verify_token, phone_number_id, greeting...). */
  config: Record<string, unknown>;
  /** The provider API base URL to call (fakes plug in here). */
  apiBaseUrl: string;
  /** Current time in ms; injectable so signature windows can be tested with pinned clocks. */
  now: () => number;
  /** HTTP client used for provider API calls (body fetches, sends). */
  fetch: typeof fetch;
}

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

/** What a channel can show; the renderer and the streaming code read it. */
export interface Capabilities {
  /** Max characters of one text message (after rendering). */
  maxTextLength: number;
  format: 'telegram_html' | 'whatsapp' | 'plain' | 'email' | 'speech' | 'markdown';
  canEdit: boolean;
  canDraft: boolean;
  canType: boolean;
}

export interface InboundAdapter {
  /** Provider name as used in the API (`telegram`, `meta_cloud`, ...). */
  readonly provider: string;
  /** Channel types this provider serves; a channel of another type is refused at create. */
  readonly channelTypes: readonly ChannelType[];
  /** Secret names a connection/credential for this provider must carry. */
  readonly secretNames: readonly string[];
  /**
   * Which connection/credential secret verifies webhooks when the channel has no webhook_secret
   * (`app_secret` for Meta, `auth_token` for Twilio, `api_key` for Retell...). Undefined: only the
   * channel's own webhook_secret can.
   */
  readonly verifySecretName?: string;
  /** How this provider's channel identities are canonicalised (adapters/<p>/identity.ts); default: trimmed, case-folded. */
  readonly identity?: IdentityRules;
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

/** One message to send, already rendered in the channel's own format. */
export interface OutboundChunk {
  /** Telegram HTML, WhatsApp markup or plain text (the email's text part). */
  text: string;
  /** Email only: the HTML part and the subject. */
  html?: string;
  subject?: string;
  attachments?: { url: string; kind?: string; fileName?: string; caption?: string }[];
  /** The provider id of the message this one answers (first chunk only). */
  replyToProviderMessageId?: string;
  /** Email threading: who, and which message/thread this continues. */
  email?: { from: string; to: string[]; cc?: string[]; inReplyTo?: string; references?: string[]; threadId?: string };
  /** WhatsApp template (the only message allowed outside the 24-hour window). */
  template?: { name: string; language: string; components?: unknown[] };
}

/** Everything a sender needs about where a message goes. */
export interface SendContext {
  secrets: Record<string, string>;
  settings: Record<string, unknown>;
  config: Record<string, unknown>;
  apiBaseUrl: string;
  fetch: typeof fetch;
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

export interface OutboundSender {
  readonly provider: string;
  readonly capabilities: Capabilities;
  /** Whether a retry after an unknown outcome is safe (the provider deduplicates on idempotencyKey). */
  readonly idempotent: boolean;
  /** Sends one chunk; throws ProviderError (see shared/provider-error.ts). */
  send(ctx: SendContext, chunk: OutboundChunk): Promise<{ providerMessageId: string }>;
  /**
   * The provider's documented rate limits that apply to this send, as token buckets: the rate
   * governor waits (never fails) until every bucket has a token. Keys must be globally unique.
   */
  rateLimits(ctx: SendContext): RateLimit[];
  /** Shows "typing..." where the channel can. */
  typing?(ctx: SendContext, lastInboundProviderMessageId?: string): Promise<void>;
}

/** A token bucket: up to `burst` sends at once, refilled at `perSecond`. */
export interface RateLimit {
  key: string;
  burst: number;
  perSecond: number;
}
