/**
 * One MCP server per session: the tools (tools.ts) and the conversation resource
 * `switchboard://conversations/{id}` (the conversation and its latest messages as JSON), with
 * `resources/subscribe`: a subscribed conversation's new messages are announced with
 * `notifications/resources/updated` (the client then reads the resource again).
 */
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { canSeeInstance, type Principal } from '../core/principal.js';
import type { Services } from '../core/services.js';
import { NotFound } from '../errors.js';
import { registerTools, type Lifecycle, type PrincipalOf } from './tools.js';
import { conversationView, messageView } from './views.js';
import { latestCursor } from './wait.js';

const URI = /^switchboard:\/\/conversations\/([0-9a-f-]{36})$/i;

export interface SessionServer {
  server: McpServer;
  /** Stops listening for new events (the session ended). */
  dispose(): void;
}

export function buildMcpServer(s: Services, principal: Principal, lifecycle: () => Lifecycle | undefined): SessionServer {
  const server = new McpServer({ name: 'switchboard', version: '0.1.0' }, { capabilities: { resources: { subscribe: true, listChanged: false }, tools: {} } });
  // The session belongs to one API key (http.ts checks it on every request), so its principal is fixed.
  const principalOf: PrincipalOf = () => principal;
  registerTools(server, s, principalOf, lifecycle);

  async function visibleConversation(id: string) {
    const c = await s.repos.conversations.get(id);
    if (!c || !canSeeInstance(principal, c.instance_id)) throw new NotFound('Conversation not found');
    return c;
  }

  server.registerResource(
    'conversation',
    new ResourceTemplate('switchboard://conversations/{id}', { list: undefined }),
    { description: 'A conversation with its latest 50 messages (JSON); subscribe to hear of new ones.', mimeType: 'application/json' },
    async (uri, vars) => {
      const c = await visibleConversation(String(vars.id));
      const rows = await s.repos.conversations.recentMessages(c.id, 50);
      const media = await s.media.itemsForMessages(rows.map((m) => m.id));
      const body = { conversation: conversationView(c), messages: rows.map((m) => messageView(m, media.get(m.id) ?? [])) };
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(body) }] };
    },
  );

  // Subscriptions: conversation id -> its instance; per instance, the event cursor already looked at.
  const subs = new Map<string, string>();
  const cursors = new Map<string, number>();
  let checking = Promise.resolve();
  const off = s.notifier.on('events', (instanceId) => {
    const instances = instanceId ? [instanceId] : [...cursors.keys()];
    for (const i of instances) if (cursors.has(i)) checking = checking.then(() => announce(i)).catch((err: unknown) => s.log.warn({ err }, 'MCP resource notification failed'));
  });

  async function announce(instanceId: string): Promise<void> {
    const rows = await s.repos.events.after(instanceId, cursors.get(instanceId) ?? 0, 500);
    const touched = new Set<string>();
    for (const r of rows) {
      cursors.set(instanceId, Number(r.seq));
      if (r.conversation_id && subs.has(r.conversation_id)) touched.add(r.conversation_id);
    }
    for (const id of touched) await server.server.sendResourceUpdated({ uri: `switchboard://conversations/${id}` });
  }

  server.server.setRequestHandler(SubscribeRequestSchema, async (req) => {
    const m = URI.exec(req.params.uri);
    if (!m) throw new NotFound(`Unknown resource ${req.params.uri}`);
    const c = await visibleConversation(m[1].toLowerCase());
    subs.set(c.id, c.instance_id);
    if (!cursors.has(c.instance_id)) cursors.set(c.instance_id, await latestCursor(s, c.instance_id));
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
    const m = URI.exec(req.params.uri);
    if (m) subs.delete(m[1].toLowerCase());
    return {};
  });

  return { server, dispose: off };
}
