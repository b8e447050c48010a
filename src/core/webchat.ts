/**
 * The web chat widget's side of Switchboard: which sites may embed a chat (Origin rules), who a
 * visitor is (a signed identity from the host site, or an anonymous id that Switchboard issues),
 * flood control, and sending a visitor's message through the same inbound pipeline as every
 * provider's webhook (web adapter verify + parse, then the inbox, deduplicated on client_message_id).
 *
 * A visitor's credential is `token = hex HMAC-SHA256(channel webhook_secret, visitor_id)` — the
 * same value a host site computes to sign a known user's id — so only the channel secret can mint
 * one, and one visitor's token never opens another's conversation.
 */
import { createHash, randomBytes } from 'node:crypto';
import { getProvider } from '../adapters/registry.js';
import { hmacSha256Hex, safeEqual } from '../adapters/shared/compare.js';
import type { RawRequest } from '../adapters/contract.js';
import type { RateGovernor } from './outbound/governor.js';
import { BadRequest, Conflict, Forbidden, NotFound, TooManyRequests, UpstreamUnavailable } from '../errors.js';
import type { ChannelRow } from '../store/repos/channels.js';
import type { MessageRow } from '../store/repos/inbox.js';
import type { WebChatRepo } from '../store/repos/webchat.js';
import type { ChannelsService } from './channels.js';
import { toWebChatMessage, visibleToVisitor, type WebChatHub, type WebChatMessage } from './webchat-hub.js';
import type { Webhooks } from './webhooks.js';
import { uploadPolicy, type WebChatMedia } from './webchat-media.js';
import type { MediaItem } from '../media/service.js';

export const ANON_PREFIX = 'anon_';
const HISTORY_LIMIT = 100;
/** A resumed stream re-reads this far behind its cursor: a commit that raced the last read is not lost. */
export const RESUME_SLACK_MS = 10_000;

/** A web_chat channel as the widget sees it. */
export interface WebChannel {
  row: ChannelRow;
  allowedOrigins: string[];
  title: string;
  greeting: string | null;
  /** Shown as the author of answers that do not name one (config.agent_name). */
  agentName: string | null;
  secret: string;
}

export interface Visitor {
  visitorId: string;
  token: string;
}

export interface SessionView {
  visitor_id: string;
  token: string;
  anonymous: boolean;
  title: string;
  greeting: string | null;
  agent_name: string | null;
  /** What the visitor may attach (null: no files on this chat). */
  uploads: { max_bytes: number; types: string[] } | null;
  conversation_id: string | null;
  messages: WebChatMessage[];
  /** Pass as `after` to the stream: it resumes from here. */
  cursor: string | null;
}

type GateResult = { ok: true } | { ok: false; retryAfterMs: number };

/** Flood control: one token per request from a bucket per key. */
export interface Gate {
  take(key: string): GateResult | Promise<GateResult>;
}

/**
 * A token bucket per key: `capacity` requests at once, one more every `refillMs`.
 * In-memory: exact for a single process (SQLite); several nodes use SharedGate.
 */
export class FloodGate implements Gate {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly capacity: number,
    private readonly refillMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token; when none is left, says how long until the next one. */
  take(key: string): { ok: true } | { ok: false; retryAfterMs: number } {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.capacity, at: t };
    b.tokens = Math.min(this.capacity, b.tokens + (t - b.at) / this.refillMs);
    b.at = t;
    if (b.tokens < 1) {
      this.buckets.set(key, b);
      return { ok: false, retryAfterMs: Math.ceil((1 - b.tokens) * this.refillMs) };
    }
    b.tokens -= 1;
    this.buckets.set(key, b);
    if (this.buckets.size > 10_000) this.sweep(t);
    return { ok: true };
  }

  private sweep(t: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + (t - b.at) / this.refillMs >= this.capacity) this.buckets.delete(k);
  }
}

