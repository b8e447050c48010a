/**
 * Conversations as a resource: their public shape, history messages in the shape an LLM can read,
 * and the lifecycle (close/reopen) and driver (agent/human) changes, each committed together with
 * its event (conversation.closed, conversation.opened, conversation.handoff, conversation.resumed).
 */
import type { Logger } from 'pino';
import { Conflict, NotFound } from '../errors.js';
import { isUniqueViolation } from '../store/errors.js';
import { newId } from '../store/ids.js';
import type { ConversationRow, MessageInsert, Tx } from '../store/repos/inbox.js';
import { threadKeyOf } from '../store/repos/inbox.js';
import type { Repos } from '../store/repos/index.js';
import type { Inbox } from './inbox.js';
import { toPublic } from './public-naming.js';

export type ConversationStatus = 'open' | 'closed';
export type ConversationMode = 'agent' | 'human';
export type AuthorKind = 'contact' | 'agent' | 'operator' | 'system';

export interface Author {
  kind: AuthorKind;
  id?: string;
  name?: string;
}

export interface ConversationView {
  id: string;
  instance_id: string;
  channel_id: string;
  status: ConversationStatus;
  mode: ConversationMode;
  assignee: string | null;
  contact: { id: string; name: string | null; [k: string]: unknown };
  /** The person/thread within the channel: Telegram chat id, wa_id, phone number, email thread root, call id. */
  key: string;
  /** Why the mode last changed (a handoff reason, `operator_message`, `idle`...). */
  mode_reason: string | null;
  created_at: string;
  updated_at: string;
  last_message_at: string | null;
  closed_at: string | null;
}

export function toConversationView(c: ConversationRow): ConversationView {
  const p = c.participant ? (JSON.parse(c.participant) as Record<string, unknown>) : {};
  const contact = { ...toPublic(p), id: typeof p.id === 'string' ? p.id : threadKeyOf(c), name: typeof p.name === 'string' ? p.name : null };
  return {
    id: c.id,
    instance_id: c.instance_id,
    channel_id: c.channel_id,
    status: c.status as ConversationStatus,
    mode: c.mode as ConversationMode,
    assignee: c.assignee,
    contact,
    key: threadKeyOf(c),
    mode_reason: c.mode_reason,
    created_at: c.created_at,
    updated_at: c.updated_at,
    last_message_at: c.last_message_at ?? c.last_inbound_at,
    closed_at: c.closed_at,
  };
}

export interface HistoryMessage {
  id: string;
  conversation_id: string;
  channel_id: string;
  direction: 'inbound' | 'outbound';
  author: Author;
  text: string | null;
  /** Media items (filled by the media pipeline; empty until then). */
  attachments: Record<string, unknown>[];
  in_reply_to: string | null;
  status: string;
  status_reason: string | null;
  provider_message_id: string | null;
  error: unknown;
  /** The normalised message fields (snake_case; no provider raw payload). */
  content: Record<string, unknown>;
  created_at: string;
  sent_at: string | null;
  updated_at: string;
}

export function authorOf(m: Pick<MessageInsert, 'author' | 'direction' | 'content'>): Author {
  if (m.author) return JSON.parse(m.author) as Author;
  // Rows stored before authors existed: the person inbound, the agent outbound.
  if (m.direction === 'in') {
    const from = (JSON.parse(m.content) as { from?: { id?: string; name?: string } }).from;
    return { kind: 'contact', ...(from?.id ? { id: from.id } : {}), ...(from?.name ? { name: from.name } : {}) };
  }
  return { kind: 'agent' };
}

export function toHistoryMessage(m: MessageInsert): HistoryMessage {
  const error = m.error ? (JSON.parse(m.error) as unknown) : null;
  const content = toPublic(JSON.parse(m.content) as Record<string, unknown>);
  const attachments: Record<string, unknown>[] = [];
  return {
    id: m.id,
    conversation_id: m.conversation_id,
    channel_id: m.channel_id,
    direction: m.direction === 'in' ? 'inbound' : 'outbound',
    author: authorOf(m),
    text: m.text,
    attachments,
    in_reply_to: m.in_reply_to ?? null,
    status: m.status,
    status_reason: m.status_reason ?? null,
    provider_message_id: m.provider_message_id,
    error,
    content,
    created_at: m.created_at,
    sent_at: m.sent_at ?? null,
    updated_at: m.updated_at,
  };
}

/** Per-instance handoff settings (`instances.handoff`). */
export interface HandoffSettings {
  /** An operator's message in agent mode hands the conversation to humans. Default true. */
  operator_takeover: boolean;
  /** A human conversation with no message for this long goes back to the agent; 0 = never. */
  idle_resume_seconds: number;
}

export const DEFAULT_HANDOFF: HandoffSettings = { operator_takeover: true, idle_resume_seconds: 1800 };

export function handoffSettings(instance: { handoff?: string } | undefined): HandoffSettings {
  const raw = instance?.handoff ? (JSON.parse(instance.handoff) as Partial<HandoffSettings>) : {};
  return { ...DEFAULT_HANDOFF, ...raw };
}

export class ConversationsService {
  constructor(
    private readonly repos: Repos,
    private readonly inbox: Inbox,
    private readonly log: Logger,
  ) {}

