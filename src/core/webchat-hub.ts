/**
 * Fan-out of web chat traffic to the widgets watching a conversation, on every node.
 *
 * Publishers (the outbound pipeline, the widget's own POSTs) send small notifications — ids and
 * short text deltas — through the Notifier's `webchat` topic, which is PostgreSQL NOTIFY when
 * nodes share a database. Each node re-reads a published message row from the database once and
 * hands it to its local subscribers; deltas are passed on as they are, with their offset in the
 * streamed text so a listener can tell a gap from a repeat.
 *
 * @example
 *   const off = hub.subscribe(conversationId, (e) => { if (e.type === 'message') render(e.message) });
 *   await hub.publishDelta(conversationId, messageId, 'Hel');   // offset 0
 *   await hub.publishDelta(conversationId, messageId, 'lo');    // offset 3
 *   await hub.publishMessage(conversationId, messageId);        // the stored row, final text
 *   off();
 */
import type { Notifier } from '../queue/notifier.js';
import type { MediaItem } from '../media/service.js';
import type { MessageRow } from '../store/repos/inbox.js';

/** A message as a widget sees it (no provider content, no internal fields). */
export interface WebChatMessage {
  id: string;
  direction: 'in' | 'out';
  text: string;
  status: string;
  /** The widget's own id for a visitor message (matches its pending bubble); null for answers. */
  client_message_id: string | null;
  /**
   * Who wrote it: `contact` (the visitor), `agent`, `operator` or `system`, with the name the
   * writer gave (an operator's "Sam"). Only kind and name: ids of operators stay inside.
   */
  author: { kind: string; name?: string };
  created_at: string;
  updated_at: string;
  /** Files sent with it (media items with signed links), when there are any. */
  attachments?: MediaItem[];
}

export type WebChatEvent =
  | { type: 'message'; conversationId: string; message: WebChatMessage }
  /** `text` continues the message's streamed text at character `offset`. */
  | { type: 'delta'; conversationId: string; messageId: string; offset: number; text: string }
  | { type: 'typing'; conversationId: string; active: boolean };

export type WebChatListener = (event: WebChatEvent) => void;

export interface MessageReader {
  message(id: string): Promise<MessageRow | undefined>;
  /** The files of a message, when the process stores media. */
  attachments?(messageId: string): Promise<MediaItem[]>;
}

/** The wire form of a notification; short keys keep deltas well under PostgreSQL's 8000 bytes. */
type Note =
  | { t: 'm'; c: string; m: string }
  | { t: 'd'; c: string; m: string; o: number; x: string }
  | { t: 'y'; c: string; a: boolean };

/** Characters per delta notification: even 4-byte characters stay under the payload limit. */
const DELTA_CHUNK = 1500;
/** How long a streamed message's partial text is kept after its last delta. */
const PARTIAL_TTL_MS = 10 * 60_000;
const MAX_PARTIALS = 2000;

interface Partial {
  conversationId: string;
  text: string;
  at: number;
}

/** A stored JSON column, or undefined when it is missing or unreadable (a row must still show). */
function parsed<T>(json: string | null | undefined): T | undefined {
  if (typeof json !== 'string' || !json) return undefined;
  try {
    return JSON.parse(json) as T;
  } catch {
    return undefined;
  }
}

const AUTHOR_KINDS = new Set(['contact', 'agent', 'operator', 'system']);

/** kind and name of a row's author; rows older than authors: the visitor inbound, the agent outbound. */
export function webChatAuthor(r: Pick<MessageRow, 'direction'> & { author?: string | null }): WebChatMessage['author'] {
  const a = parsed<{ kind?: unknown; name?: unknown }>(r.author);
  const kind = typeof a?.kind === 'string' && AUTHOR_KINDS.has(a.kind) ? a.kind : r.direction === 'out' ? 'agent' : 'contact';
  const name = typeof a?.name === 'string' && a.name.trim() ? a.name.trim() : undefined;
  return name ? { kind, name } : { kind };
}

/**
 * Whether the visitor may see a row: not an agent answer held back while humans drive
 * (`suppressed`: stored for operators and the agent's history, never sent to the person).
 */
export function visibleToVisitor(r: Pick<MessageRow, 'direction' | 'status'>): boolean {
  return !(r.direction === 'out' && r.status === 'suppressed');
}

export function toWebChatMessage(r: MessageRow, attachments?: MediaItem[]): WebChatMessage {
  const out = r.direction === 'out';
  const m: WebChatMessage = {
    id: r.id, direction: out ? 'out' : 'in', text: r.text ?? '', status: r.status, client_message_id: out ? null : r.provider_message_id,
    author: webChatAuthor(r), created_at: r.created_at, updated_at: r.updated_at,
  };
  // An answer's uploads signed when it was pushed (send-job), for uploads sent more than once.
  // A row without content (older fixtures, a partial insert) simply has none.
  const content = typeof r.content === 'string' ? r.content : '';
  const files = attachments?.length ? attachments : out && content.includes('"widget_attachments"') ? parsed<{ widget_attachments?: MediaItem[] }>(content)?.widget_attachments : undefined;
  if (Array.isArray(files) && files.length) m.attachments = files;
  return m;
}

export class WebChatHub {
  private readonly subs = new Map<string, Set<WebChatListener>>();
  /** Offsets of the deltas this node has published, per message. */
  private readonly sent = new Map<string, { length: number; at: number }>();
  /** Streamed text heard so far (from any node), per message, for widgets that connect mid-stream. */
  private readonly partial = new Map<string, Partial>();
  private readonly off: () => void;