/**
 * The same buckets in the database (the rate governor's), for several nodes on PostgreSQL: a
 * visitor behind a round-robin balancer gets the limit once, not once per node. Keys are hashed
 * (visitor ids come from host sites and may be long).
 */
export class SharedGate implements Gate {
  constructor(
    private readonly governor: Pick<RateGovernor, 'take'>,
    private readonly name: string,
    private readonly capacity: number,
    private readonly refillMs: number,
  ) {}

  async take(key: string): Promise<GateResult> {
    const digest = createHash('sha256').update(key).digest('base64url').slice(0, 32);
    const r = await this.governor.take([{ key: `webchat:${this.name}:${digest}`, burst: this.capacity, perSecond: 1000 / this.refillMs }]);
    return r.ok ? { ok: true } : { ok: false, retryAfterMs: r.waitMs };
  }
}

export interface WebChatOptions {
  /** Visitor messages: burst and refill (default 5 per 10 s). */
  messageBurst?: number;
  messageRefillMs?: number;
  /** New anonymous visitors per client address (default 30, one more every 2 s). */
  sessionBurst?: number;
  sessionRefillMs?: number;
  /** Several nodes: keep the flood buckets in the database through this governor. */
  sharedGovernor?: Pick<RateGovernor, 'take'>;
  /** Visitors' files (uploads and attachments); without it the chat takes text only. */
  media?: WebChatMedia;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

/** `scheme://host[:port]` of a URL, lower-cased; undefined when it is not an http(s) URL. */
export function originOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

export class WebChat {
  private readonly messageGate: Gate;
  private readonly sessionGate: Gate;
  readonly media: WebChatMedia | undefined;

  constructor(
    private readonly repo: WebChatRepo,
    private readonly channelsRepo: { get(id: string): Promise<ChannelRow | undefined> },
    private readonly channels: ChannelsService,
    private readonly webhooks: Webhooks,
    readonly hub: WebChatHub,
    private readonly config: { publicUrl: string },
    opts: WebChatOptions = {},
  ) {
    const gate = (name: string, burst: number, refillMs: number): Gate =>
      opts.sharedGovernor ? new SharedGate(opts.sharedGovernor, name, burst, refillMs) : new FloodGate(burst, refillMs);
    this.messageGate = gate('msg', opts.messageBurst ?? 5, opts.messageRefillMs ?? 2_000);
    this.sessionGate = gate('session', opts.sessionBurst ?? 30, opts.sessionRefillMs ?? 2_000);
    this.media = opts.media;
  }

  private uploads(ch: WebChannel): SessionView['uploads'] {
    if (!this.media) return null;
    const p = uploadPolicy(JSON.parse(ch.row.config) as Record<string, unknown>, this.media.media.config.maxBytes);
    return p.enabled ? { max_bytes: p.maxBytes, types: p.types } : null;
  }

  /** Rows as the widget sees them, with their files; answers held back in human mode are left out. */
  async views(rows: MessageRow[]): Promise<WebChatMessage[]> {
    const shown = rows.filter(visibleToVisitor);
    const files = this.media ? await this.media.of(shown.map((r) => r.id)) : new Map<string, MediaItem[]>();
    return shown.map((r) => toWebChatMessage(r, files.get(r.id)));
  }

  /** A visitor's file, stored for a message to name; counts against their message flood limit. */
  async upload(ch: WebChannel, v: Visitor, bytes: Buffer, mimeType: string | undefined, fileName: string | undefined): Promise<MediaItem> {
    if (!this.media) throw new Forbidden('This chat does not take files');
    const gate = await this.messageGate.take(`${ch.row.id}\n${v.visitorId}`);
    if (!gate.ok) throw new TooManyRequests('You are sending files too fast; wait a moment', gate.retryAfterMs / 1000);
    return this.media.upload(ch.row, v.visitorId, bytes, mimeType, fileName);
  }

