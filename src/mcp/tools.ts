/**
 * The MCP tools: each one a thin call into the core services (never HTTP to ourselves), scoped by
 * the caller's API key exactly as the REST API is (another tenant's ids are "not found"). Inputs
 * are JSON-schema'd (zod), outputs structured; a refused call is an MCP tool error whose text is
 * the API's `detail`.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { decodeConversationCursor, encodeConversationCursor } from '../core/conversation-cursor.js';
import { canSeeInstance, type Principal } from '../core/principal.js';
import type { Services } from '../core/services.js';
import { AppError, BadRequest, Conflict, NotFound, ValidationFailed } from '../errors.js';
import type { ConversationRow, MessageRow } from '../store/repos/inbox.js';
import { conversationView, messageView } from './views.js';
import { startConversation } from './start.js';
import { waitForMessages } from './wait.js';

/** The conversation lifecycle (core/conversations.ts), when this build has it. */
export interface Lifecycle {
  handoff(instanceId: string, id: string, p: { reason?: string | null; assignee?: string | null; by?: { kind: 'agent' | 'operator'; name?: string } }): Promise<ConversationRow>;
  resume(instanceId: string, id: string, p?: { reason?: string; by?: { kind: 'agent' | 'operator' } }): Promise<ConversationRow>;
  close(instanceId: string, id: string, by?: { kind: 'agent' | 'operator' }): Promise<ConversationRow>;
}

export type PrincipalOf = (extra: { authInfo?: { extra?: Record<string, unknown> } }) => Principal;

/** Largest file get_media returns inline (MCP content is base64 in one JSON message). */
const MAX_INLINE_MEDIA = 10 * 1024 * 1024;

/** The API's `detail` for an error, as the REST API would have answered it. */
export function errorDetail(err: unknown): string {
  if (err instanceof ValidationFailed) return JSON.stringify(err.issues.map(({ input: _i, ...rest }) => rest));
  if (err instanceof AppError) return err.message;
  return 'Internal error';
}

function ok(structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}

function failed(err: unknown): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: errorDetail(err) }] };
}

const conversationId = z.string().uuid().describe('Conversation id');
const attachment = z.object({ url: z.string().url().optional(), media_id: z.string().uuid().optional(), kind: z.string().max(20).optional(), file_name: z.string().max(255).optional() });

