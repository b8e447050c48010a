/**
 * Conversations: the list (filters, keyset paging), one conversation, its history in the shape an
 * LLM can read (cursors are message ids), and its lifecycle and driver: close/reopen,
 * handoff/resume. Domain logic is in core/conversations.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../core/services.js';
import { toConversationView, toHistoryMessage } from '../../core/conversations.js';
import { valueError } from '../../errors.js';
import { decodeConversationCursor as decodeCursor, encodeConversationCursor as encodeCursor } from '../../core/conversation-cursor.js';
import { conversationListSchema, conversationSchema, historySchema } from '../conversation-schemas.js';
import { defineRoute } from '../route.js';
import { instancePath } from '../schemas.js';
import { int, isoTime, literal, model, nullable, str, uuid } from '../validation/fields.js';

const convPath = model({ instance_id: { field: uuid(), required: true }, conversation_id: { field: uuid(), required: true } });
const listQuery = model({
  status: { field: literal(['open', 'closed'] as const) },
  mode: { field: literal(['agent', 'human'] as const) },
  channel_id: { field: uuid() },
  updated_since: { field: isoTime({ description: 'Only conversations updated at or after this ISO-8601 time (e.g. 2026-01-31T12:00:00Z).' }) },
  limit: { field: int({ ge: 1, le: 500 }), default: () => 100 },
  cursor: { field: str({ maxLength: 200, description: 'next_cursor of the previous page.' }) },
});
const historyQuery = model({
  order: { field: literal(['asc', 'desc'] as const, { description: 'Order of the returned window: asc (oldest first, the default) or desc.' }), default: () => 'asc' as const },
  limit: { field: int({ ge: 1, le: 1000 }), default: () => 100 },
  before: { field: uuid({ description: 'A message id: the messages just before it.' }) },
  after: { field: uuid({ description: 'A message id: the messages just after it.' }) },
});
const handoffBody = model(
  {
    reason: { field: nullable(str({ maxLength: 1000, description: 'Why humans take over (shown to operators, sent in conversation.handoff).' })) },
    assignee: { field: nullable(str({ maxLength: 255, description: 'The operator it is handed to.' })) },
  },
  { title: 'Handoff' },
);

export function conversationRoutes(app: FastifyInstance, s: Services): void {
  const tags = ['Conversations'];

  defineRoute(app, {
    method: 'GET', url: '/v1/instances/:instance_id/conversations', summary: 'List conversations (most recently active first)', tags,
    params: instancePath, query: listQuery,
    responses: { 200: conversationListSchema },
    async handler({ principal, params, query }) {
      await s.instances.require(principal, params.instance_id);
      const rows = await s.repos.conversations.list(params.instance_id, query.limit + 1, {
        status: query.status, mode: query.mode, channelId: query.channel_id, updatedSince: query.updated_since, ...(query.cursor ? { after: decodeCursor(query.cursor) } : {}),
      });
      const page = rows.slice(0, query.limit);
      const last = page[page.length - 1];
      const conversations = page.map(toConversationView);
      return { conversations, count: conversations.length, next_cursor: rows.length > query.limit && last ? encodeCursor(last.updated_at, last.id) : null };
    },
  });

  defineRoute(app, {
    method: 'GET', url: '/v1/instances/:instance_id/conversations/:conversation_id', summary: 'Get a conversation', tags,
    params: convPath,
    responses: { 200: conversationSchema },
    async handler({ principal, params }) {
      await s.instances.require(principal, params.instance_id);
      return toConversationView(await s.conversations.get(params.instance_id, params.conversation_id));
    },
  });

  defineRoute(app, {
    method: 'GET', url: '/v1/instances/:instance_id/conversations/:conversation_id/messages', summary: 'Conversation history (message ids as cursors)', tags,
    params: convPath, query: historyQuery,
    responses: { 200: historySchema },
    async handler({ principal, params, query }) {
      await s.instances.require(principal, params.instance_id);
      const conv = await s.conversations.get(params.instance_id, params.conversation_id);
      const cursor = async (name: 'before' | 'after', id: string | undefined) => {
        if (!id) return undefined;
        const m = await s.repos.conversations.message(id);
        if (!m || m.conversation_id !== conv.id) throw valueError(['query', name], 'no message with this id in this conversation', id);
        return m;
      };
      const [before, after] = [await cursor('before', query.before), await cursor('after', query.after)];
      const { rows, more } = await s.repos.conversations.history(conv.id, { limit: query.limit, before, after });
      const media = await s.media.itemsForMessages(rows.map((r) => r.id));
      const messages = rows.map((r) => ({ ...toHistoryMessage(r), attachments: media.get(r.id) ?? [] }));
      if (query.order === 'desc') messages.reverse();
      return { messages, count: messages.length, has_more: more };
    },
  });

  const action = (url: string, summary: string, run: (instanceId: string, id: string, body: { reason?: string | null; assignee?: string | null } | undefined) => Promise<Parameters<typeof toConversationView>[0]>, withBody = false) =>
    defineRoute(app, {
      method: 'POST', url: `/v1/instances/:instance_id/conversations/:conversation_id/${url}`, summary, tags,
      params: convPath, ...(withBody ? { body: handoffBody } : {}),
      responses: { 200: conversationSchema },
      async handler({ principal, params, body }) {
        await s.instances.require(principal, params.instance_id);
        return toConversationView(await run(params.instance_id, params.conversation_id, body as { reason?: string | null; assignee?: string | null } | undefined));
      },
    });

  action('close', 'Close a conversation (the next message opens a new one)', (i, id) => s.conversations.close(i, id, { kind: 'operator' }));
  action('reopen', 'Reopen a closed conversation', (i, id) => s.conversations.reopen(i, id, { kind: 'operator' }));
  action('handoff', 'Hand a conversation to humans (mode "human")', (i, id, b) => s.conversations.handoff(i, id, { reason: b?.reason ?? null, ...(b?.assignee !== undefined ? { assignee: b.assignee } : {}), by: { kind: 'operator' } }), true);
  action('resume', 'Give a conversation back to the agent (mode "agent")', (i, id) => s.conversations.resume(i, id, { by: { kind: 'operator' } }));
}
