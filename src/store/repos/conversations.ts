/**
 * Conversations and their history: listing with filters and keyset paging, one conversation, its
 * messages around a cursor, and the lifecycle/mode writes (run inside the transaction that also
 * records the matching event, see Inbox.emit).
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { ConversationRow, MessageRow, Tx } from './inbox.js';

export interface ConversationFilter {
  status?: string;
  mode?: string;
  channelId?: string;
  /** Only conversations updated at or after this ISO time (stored times are ISO strings, so text order is time order). */
  updatedSince?: string;
  /** Keyset cursor: conversations after this (updated_at, id) in the list order. */
  after?: { updatedAt: string; id: string };
}

export interface HistoryWindow {
  limit: number;
  before?: Pick<MessageRow, 'created_at' | 'id'>;
  after?: Pick<MessageRow, 'created_at' | 'id'>;
}

export class ConversationsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  get(id: string): Promise<ConversationRow | undefined> {
    return this.db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Most recently active first (updated_at desc, id desc): the order an inbox shows. */
  list(instanceId: string, limit: number, filter: ConversationFilter | string = {}): Promise<ConversationRow[]> {
    const f: ConversationFilter = typeof filter === 'string' ? { channelId: filter } : filter;
    let q = this.db.selectFrom('conversations').selectAll().where('instance_id', '=', instanceId);
    if (f.channelId) q = q.where('channel_id', '=', f.channelId);
    if (f.status) q = q.where('status', '=', f.status);
    if (f.mode) q = q.where('mode', '=', f.mode);
    if (f.updatedSince) q = q.where('updated_at', '>=', f.updatedSince);
    if (f.after) {
      const a = f.after;
      q = q.where((eb) => eb.or([eb('updated_at', '<', a.updatedAt), eb.and([eb('updated_at', '=', a.updatedAt), eb('id', '<', a.id)])]));
    }
    return q.orderBy('updated_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }

  /**
   * The channel's conversation with `key`: the open one, else the latest closed one that had it
   * (closing gives the key up into thread_key). Undefined when nobody with this key ever wrote.
   */
  async byKey(channelId: string, key: string): Promise<ConversationRow | undefined> {
    const open = await this.db.selectFrom('conversations').selectAll().where('channel_id', '=', channelId).where('key', '=', key).executeTakeFirst();
    if (open) return open;
    return this.db.selectFrom('conversations').selectAll().where('channel_id', '=', channelId).where('thread_key', '=', key).orderBy('updated_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
  }

  /**
   * The most recently active open conversation of the channel whose contact has this email
   * address (email conversations are keyed by thread, so one person may have several).
   */
  async openWithEmail(channelId: string, email: string): Promise<ConversationRow | undefined> {
    // A text pre-filter on the stored JSON keeps it one indexed scan on both stores; the exact
    // match is checked on the parsed participant.
    const rows = await this.db
      .selectFrom('conversations')
      .selectAll()
      .where('channel_id', '=', channelId)
      .where('status', '=', 'open')
      .where('participant', 'like', `%${email.replace(/[\\%_"]/g, '_')}%`)
      .orderBy('updated_at', 'desc')
      .orderBy('id', 'desc')
      .limit(50)
      .execute();
    return rows.find((r) => {
      try {
        const p = JSON.parse(r.participant ?? '{}') as { id?: unknown; email?: unknown };
        return String(p.email ?? p.id ?? '').toLowerCase() === email;
      } catch {
        return false;
      }
    });
  }

  /**
   * A window of a conversation's messages in (created_at, id) order: the `limit` right after
   * `after`, else the `limit` right before `before`, else the latest `limit`. Returned oldest
   * first; `more` says whether messages exist beyond the window in the direction it was taken.
   */
  async history(conversationId: string, w: HistoryWindow): Promise<{ rows: MessageRow[]; more: boolean }> {
    let q = this.db.selectFrom('messages').selectAll().where('conversation_id', '=', conversationId);
    const { before, after } = w;
    if (after) q = q.where((eb) => eb.or([eb('created_at', '>', after.created_at), eb.and([eb('created_at', '=', after.created_at), eb('id', '>', after.id)])]));
    if (before) q = q.where((eb) => eb.or([eb('created_at', '<', before.created_at), eb.and([eb('created_at', '=', before.created_at), eb('id', '<', before.id)])]));
    const forward = after !== undefined;
    const rows = await q
      .orderBy('created_at', forward ? 'asc' : 'desc')
      .orderBy('id', forward ? 'asc' : 'desc')
      .limit(w.limit + 1)
      .execute();
    const more = rows.length > w.limit;
    const page = rows.slice(0, w.limit);
    return { rows: forward ? page : page.reverse(), more };
  }

  /** Oldest first, at most `limit` (the old, unpaged read; kept for internal callers). */
  messages(conversationId: string, limit: number): Promise<MessageRow[]> {
    return this.db.selectFrom('messages').selectAll().where('conversation_id', '=', conversationId).orderBy('created_at').orderBy('id').limit(limit).execute();
  }

  /** Merges `patch` into the conversation's provider state (JSON). */
  async mergeState(id: string, patch: Record<string, unknown>, now: string): Promise<void> {
    const row = await this.db.selectFrom('conversations').select('state').where('id', '=', id).executeTakeFirst();
    if (!row) return;
    let state: Record<string, unknown> = {};
    try {
      state = JSON.parse(row.state || '{}') as Record<string, unknown>;
    } catch {
      state = {};
    }
    await this.db.updateTable('conversations').set({ state: JSON.stringify({ ...state, ...patch }), updated_at: now }).where('id', '=', id).execute();
  }

  message(id: string): Promise<MessageRow | undefined> {
    return this.db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The message an instance stored under an idempotency key (API Idempotency-Key, `event:<id>`, `voice:<id>`). */
  messageByIdempotencyKey(instanceId: string, key: string): Promise<MessageRow | undefined> {
    return this.db.selectFrom('messages').selectAll().where('instance_id', '=', instanceId).where('idempotency_key', '=', key).executeTakeFirst();
  }

  /** The conversation's latest inbound message (email threading answers it). */
  lastInbound(conversationId: string): Promise<Pick<MessageRow, 'content'> | undefined> {
    return this.db.selectFrom('messages').select('content').where('conversation_id', '=', conversationId).where('direction', '=', 'in').orderBy('created_at', 'desc').limit(1).executeTakeFirst();
  }

  /** Whether a message other than `exceptId` has gone out to the provider (it has a provider id). */
  async hasSentOutbound(conversationId: string, exceptId: string): Promise<boolean> {
    const r = await this.db.selectFrom('messages').select('id').where('conversation_id', '=', conversationId).where('direction', '=', 'out').where('provider_message_id', 'is not', null).where('id', '!=', exceptId).limit(1).executeTakeFirst();
    return r !== undefined;
  }

  /** Replaces a conversation's state (inside the transaction that opens it). */
  async setState(trx: Tx, id: string, state: Record<string, unknown>): Promise<void> {
    await trx.updateTable('conversations').set({ state: JSON.stringify(state) }).where('id', '=', id).execute();
  }

  /** A new assignee for a conversation already in human mode (no mode change, no event). */
  async setAssignee(id: string, assignee: string | null, now: string): Promise<void> {
    await this.db.updateTable('conversations').set({ assignee, updated_at: now }).where('id', '=', id).execute();
  }

  /** The latest `limit` messages of a conversation, oldest first (a model's context window). */
  async recentMessages(conversationId: string, limit: number): Promise<MessageRow[]> {
    const rows = await this.db.selectFrom('messages').selectAll().where('conversation_id', '=', conversationId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.reverse();
  }

  /** Open -> closed: the key is given up (kept in thread_key) so a new message opens a new conversation. */
  async close(trx: Tx, id: string, now: string): Promise<boolean> {
    const r = await trx
      .updateTable('conversations')
      .set({ status: 'closed', closed_at: now, updated_at: now, thread_key: sql`coalesce(thread_key, key)`, key: sql`${'closed\n'} || id` })
      .where('id', '=', id)
      .where('status', '=', 'open')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Closed -> open: takes the key back; a unique violation means a newer conversation holds it. */
  async reopen(trx: Tx, id: string, now: string): Promise<boolean> {
    const r = await trx
      .updateTable('conversations')
      .set({ status: 'open', closed_at: null, updated_at: now, key: sql`thread_key` })
      .where('id', '=', id)
      .where('status', '=', 'closed')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Sets the mode (and assignee, reason); false when it already was that mode. */
  async setMode(trx: Tx, id: string, mode: 'agent' | 'human', p: { assignee?: string | null; reason?: string | null; now: string }): Promise<boolean> {
    const r = await trx
      .updateTable('conversations')
      .set({ mode, mode_reason: p.reason ?? null, mode_changed_at: p.now, updated_at: p.now, ...(p.assignee !== undefined ? { assignee: p.assignee } : {}) })
      .where('id', '=', id)
      .where('mode', '!=', mode)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** An outbound message was accepted: the conversation's activity times move. */
  async touch(trx: Tx, id: string, now: string): Promise<void> {
    await trx.updateTable('conversations').set({ last_message_at: now, updated_at: now }).where('id', '=', id).execute();
  }

  /** Human-mode conversations with no message since `before` (candidates for the idle resume). */
  idleHuman(before: string, limit: number): Promise<Pick<ConversationRow, 'id' | 'instance_id' | 'channel_id' | 'last_message_at' | 'mode_changed_at'>[]> {
    return this.db
      .selectFrom('conversations')
      .select(['id', 'instance_id', 'channel_id', 'last_message_at', 'mode_changed_at'])
      .where('mode', '=', 'human')
      .where((eb) => eb.or([eb('last_message_at', '<', before), eb('last_message_at', 'is', null)]))
      .orderBy('last_message_at')
      .limit(limit)
      .execute();
  }
}