  async get(instanceId: string, id: string): Promise<ConversationRow> {
    const c = await this.repos.conversations.get(id);
    if (!c || c.instance_id !== instanceId) throw new NotFound('Conversation not found');
    return c;
  }

  private async channelOf(c: ConversationRow) {
    const ch = await this.repos.channels.get(c.channel_id);
    if (!ch) throw new NotFound('Conversation not found');
    return ch;
  }

  private eventData(c: ConversationRow, extra: Record<string, unknown>): Record<string, unknown> {
    return { kind: 'conversation', ...extra };
  }

  async close(instanceId: string, id: string, by: Author = { kind: 'agent' }): Promise<ConversationRow> {
    const c = await this.get(instanceId, id);
    if (c.status === 'closed') return c;
    const now = new Date().toISOString();
    await this.inbox.emit(await this.channelOf(c), c.id, 'conversation.closed', this.eventData(c, { status: 'closed', mode: c.mode, by }), `conv:${c.id}:closed:${newId()}`, (trx) => this.repos.conversations.close(trx, c.id, now));
    return this.get(instanceId, id);
  }

  async reopen(instanceId: string, id: string, by: Author = { kind: 'agent' }): Promise<ConversationRow> {
    const c = await this.get(instanceId, id);
    if (c.status === 'open') return c;
    const now = new Date().toISOString();
    // A unique violation: a newer conversation holds the key. Turned into the 409 inside the
    // transaction, so it is not mistaken for a duplicate event.
    const reopen = async (trx: Tx) => {
      try {
        return await this.repos.conversations.reopen(trx, c.id, now);
      } catch (err) {
        if (isUniqueViolation(err)) throw new Conflict('A newer conversation with this contact is open on this channel; close it before reopening this one.');
        throw err;
      }
    };
    await this.inbox.emit(await this.channelOf(c), c.id, 'conversation.opened', this.eventData(c, { status: 'open', mode: c.mode, reason: 'reopened', by }), `conv:${c.id}:opened:${newId()}`, reopen);
    return this.get(instanceId, id);
  }

  /** Hands the conversation to humans; the agent keeps receiving its events (mode "human"). */
  async handoff(instanceId: string, id: string, p: { reason?: string | null; assignee?: string | null; by?: Author } = {}): Promise<ConversationRow> {
    const c = await this.get(instanceId, id);
    const now = new Date().toISOString();
    const reason = p.reason ?? null;
    const assignee = p.assignee === undefined ? c.assignee : p.assignee;
    if (c.mode === 'human') {
      // Already human: only a new assignee is recorded (no second handoff event).
      if (p.assignee !== undefined && p.assignee !== c.assignee) await this.repos.conversations.setAssignee(c.id, p.assignee, now);
      return this.get(instanceId, id);
    }
    await this.inbox.emit(await this.channelOf(c), c.id, 'conversation.handoff', this.eventData(c, { mode: 'human', reason, assignee, by: p.by ?? { kind: 'agent' } }), `conv:${c.id}:handoff:${newId()}`, (trx) =>
      this.repos.conversations.setMode(trx, c.id, 'human', { reason, assignee, now }),
    );
    return this.get(instanceId, id);
  }

  /** Gives the conversation back to the agent. */
  async resume(instanceId: string, id: string, p: { reason?: string; by?: Author } = {}): Promise<ConversationRow> {
    const c = await this.get(instanceId, id);
    if (c.mode === 'agent') return c;
    const now = new Date().toISOString();
    const reason = p.reason ?? null;
    await this.inbox.emit(await this.channelOf(c), c.id, 'conversation.resumed', this.eventData(c, { mode: 'agent', reason, by: p.by ?? { kind: 'operator' } }), `conv:${c.id}:resumed:${newId()}`, (trx) =>
      this.repos.conversations.setMode(trx, c.id, 'agent', { reason, assignee: null, now }),
    );
    return this.get(instanceId, id);
  }

  /**
   * Human conversations idle for longer than their instance's `idle_resume_seconds` go back to
   * the agent (`conversation.resumed`, reason "idle"). Run periodically by every node: the
   * mode change is conditional, so two nodes resuming one conversation raise one event.
   */
  async resumeIdle(nowMs = Date.now()): Promise<number> {
    // The shortest timeout any instance could have is not known up front: take candidates idle
    // for at least a second and check each against its instance's own setting.
    const rows = await this.repos.conversations.idleHuman(new Date(nowMs - 1000).toISOString(), 500);
    const settings = new Map<string, HandoffSettings>();
    let resumed = 0;
    for (const r of rows) {
      let s = settings.get(r.instance_id);
      if (!s) settings.set(r.instance_id, (s = handoffSettings(await this.repos.instances.get(r.instance_id))));
      if (!s.idle_resume_seconds) continue;
      const last = Math.max(Date.parse(r.last_message_at ?? '') || 0, Date.parse(r.mode_changed_at ?? '') || 0);
      if (nowMs - last < s.idle_resume_seconds * 1000) continue;
      try {
        const before = await this.repos.conversations.get(r.id);
        if (!before || before.mode !== 'human') continue;
        await this.resume(r.instance_id, r.id, { reason: 'idle', by: { kind: 'system' } });
        resumed++;
      } catch (err) {
        this.log.warn({ err: (err as Error).message, conversation: r.id }, 'resuming an idle conversation failed');
      }
    }
    return resumed;
  }
}
