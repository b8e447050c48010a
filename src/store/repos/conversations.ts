import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { ConversationRow, MessageRow } from './inbox.js';

export class ConversationsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  get(id: string): Promise<ConversationRow | undefined> {
    return this.db.selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(instanceId: string, limit: number, channelId?: string): Promise<ConversationRow[]> {
    let q = this.db.selectFrom('conversations').selectAll().where('instance_id', '=', instanceId);
    if (channelId) q = q.where('channel_id', '=', channelId);
    return q.orderBy('updated_at', 'desc').limit(limit).execute();
  }

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

  /** The latest `limit` messages of a conversation, oldest first (a model's context window). */
  async recentMessages(conversationId: string, limit: number): Promise<MessageRow[]> {
    const rows = await this.db.selectFrom('messages').selectAll().where('conversation_id', '=', conversationId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.reverse();
  }
}
