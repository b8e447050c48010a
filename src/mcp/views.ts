/**
 * The shapes MCP tools return: the REST API's own (conversation, history message with its media
 * items), so an MCP agent and an HTTP agent read identical objects.
 */
import { toConversationView, toHistoryMessage } from '../core/conversations.js';
import type { ConversationRow, MessageRow } from '../store/repos/inbox.js';

export function conversationView(c: ConversationRow): Record<string, unknown> {
  return { ...toConversationView(c) };
}

export function messageView(m: MessageRow, attachments: unknown[] = []): Record<string, unknown> {
  return { ...toHistoryMessage(m), attachments };
}
