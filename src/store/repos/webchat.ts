/** The reads the web chat widget needs: a visitor's conversation and its messages by time. */
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { ConversationRow, MessageRow } from './inbox.js';

export class WebChatRepo {
  constructor(private readonly db: Kysely<Database>) {}

  conversationOf(channelId: string, key: string): Promise<ConversationRow | undefined> {
    return this.db.selectFrom('conversations').selectAll().where('channel_id', '=', channelId).where('key', '=', key).executeTakeFirst();
  }

  /** The last `limit` messages, oldest first. */
  async recent(conversationId: string, limit: number): Promise<MessageRow[]> {
    const rows = await this.db.selectFrom('messages').selectAll().where('conversation_id', '=', conversationId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.reverse();
  }

  /** Messages created or changed at or after `since` (ISO time), in that order. */
  changedSince(conversationId: string, since: string, limit: number): Promise<MessageRow[]> {
    return this.db.selectFrom('messages').selectAll().where('conversation_id', '=', conversationId).where('updated_at', '>=', since).orderBy('updated_at').orderBy('id').limit(limit).execute();
  }

  inboundByProviderId(conversationId: string, providerMessageId: string): Promise<MessageRow | undefined> {
    return this.db
      .selectFrom('messages')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .where('provider_message_id', '=', providerMessageId)
      .where('direction', '=', 'in')
      .executeTakeFirst();
  }
}
