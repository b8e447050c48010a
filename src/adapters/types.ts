/**
 * The one interface every provider implements. Adapters are framework-free: they take the raw
 * request (method, url, headers, body bytes) and return typed results; they never import Fastify
 * and never hold a tenant's token between calls (everything arrives in the context).
 */
import type { ChannelType } from '../core/channel-types.js';
import type { InboundEvent } from '../core/events.js';

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
  /** Fail-closed signature/token check over the raw request. Never throws. */
  verify(req: RawRequest, ctx: AdapterContext): Promise<VerifyResult>;
  /** Raw body -> normalised events. Throws PayloadError on malformed input. May call the provider API. */
  parse(req: RawRequest, ctx: AdapterContext): Promise<InboundEvent[]>;
  /** GET subscription handshakes (Meta `hub.challenge`). Undefined when the provider has none. */
  handshake?(req: RawRequest, ctx: AdapterContext): WebhookReply;
  /** The body the provider expects as acknowledgement (Twilio wants TwiML). */
  ack?(): WebhookReply;
}
