/**
 * `PUBLIC_URL/mcp`: the Model Context Protocol over Streamable HTTP (the official SDK's transport).
 * Authenticated like every API route (`Authorization: Bearer <key>`, by the auth hook), and each
 * session is bound to the key that opened it: another key presenting its id is told it does not
 * exist. Sessions live in this process (an MCP client keeps talking to the node it initialised
 * with; behind a load balancer, route on the `mcp-session-id` header) and end after 30 idle minutes.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Services } from '../core/services.js';
import { principalOf } from '../api/plugins/auth.js';
import { buildMcpServer, type SessionServer } from './server.js';
import type { Lifecycle } from './tools.js';

interface Session {
  transport: StreamableHTTPServerTransport;
  server: SessionServer;
  /** The API key that opened it. */
  owner: string;
  lastSeen: number;
}

const IDLE_MS = 30 * 60_000;
const MAX_SESSIONS = 1_000;

function rpcError(reply: FastifyReply, status: number, code: number, message: string) {
  return reply.code(status).type('application/json').send({ jsonrpc: '2.0', error: { code, message }, id: null });
}

export function mcpRoutes(app: FastifyInstance, s: Services): void {
  const sessions = new Map<string, Session>();
  const lifecycle = (): Lifecycle => s.conversations;

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const sess of sessions.values()) if (now - sess.lastSeen > IDLE_MS) void sess.transport.close();
  }, 60_000);
  sweep.unref();
  app.addHook('onClose', async () => {
    clearInterval(sweep);
    await Promise.all([...sessions.values()].map((sess) => sess.transport.close().catch(() => undefined)));
  });

  app.route({
    method: ['GET', 'POST', 'DELETE'],
    url: '/mcp',
    schema: { hide: true },
    async handler(req, reply) {
      const principal = principalOf(req);
      const owner = principal.keyId ?? 'operator';
      let body: unknown;
      if (req.method === 'POST') {
        try {
          body = JSON.parse((req.body as Buffer | undefined)?.toString('utf8') ?? '');
        } catch {
          return rpcError(reply, 400, -32700, 'Parse error: the body must be a JSON-RPC message');
        }
      }
      const sid = req.headers['mcp-session-id'];
      let sess: Session | undefined;
      if (typeof sid === 'string') {
        sess = sessions.get(sid);
        if (!sess || sess.owner !== owner) return rpcError(reply, 404, -32001, 'Session not found');
      } else if (req.method === 'POST' && isInitializeRequest(body)) {
        if (sessions.size >= MAX_SESSIONS) return rpcError(reply, 503, -32000, 'Too many MCP sessions on this node; retry later');
        const server = buildMcpServer(s, principal, lifecycle);
        const created: Session = {
          server,
          owner,
          lastSeen: Date.now(),
          transport: new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (id) => void sessions.set(id, created) }),
        };
        // Deleting the key closes the session on whichever node holds it (api-keys.ts): its GET
        // stream and open requests end, waits are aborted; the key's next request is a 401.
        const release = s.apiKeys.holdOpen(principal, () => void created.transport.close());
        created.transport.onclose = () => {
          if (created.transport.sessionId) sessions.delete(created.transport.sessionId);
          release();
          server.dispose();
        };
        await server.server.connect(created.transport);
        sess = created;
      } else {
        return rpcError(reply, 400, -32000, 'Bad Request: no mcp-session-id; start with an initialize request');
      }
      sess.lastSeen = Date.now();
      reply.hijack();
      await sess.transport.handleRequest(req.raw, reply.raw, body);
      return reply;
    },
  });
}
