/**
 * `PUBLIC_URL/mcp`: the Model Context Protocol over Streamable HTTP (the official SDK's
 * web-standard transport, bridged to Fastify here). Authenticated like every API route
 * (`Authorization: Bearer <key>`, by the auth hook); each session belongs to the key that opened it.
 *
 * Sessions on several nodes: a session's id carries a MAC of (id, key) under the installation's
 * secret key (sessions.ts), so any node can tell a session this installation opened for this key
 * from a guess. A node that does not hold the session (the client's next request went elsewhere
 * behind the load balancer, or the node restarted) re-creates it on the spot and answers; the
 * tools keep no state between calls, so nothing is lost. What is per node: resource subscriptions
 * and the GET stream that carries their notifications (route on `mcp-session-id` to keep them).
 * An id that is not this installation's for this key is "Session not found" (404), which the MCP
 * specification tells clients to answer with a new initialize.
 *
 * Deleting the key closes its sessions on every node (api-keys.ts holdOpen); idle sessions end
 * after 30 minutes (and come back on their next request).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { isInitializeRequest, LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '../core/principal.js';
import type { Services } from '../core/services.js';
import { principalOf } from '../api/plugins/auth.js';
import { buildMcpServer, type SessionServer } from './server.js';
import { SessionIds } from './sessions.js';
import type { Lifecycle } from './tools.js';

interface Session {
  transport: WebStandardStreamableHTTPServerTransport;
  server: SessionServer;
  /** The API key that opened it. */
  owner: string;
  lastSeen: number;
}

const IDLE_MS = 30 * 60_000;
const MAX_SESSIONS = 1_000;
/** Requests the transport is given from here, not from a client: any origin, only the path counts. */
const LOCAL = 'http://mcp.internal/mcp';

function rpcError(reply: FastifyReply, status: number, code: number, message: string) {
  return reply.code(status).type('application/json').send({ jsonrpc: '2.0', error: { code, message }, id: null });
}

export function mcpRoutes(app: FastifyInstance, s: Services): void {
  const sessions = new Map<string, Session>();
  /** Sessions being re-created, so two requests arriving at once share one (no orphan). */
  const resuming = new Map<string, Promise<Session>>();
  const ids = new SessionIds(s.box.deriveKey('mcp-session-id'));
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

  /** A session with its own server; registered under its id once initialised. */
  async function open(principal: Principal, owner: string, id: string): Promise<Session> {
    const server = buildMcpServer(s, principal, lifecycle);
    const sess: Session = {
      server,
      owner,
      lastSeen: Date.now(),
      transport: new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: () => id, onsessioninitialized: (sid) => void sessions.set(sid, sess) }),
    };
    // Deleting the key closes the session on whichever node holds it (api-keys.ts): its GET
    // stream and open requests end, waits are aborted; the key's next request is a 401.
    const release = s.apiKeys.holdOpen(principal, () => void sess.transport.close());
    sess.transport.onclose = () => {
      if (sessions.get(id) === sess) sessions.delete(id);
      release();
      server.dispose();
    };
    await server.server.connect(sess.transport);
    return sess;
  }

  /**
   * Re-creates on this node a session opened elsewhere (or before a restart): a new transport and
   * server, initialised as the client once did, at the protocol version it speaks.
   */
  async function resume(principal: Principal, owner: string, id: string, version: string | undefined): Promise<Session> {
    const sess = await open(principal, owner, id);
    const protocolVersion = version && SUPPORTED_PROTOCOL_VERSIONS.includes(version) ? version : LATEST_PROTOCOL_VERSION;
    const post = (body: unknown, extra: Record<string, string> = {}) =>
      sess.transport.handleRequest(new Request(LOCAL, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...extra }, body: JSON.stringify(body) }));
    await (await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion, capabilities: {}, clientInfo: { name: 'resumed-session', version: '0' } } })).text();
    await (await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, { 'mcp-session-id': id, 'mcp-protocol-version': protocolVersion })).text();
    return sess;
  }

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
        if (sess ? sess.owner !== owner : !ids.valid(sid, owner)) return rpcError(reply, 404, -32001, 'Session not found');
        if (!sess) {
          if (sessions.size >= MAX_SESSIONS) return rpcError(reply, 503, -32000, 'Too many MCP sessions on this node; retry later');
          const version = req.headers['mcp-protocol-version'];
          let pending = resuming.get(sid);
          if (!pending) {
            pending = resume(principal, owner, sid, typeof version === 'string' ? version : undefined).finally(() => resuming.delete(sid));
            resuming.set(sid, pending);
          }
          sess = await pending;
        }
      } else if (req.method === 'POST' && isInitializeRequest(body)) {
        if (sessions.size >= MAX_SESSIONS) return rpcError(reply, 503, -32000, 'Too many MCP sessions on this node; retry later');
        sess = await open(principal, owner, ids.issue(owner));
      } else {
        return rpcError(reply, 400, -32000, 'Bad Request: no mcp-session-id; start with an initialize request');
      }
      sess.lastSeen = Date.now();
      const res = await sess.transport.handleRequest(toRequest(req), body === undefined ? undefined : { parsedBody: body });
      await pipe(res, reply);
      return reply;
    },
  });
}

/** The Fastify request as a Fetch Request: its headers (a POST's body is handed over parsed). */
function toRequest(req: FastifyRequest): Request {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (typeof v === 'string') headers.set(k, v);
    else if (Array.isArray(v)) headers.set(k, v.join(', '));
  }
  return new Request(LOCAL, { method: req.method, headers });
}

/** Streams the transport's Response to the client; a client that goes away cancels it. */
async function pipe(res: Response, reply: FastifyReply): Promise<void> {
  reply.hijack();
  const out = reply.raw;
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => (headers[k] = v));
  out.writeHead(res.status, headers);
  if (!res.body) {
    out.end();
    return;
  }
  const reader = res.body.getReader();
  out.on('close', () => void reader.cancel().catch(() => undefined));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      out.write(value);
    }
  } catch {
    // cancelled: the client left
  } finally {
    out.end();
  }
}