export function registerTools(server: McpServer, s: Services, principalOf: PrincipalOf, lifecycle: () => Lifecycle | undefined): void {
  async function instanceFor(p: Principal, instanceId: string | undefined): Promise<string> {
    if (instanceId) return (await s.instances.require(p, instanceId)).id;
    if (p.kind === 'scoped' && p.instanceIds.size === 1) return [...p.instanceIds][0];
    throw new BadRequest('instance_id is required: this API key sees more than one instance (list_instances shows them).');
  }

  async function conversation(p: Principal, id: string): Promise<ConversationRow> {
    const c = await s.repos.conversations.get(id);
    if (!c || !canSeeInstance(p, c.instance_id)) throw new NotFound('Conversation not found');
    return c;
  }

  async function messagesWithMedia(rows: MessageRow[]) {
    const media = await s.media.itemsForMessages(rows.map((m) => m.id));
    return rows.map((m) => messageView(m, media.get(m.id) ?? []));
  }

  function lifecycleOrFail(): Lifecycle {
    const l = lifecycle();
    if (!l) throw new Conflict('Conversation handoff and closing are not available on this server version.');
    return l;
  }

  const tool = <S extends z.ZodRawShape>(name: string, description: string, inputSchema: S, run: (args: z.infer<z.ZodObject<S>>, p: Principal, signal?: AbortSignal) => Promise<Record<string, unknown>>) =>
    server.registerTool(name, { description, inputSchema }, (async (args: z.infer<z.ZodObject<S>>, extra: Parameters<PrincipalOf>[0] & { signal?: AbortSignal }) => {
      try {
        return ok(await run(args, principalOf(extra), extra.signal));
      } catch (err) {
        if (!(err instanceof AppError)) s.log.error({ err, tool: name }, 'MCP tool failed');
        return failed(err);
      }
    }) as never);

  tool('list_instances', 'The agent instances this API key can see.', {}, async (_a, p) => {
    const instances = await s.instances.list(p);
    return { instances, count: instances.length };
  });

  tool('list_channels', 'The channels (Telegram bot, WhatsApp number, SMS number, email address, web chat...) of an instance.', { instance_id: z.string().uuid().optional() }, async (a, p) => {
    const channels = await s.channels.list(await instanceFor(p, a.instance_id));
    return { channels, count: channels.length };
  });

  tool(
    'list_conversations',
    'Conversations of an instance, most recently active first; pass next_cursor as cursor for the next page.',
    {
      instance_id: z.string().uuid().optional(),
      status: z.enum(['open', 'closed']).optional(),
      mode: z.enum(['agent', 'human']).optional(),
      channel_id: z.string().uuid().optional(),
      updated_since: z.string().datetime({ offset: true }).optional().describe('ISO-8601 time: only conversations updated at or after it'),
      limit: z.number().int().min(1).max(200).optional(),
      cursor: z.string().max(200).optional().describe('next_cursor of the previous page'),
    },
    async (a, p) => {
      const instanceId = await instanceFor(p, a.instance_id);
      const limit = a.limit ?? 50;
      // Every filter is part of the query, so a page is full whenever enough conversations match.
      const rows = await s.repos.conversations.list(instanceId, limit + 1, {
        status: a.status,
        mode: a.mode,
        channelId: a.channel_id,
        ...(a.updated_since ? { updatedSince: new Date(a.updated_since).toISOString() } : {}),
        ...(a.cursor ? { after: decodeConversationCursor(a.cursor, ['cursor']) } : {}),
      });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const conversations = page.map(conversationView);
      return { conversations, count: conversations.length, next_cursor: rows.length > limit && last ? encodeConversationCursor(last.updated_at, last.id) : null };
    },
  );

  tool('get_conversation', 'One conversation: status, mode (agent or human), contact, times.', { conversation_id: conversationId }, async (a, p) => conversationView(await conversation(p, a.conversation_id)));

  tool(
    'get_messages',
    'The messages of a conversation (author, text, attachments as media items): the latest `limit`, or those just before / after a message id; oldest first unless order is desc.',
    {
      conversation_id: conversationId,
      order: z.enum(['asc', 'desc']).optional(),
      limit: z.number().int().min(1).max(200).optional(),
      before: z.string().uuid().optional().describe('A message id: the messages just before it'),
      after: z.string().uuid().optional().describe('A message id: the messages just after it'),
    },
    async (a, p) => {
      const c = await conversation(p, a.conversation_id);
      const cursor = async (name: 'before' | 'after', id: string | undefined) => {
        if (!id) return undefined;
        const m = await s.repos.conversations.message(id);
        if (!m || m.conversation_id !== c.id) throw new BadRequest(`${name}: no message with this id in this conversation`);
        return m;
      };
      const { rows, more } = await s.repos.conversations.history(c.id, { limit: a.limit ?? 50, before: await cursor('before', a.before), after: await cursor('after', a.after) });
      const messages = await messagesWithMedia(rows);
      if (a.order === 'desc') messages.reverse();
      return { messages, count: messages.length, has_more: more };
    },
  );

  tool(
    'send_message',
    'Send a message (Markdown, rendered natively for the channel) into a conversation. An idempotency_key makes retries safe: the same key never sends twice.',
    {
      conversation_id: conversationId,
      text: z.string().max(100_000).optional(),
      attachments: z.array(attachment).max(10).optional(),
      reply_to: z.string().uuid().optional().describe('Id of the message this answers'),
      idempotency_key: z.string().min(1).max(255).optional(),
    },
    async (a, p) => {
      const c = await conversation(p, a.conversation_id);
      if (a.text === undefined && !a.attachments?.length) throw new BadRequest('text or attachments is required');
      const input = { ...(a.text !== undefined ? { text: a.text } : {}), ...(a.attachments ? { attachments: a.attachments as { url: string }[] } : {}), ...(a.reply_to ? { reply_to: a.reply_to } : {}) };
      const r = await s.outbound.enqueue(c.instance_id, c.id, input, a.idempotency_key);
      return { message: r.message as unknown as Record<string, unknown>, duplicate: r.duplicate };
    },
  );

  tool(
    'start_conversation',
    'Write first to someone on a channel, or continue their open conversation: an SMS or WhatsApp number (WhatsApp needs a template outside the 24-hour window), an email address (a new thread, or their open one when no subject is given), or a Telegram / web chat that wrote before. Sends the first message when text or template is given.',
    {
      channel_id: z.string().uuid(),
      recipient: z.string().min(1).max(320).describe('Phone number (E.164), WhatsApp number, email address, or Telegram chat id'),
      text: z.string().max(100_000).optional().describe('The message, Markdown (required for email)'),
      subject: z.string().max(998).optional().describe('Email only: the subject of a new thread (default: the first line of text)'),
      template: z.object({ name: z.string().min(1).max(512), language: z.string().min(2).max(15), components: z.array(z.record(z.string(), z.unknown())).optional() }).optional().describe('WhatsApp only: a template message'),
      idempotency_key: z.string().min(1).max(255).optional(),
    },
    async (a, p) => startConversation(s, p, a),
  );

  tool('handoff', 'Hand the conversation to a human operator (mode "human"): the agent stops answering until resume.', { conversation_id: conversationId, reason: z.string().max(1000).optional(), assignee: z.string().max(255).optional() }, async (a, p) => {
    const c = await conversation(p, a.conversation_id);
    return conversationView(await lifecycleOrFail().handoff(c.instance_id, c.id, { reason: a.reason ?? null, ...(a.assignee ? { assignee: a.assignee } : {}), by: { kind: 'agent' } }));
  });

  tool('resume', 'Give the conversation back to the agent (mode "agent").', { conversation_id: conversationId }, async (a, p) => {
    const c = await conversation(p, a.conversation_id);
    return conversationView(await lifecycleOrFail().resume(c.instance_id, c.id, { by: { kind: 'agent' } }));
  });

  tool('close_conversation', "Close the conversation; the person's next message opens a new one.", { conversation_id: conversationId }, async (a, p) => {
    const c = await conversation(p, a.conversation_id);
    return conversationView(await lifecycleOrFail().close(c.instance_id, c.id, { kind: 'agent' }));
  });

  server.registerTool(
    'get_media',
    { description: 'The bytes of a media item (an image, voice note, document...) as MCP image / audio / resource content.', inputSchema: { media_id: z.string().uuid() } },
    async (a, extra) => {
      try {
        const p = principalOf(extra as Parameters<PrincipalOf>[0]);
        const row = await s.media.repo.get(a.media_id);
        if (!row || !canSeeInstance(p, row.instance_id)) throw new NotFound('Media not found');
        if (row.status !== 'ready') throw new Conflict(`This media item is ${row.status}: there are no bytes to return.`);
        if (Number(row.size ?? 0) > MAX_INLINE_MEDIA) throw new Conflict(`This file is larger than ${MAX_INLINE_MEDIA} bytes; download it from its url instead.`);
        const item = s.media.item(row);
        const data = (await s.media.bytes(row)).toString('base64');
        const mimeType = row.mime_type ?? 'application/octet-stream';
        const content: CallToolResult['content'] = mimeType.startsWith('image/')
          ? [{ type: 'image', data, mimeType }]
          : mimeType.startsWith('audio/')
            ? [{ type: 'audio', data, mimeType }]
            : [{ type: 'resource', resource: { uri: item.url ?? `switchboard://media/${row.id}`, mimeType, blob: data } }];
        return { content: [...content, { type: 'text', text: JSON.stringify(item) }] };
      } catch (err) {
        return failed(err);
      }
    },
  );

  tool(
    'wait_for_messages',
    "Waits (long-poll, at most timeout_seconds) for people's new messages after a cursor; returns them with the next cursor. Without a cursor, waits for messages from now on.",
    {
      instance_id: z.string().uuid().optional(),
      conversation_id: conversationId.optional(),
      after: z.string().regex(/^\d+$/).optional().describe('next_cursor of the previous call'),
      timeout_seconds: z.number().int().min(0).max(60).optional(),
    },
    async (a, p, signal) => {
      const c = a.conversation_id ? await conversation(p, a.conversation_id) : undefined;
      const instanceId = c ? c.instance_id : await instanceFor(p, a.instance_id);
      // The signal ends the wait when the session closes (its API key deleted, the client gone).
      return waitForMessages(s, { instanceId, conversationId: c?.id, after: a.after !== undefined ? Number(a.after) : undefined, timeoutMs: (a.timeout_seconds ?? 25) * 1000, signal });
    },
  );
}
