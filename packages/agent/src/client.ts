/**
 * A small client for the Switchboard API, for what agents do: read a conversation's history (as
 * model messages), send with idempotency keys, hand off / resume / close, and move media.
 *
 * @example
 *   const sb = new SwitchboardClient({ baseUrl: 'https://sb.example.com', apiKey, instanceId });
 *   const messages = await sb.history(event.conversation_id!);
 *   await sb.send(event.conversation_id!, { text: 'Done!' });
 */
import { randomUUID } from 'node:crypto';
import { toModelMessages, type AiSdkMessage, type HistoryFormat, type ModelMessage, type OpenAIMessage } from './history.js';
import type { Conversation, HistoryMessage, MediaItem, SentMessage } from './types.js';

export interface ClientOptions {
  /** Switchboard's base URL (PUBLIC_URL), e.g. https://sb.example.com */
  baseUrl: string;
  apiKey: string;
  instanceId: string;
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch;
}

/** The API refused a request; `detail` is the API's own explanation (a string or FastAPI's list). */
export class SwitchboardError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
  ) {
    super(`Switchboard answered ${status}: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`);
    this.name = 'SwitchboardError';
  }
}

export interface SendInput {
  text?: string;
  attachments?: { url?: string; media_id?: string; kind?: string; file_name?: string }[];
  reply_to?: string;
  template?: { name: string; language: string; components?: unknown[] };
  subject?: string;
}

export interface MessagesQuery {
  order?: 'asc' | 'desc';
  limit?: number;
  before?: string;
  after?: string;
}

export interface ConversationsQuery {
  status?: 'open' | 'closed';
  mode?: 'agent' | 'human';
  channel_id?: string;
  /** ISO-8601 time: only conversations updated at or after it. */
  updated_since?: string;
  limit?: number;
  /** `next_cursor` of the previous page. */
  cursor?: string;
}

/** Statuses worth another try with the same idempotency key (nothing was, or may have been, sent twice). */
const RETRYABLE = new Set([429, 502, 503, 504]);

export class SwitchboardClient {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly opts: ClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.fetchFn = opts.fetch ?? fetch;
  }

  private path(rest: string): string {
    return `${this.base}/v1/instances/${encodeURIComponent(this.opts.instanceId)}${rest}`;
  }

  private async request(method: string, url: string, body?: unknown, headers: Record<string, string> = {}, retries = 0): Promise<Response> {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${this.opts.apiKey}`, ...headers } };
    if (body !== undefined) {
      if (body instanceof Uint8Array) init.body = body as BodyInit;
      else {
        init.body = JSON.stringify(body);
        (init.headers as Record<string, string>)['content-type'] = 'application/json';
      }
    }
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.fetchFn(url, init);
      } catch (err) {
        if (attempt < retries) {
          await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
          continue;
        }
        throw err;
      }
      if (res.ok) return res;
      if (attempt < retries && RETRYABLE.has(res.status)) {
        await res.body?.cancel();
        await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
        continue;
      }
      const text = await res.text();
      let detail: unknown = text;
      try {
        detail = (JSON.parse(text) as { detail?: unknown }).detail ?? text;
      } catch {
        /* not JSON: the text is the detail */
      }
      throw new SwitchboardError(res.status, detail);
    }
  }

  private async json<T>(method: string, url: string, body?: unknown, headers?: Record<string, string>, retries = 0): Promise<T> {
    const res = await this.request(method, url, body, headers, retries);
    return (await res.json()) as T;
  }

  /** One page, most recently active first; `next_cursor` (null on the last page) fetches the next. */
  listConversations(q: ConversationsQuery = {}): Promise<{ conversations: Conversation[]; count: number; next_cursor: string | null }> {
    return this.json('GET', this.path(`/conversations${query(q)}`));
  }

  getConversation(id: string): Promise<Conversation> {
    return this.json('GET', this.path(`/conversations/${encodeURIComponent(id)}`));
  }

  /** One page of a conversation's messages (oldest first unless `order: 'desc'`). */
  messages(conversationId: string, q: MessagesQuery = {}): Promise<{ messages: HistoryMessage[]; count: number }> {
    return this.json('GET', this.path(`/conversations/${encodeURIComponent(conversationId)}/messages${query(q)}`));
  }

  /**
   * The conversation as model messages, oldest first: the person's turns as `user`, the agent's
   * (and a human operator's, named as such) as `assistant`, images as image parts.
   * `limit` keeps the most recent messages (default 50).
   */
  history(conversationId: string, opts?: { limit?: number; format?: 'ai-sdk' }): Promise<AiSdkMessage[]>;
  history(conversationId: string, opts: { limit?: number; format: 'openai' }): Promise<OpenAIMessage[]>;
  async history(conversationId: string, opts: { limit?: number; format?: HistoryFormat } = {}): Promise<ModelMessage[]> {
    const page = await this.messages(conversationId, { order: 'desc', limit: opts.limit ?? 50 });
    // Oldest first whatever order the server answered in (created_at is when each was accepted).
    const sorted = [...page.messages].sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.id < b.id ? -1 : 1));
    return toModelMessages(sorted, opts.format ?? 'ai-sdk');
  }

  /**
   * Sends a message. The idempotency key (a fresh one when not given) makes retries safe: the same
   * key never sends twice, so transient failures are retried with it.
   */
  send(conversationId: string, input: SendInput, opts: { idempotencyKey?: string } = {}): Promise<SentMessage> {
    const key = opts.idempotencyKey ?? randomUUID();
    return this.json('POST', this.path(`/conversations/${encodeURIComponent(conversationId)}/messages`), input, { 'idempotency-key': key }, 2);
  }

  handoff(conversationId: string, opts: { reason?: string; assignee?: string } = {}): Promise<Conversation> {
    return this.json('POST', this.path(`/conversations/${encodeURIComponent(conversationId)}/handoff`), opts);
  }

  resume(conversationId: string): Promise<Conversation> {
    return this.json('POST', this.path(`/conversations/${encodeURIComponent(conversationId)}/resume`), {});
  }

  close(conversationId: string): Promise<Conversation> {
    return this.json('POST', this.path(`/conversations/${encodeURIComponent(conversationId)}/close`), {});
  }

  reopen(conversationId: string): Promise<Conversation> {
    return this.json('POST', this.path(`/conversations/${encodeURIComponent(conversationId)}/reopen`), {});
  }

  /** The bytes of a media item (by its signed `url`, or by id through the API). */
  async downloadMedia(media: MediaItem | string): Promise<{ bytes: Uint8Array; mimeType: string }> {
    const url = typeof media === 'string' ? this.path(`/media/${encodeURIComponent(media)}/content`) : media.url;
    const res = await this.request('GET', url);
    return { bytes: new Uint8Array(await res.arrayBuffer()), mimeType: res.headers.get('content-type') ?? 'application/octet-stream' };
  }

  /** Uploads bytes; the returned item's id can be sent as an attachment (`{media_id}`). */
  uploadMedia(bytes: Uint8Array, opts: { mimeType: string; fileName?: string }): Promise<MediaItem> {
    const headers: Record<string, string> = { 'content-type': opts.mimeType };
    const q = opts.fileName ? `?file_name=${encodeURIComponent(opts.fileName)}` : '';
    return this.json('POST', this.path(`/media${q}`), bytes, headers);
  }
}

function query(q: object): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null) p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}