  /** The web_chat channel behind a widget; anything else (or a disabled chat) is refused. */
  async channel(channelId: string): Promise<WebChannel> {
    const row = await this.channelsRepo.get(channelId);
    if (!row || !getProvider(row.provider)?.widget || row.channel_type !== 'web_chat') throw new NotFound('Chat not found');
    if (row.enabled !== 1) throw new Forbidden('This chat is not available');
    const secret = this.channels.webhookSecret(row);
    if (!secret) throw new UpstreamUnavailable('This chat has no webhook_secret; set one on the channel');
    const cfg = JSON.parse(row.config) as Record<string, unknown>;
    const allowedOrigins = Array.isArray(cfg.allowed_origins) ? cfg.allowed_origins.filter((o): o is string => typeof o === 'string').map((o) => (o === '*' ? o : (originOf(o) ?? o.toLowerCase()))) : [];
    return { row, allowedOrigins, title: str(cfg.title) ?? 'Chat', greeting: str(cfg.greeting) ?? null, agentName: str(cfg.agent_name) ?? null, secret };
  }

  /**
   * May a page from `origin` use this chat? Allowed: no Origin header (not a browser, or a
   * same-origin GET), the channel's `config.allowed_origins` (`"*"` = any site), PUBLIC_URL's own
   * origin, and the origin the request was addressed to (same origin, whatever the host name).
   */
  originAllowed(ch: WebChannel, origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined) return true;
    const o = origin.toLowerCase();
    if (ch.allowedOrigins.includes('*') || ch.allowedOrigins.includes(o)) return true;
    if (o === originOf(this.config.publicUrl)) return true;
    if (host && o !== 'null') {
      try {
        if (new URL(o).host === host.toLowerCase()) return true;
      } catch {
        return false;
      }
    }
    return false;
  }

  tokenFor(ch: WebChannel, visitorId: string): string {
    return hmacSha256Hex(ch.secret, visitorId);
  }

  /** Checks a visitor's token (or the host site's signature, the same value). */
  authenticate(ch: WebChannel, visitorId: string, token: string): Visitor {
    if (!visitorId || !safeEqual(token.trim().toLowerCase(), this.tokenFor(ch, visitorId))) throw new Forbidden('Invalid visitor token');
    return { visitorId, token: token.trim().toLowerCase() };
  }

  /**
   * Starts or resumes a visitor: with `visitor_id` + `token` (or the host's `visitor_signature`)
   * it is that visitor, checked; without, a new anonymous visitor is issued. Answers the recent
   * history and a cursor to stream from.
   */
  async session(ch: WebChannel, input: { visitor_id?: string | null; token?: string | null; visitor_signature?: string | null }, clientAddress: string): Promise<SessionView> {
    const proof = input.token ?? input.visitor_signature;
    let visitor: Visitor;
    if (input.visitor_id) {
      if (!proof) throw new Forbidden('visitor_id needs its token or the host site signature');
      visitor = this.authenticate(ch, input.visitor_id, proof);
    } else {
      const gate = await this.sessionGate.take(`${ch.row.id}\n${clientAddress}`);
      if (!gate.ok) throw new TooManyRequests('Too many new chat sessions; try again later', gate.retryAfterMs / 1000);
      const visitorId = ANON_PREFIX + randomBytes(16).toString('base64url');
      visitor = { visitorId, token: this.tokenFor(ch, visitorId) };
    }
    const conv = await this.repo.conversationOf(ch.row.id, visitor.visitorId);
    const rows = conv ? await this.repo.recent(conv.id, HISTORY_LIMIT) : [];
    return {
      visitor_id: visitor.visitorId,
      token: visitor.token,
      anonymous: visitor.visitorId.startsWith(ANON_PREFIX),
      title: ch.title,
      greeting: ch.greeting,
      agent_name: ch.agentName,
      uploads: this.uploads(ch),
      conversation_id: conv?.id ?? null,
      messages: await this.views(rows),
      cursor: cursorOf(rows),
    };
  }

  /** The visitor's conversation id, if they have written yet. */
  async conversationId(ch: WebChannel, v: Visitor): Promise<string | undefined> {
    return (await this.repo.conversationOf(ch.row.id, v.visitorId))?.id;
  }