  constructor(
    private readonly notifier: Notifier,
    private readonly messages: MessageReader,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.off = notifier.on('webchat', (payload) => void this.receive(payload).catch(this.onError));
  }

  /** A message row of the conversation was stored or changed: every watching widget re-reads it. */
  async publishMessage(conversationId: string, messageId: string): Promise<void> {
    await this.send({ t: 'm', c: conversationId, m: messageId });
  }

  /** More streamed text of message `messageId` (not stored: the final row comes with publishMessage). */
  async publishDelta(conversationId: string, messageId: string, deltaText: string): Promise<void> {
    if (!deltaText) return;
    const s = this.sent.get(messageId) ?? { length: 0, at: 0 };
    // Offsets are taken before awaiting, so concurrent calls still get consecutive ranges.
    const notes: Note[] = [];
    for (const chunk of chunks(deltaText, DELTA_CHUNK)) {
      notes.push({ t: 'd', c: conversationId, m: messageId, o: s.length, x: chunk });
      s.length += chunk.length;
    }
    s.at = Date.now();
    this.sent.set(messageId, s);
    this.prune(this.sent);
    for (const n of notes) await this.send(n);
  }

  /** The agent is working on an answer (or stopped): widgets show a thinking indicator. */
  async publishTyping(conversationId: string, active = true): Promise<void> {
    await this.send({ t: 'y', c: conversationId, a: active });
  }

  /** Calls `listener` for each event of the conversation until the returned function is called. */
  subscribe(conversationId: string, listener: WebChatListener): () => void {
    let set = this.subs.get(conversationId);
    if (!set) this.subs.set(conversationId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.subs.get(conversationId) === set) this.subs.delete(conversationId);
    };
  }

  /** Text streamed so far for the conversation's unfinished answers (for a widget that just connected). */
  partials(conversationId: string): { messageId: string; text: string }[] {
    const out: { messageId: string; text: string }[] = [];
    for (const [messageId, p] of this.partial) if (p.conversationId === conversationId) out.push({ messageId, text: p.text });
    return out;
  }

  subscriberCount(conversationId?: string): number {
    if (conversationId) return this.subs.get(conversationId)?.size ?? 0;
    let n = 0;
    for (const s of this.subs.values()) n += s.size;
    return n;
  }

  close(): void {
    this.off();
    this.subs.clear();
  }

  private async send(n: Note): Promise<void> {
    await this.notifier.publish('webchat', JSON.stringify(n));
  }

  private async receive(payload: string): Promise<void> {
    let n: Note;
    try {
      n = JSON.parse(payload) as Note;
    } catch {
      return;
    }
    if (!n || typeof n.c !== 'string') return;
    if (n.t === 'd') {
      this.remember(n.c, n.m, n.o, n.x);
      this.emit(n.c, { type: 'delta', conversationId: n.c, messageId: n.m, offset: n.o, text: n.x });
    } else if (n.t === 'y') {
      this.emit(n.c, { type: 'typing', conversationId: n.c, active: n.a !== false });
    } else if (n.t === 'm') {
      // Nobody watches here: no read. A leftover partial expires (and widgets ignore deltas of final messages).
      if (!this.subs.has(n.c)) return;
      const row = await this.messages.message(n.m);
      if (!row || row.conversation_id !== n.c || !visibleToVisitor(row)) return;
      if ((row.text ?? '') !== '') this.partial.delete(n.m);
      this.emit(n.c, { type: 'message', conversationId: n.c, message: toWebChatMessage(row, await this.messages.attachments?.(row.id)) });
    }
  }

  private remember(conversationId: string, messageId: string, offset: number, text: string): void {
    const p = this.partial.get(messageId) ?? { conversationId, text: '', at: 0 };
    // Only contiguous text is kept: a node that missed the start has nothing useful to replay.
    if (offset === p.text.length) p.text += text;
    else if (offset < p.text.length) p.text = p.text.slice(0, offset) + text;
    else return;
    p.at = Date.now();
    this.partial.set(messageId, p);
    this.prune(this.partial);
  }

  private emit(conversationId: string, e: WebChatEvent): void {
    const set = this.subs.get(conversationId);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(e);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  private prune(map: Map<string, { at: number }>): void {
    if (map.size < 64) return;
    const cutoff = Date.now() - PARTIAL_TTL_MS;
    for (const [k, v] of map) if (v.at < cutoff || map.size > MAX_PARTIALS) map.delete(k);
  }
}

function* chunks(text: string, size: number): Generator<string> {
  let i = 0;
  while (i < text.length) {
    let end = Math.min(text.length, i + size);
    // Never split a surrogate pair between two notifications.
    const c = text.charCodeAt(end - 1);
    if (end < text.length && c >= 0xd800 && c <= 0xdbff) end--;
    yield text.slice(i, end);
    i = end;
  }
}

/** The hub for a process: `new WebChatHub(services.notifier, services.repos.conversations, log)`. */
export function makeWebChatHub(notifier: Notifier, messages: MessageReader, log?: { warn(obj: object, msg: string): void }): WebChatHub {
  return new WebChatHub(notifier, messages, (err) => log?.warn({ err: (err as Error)?.message }, 'web chat notification failed'));
}