  /** Messages changed since `after` (minus a little slack), or the recent history without it. */
  async messagesSince(conversationId: string, after: string | undefined): Promise<MessageRow[]> {
    if (!after) return this.repo.recent(conversationId, HISTORY_LIMIT);
    const t = Date.parse(after);
    if (Number.isNaN(t)) throw new BadRequest('after must be a timestamp from a previous message');
    return this.repo.changedSince(conversationId, new Date(t - RESUME_SLACK_MS).toISOString(), 1000);
  }

  /**
   * A visitor's message, through the channel's webhook pipeline exactly as a provider's would go:
   * a RawRequest signed with the visitor's token, verified and parsed by the web adapter, committed
   * by the inbox. The same client_message_id twice is one message.
   */
  async send(ch: WebChannel, v: Visitor, text: string, clientMessageId: string, attachmentIds: string[] = []): Promise<{ conversation_id: string; message: WebChatMessage; duplicate: boolean }> {
    const gate = await this.messageGate.take(`${ch.row.id}\n${v.visitorId}`);
    if (!gate.ok) throw new TooManyRequests('You are sending messages too fast; wait a moment', gate.retryAfterMs / 1000);
    if (attachmentIds.length && !this.media) throw new Forbidden('This chat does not take files');
    const before = await this.repo.conversationOf(ch.row.id, v.visitorId);
    const known = before ? await this.repo.inboundByProviderId(before.id, clientMessageId) : undefined;
    // A resend of a sent message is answered from what was stored; its files are bound already.
    const files = known || !this.media ? [] : await this.media.check(ch.row.id, v.visitorId, attachmentIds);
    const attachments = files.map((f) => ({ media_id: f.id, kind: f.kind, mime_type: f.mime_type, file_name: f.file_name, size: Number(f.size), sha256: f.sha256 }));
    const body = Buffer.from(JSON.stringify({ visitor_id: v.visitorId, text, client_message_id: clientMessageId, ...(attachments.length ? { attachments } : {}) }));
    const raw: RawRequest = {
      method: 'POST',
      publicUrl: `${this.config.publicUrl}/v1/webhooks/${ch.row.id}`,
      headers: { 'content-type': 'application/json', 'x-switchboard-visitor-signature': v.token, 'content-length': String(body.length) },
      body,
    };
    if (!known) {
      const reply = await this.webhooks.channelWebhook(ch.row.id, raw, { internal: true });
      if (reply.status >= 400) {
        const detail = safeDetail(reply.body);
        if (reply.status === 400) throw new BadRequest(detail);
        if (reply.status === 401 || reply.status === 403) throw new Forbidden(detail);
        if (reply.status === 404) throw new NotFound('Chat not found');
        throw new UpstreamUnavailable(detail);
      }
    }
    const conv = before ?? (await this.repo.conversationOf(ch.row.id, v.visitorId));
    const row = known ?? (conv ? await this.repo.inboundByProviderId(conv.id, clientMessageId) : undefined);
    // Stored under another visitor's conversation (a reused client id): not this visitor's to see.
    if (!conv || !row) throw new Conflict('client_message_id was already used; send with a new one');
    if (files.length) await this.media!.bind(files.map((f) => f.id), row.id);
    if (!known) await this.hub.publishMessage(conv.id, row.id);
    return { conversation_id: conv.id, message: (await this.views([row]))[0], duplicate: known !== undefined };
  }
}

/** The stream cursor after these rows: the latest updated_at. */
export function cursorOf(rows: { updated_at: string }[]): string | null {
  let c: string | null = null;
  for (const r of rows) if (c === null || r.updated_at > c) c = r.updated_at;
  return c;
}

function safeDetail(body: string): string {
  try {
    const d = (JSON.parse(body) as { detail?: unknown }).detail;
    return typeof d === 'string' ? d : 'The message was refused';
  } catch {
    return 'The message was refused';
  }
}
