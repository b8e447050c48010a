/**
 * The web chat widget's endpoints. Public (visitors hold no API key): a visitor proves who they are
 * with the token their session handed out, and the page embedding the chat must be one of the
 * channel's `config.allowed_origins` (or Switchboard's own origin).
 *
 *   POST /v1/webchat/{channel_id}/session   -> {visitor_id, token, conversation_id, messages, cursor}
 *   POST /v1/webchat/{channel_id}/messages  -> 202 {conversation_id, message, duplicate}
 *   GET  /v1/webchat/{channel_id}/messages  -> {messages, cursor}            (?visitor_id&token&after)
 *   GET  /v1/webchat/{channel_id}/stream    -> text/event-stream            (?visitor_id&token&after)
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { Services } from '../../core/services.js';
import { cursorOf, type WebChannel, type WebChat } from '../../core/webchat.js';
import type { WebChatEvent, WebChatHub } from '../../core/webchat-hub.js';
import { WEB_MAX_ATTACHMENTS } from '../../core/webchat-media.js';
import { Forbidden, NotFound, PayloadTooLarge, ValidationFailed } from '../../errors.js';
import { list, model, nullable, str, uuid, type Infer, type Model, type Shape } from '../validation/fields.js';
import { validateRequest } from '../validation/request.js';
import { openSse, type SseWriter } from '../sse.js';

const channelPath = model({ channel_id: { field: uuid({ title: 'Channel Id' }), required: true } });
const sessionBody = model(
  {
    visitor_id: { field: nullable(str({ minLength: 1, maxLength: 200, description: 'A returning visitor, or a host-site user id (with visitor_signature).' })) },
    token: { field: nullable(str({ maxLength: 200, description: 'The token a previous session issued for visitor_id.' })) },
    visitor_signature: { field: nullable(str({ maxLength: 200, description: 'hex HMAC-SHA256(channel webhook_secret, visitor_id), computed by the host site.' })) },
  },
  { title: 'WebChatSession' },
);
const messageBody = model(
  {
    visitor_id: { field: str({ minLength: 1, maxLength: 200 }), required: true },
    token: { field: str({ minLength: 1, maxLength: 200 }), required: true },
    text: { field: str({ maxLength: 4000 }), default: () => '' },
    attachments: { field: list(model({ media_id: { field: uuid(), required: true } }), { description: `Files uploaded first with POST /v1/webchat/{channel_id}/media (at most ${WEB_MAX_ATTACHMENTS}).` }), default: () => [] },
    client_message_id: { field: str({ minLength: 1, maxLength: 100, description: 'Chosen by the widget; a resend with the same id is the same message.' }), required: true },
  },
  { title: 'WebChatMessageCreate' },
);
const visitorQuery = model({
  visitor_id: { field: str({ minLength: 1, maxLength: 200 }), required: true },
  token: { field: str({ minLength: 1, maxLength: 200 }), required: true },
  after: { field: str({ maxLength: 64, description: 'Cursor from the session or the last message seen (its updated_at).' }) },
});

const messageSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    direction: { type: 'string', enum: ['in', 'out'] },
    text: { type: 'string' },
    status: { type: 'string' },
    client_message_id: { type: ['string', 'null'] },
    author: {
      type: 'object',
      description: 'Who wrote it: kind contact|agent|operator|system, and the name they gave (no ids).',
      properties: { kind: { type: 'string', enum: ['contact', 'agent', 'operator', 'system'] }, name: { type: 'string' } },
      required: ['kind'],
    },
    attachments: { type: 'array', items: { type: 'object', additionalProperties: true } },
    created_at: { type: 'string' },
    updated_at: { type: 'string' },
  },
};

interface PublicSpec<P extends Shape, B, Q extends Shape> {
  method: HTTPMethods;
  url: string;
  summary: string;
  params?: Model<P>;
  query?: Model<Q>;
  body?: Model<B extends Shape ? B : never>;
  responses: Record<number, Record<string, unknown>>;
  handler(ctx: { params: Infer<P>; query: Infer<Q>; body: B extends Shape ? Infer<B> : undefined; req: FastifyRequest; reply: FastifyReply }): Promise<unknown>;
}

/** A public route with the same FastAPI-exact validation and OpenAPI entry as defineRoute. */
function publicRoute<P extends Shape, B, Q extends Shape>(app: FastifyInstance, spec: PublicSpec<P, B, Q>): void {
  app.route({
    method: spec.method,
    url: spec.url,
    config: { public: true },
    schema: {
      summary: spec.summary,
      tags: ['Web chat'],
      ...(spec.params ? { params: spec.params.schema } : {}),
      ...(spec.query ? { querystring: spec.query.schema } : {}),
      ...(spec.body ? { body: spec.body.schema } : {}),
      security: [],
      response: spec.responses,
    },
    handler: async (req, reply) => {
      const v = validateRequest<P, unknown, Q>(
        { params: req.params, query: req.query, body: req.body as Buffer | undefined, contentType: req.headers['content-type'] },
        { params: spec.params, query: spec.query, body: spec.body as never },
      );
      const result = await spec.handler({ params: v.params, query: v.query, body: v.body as never, req, reply });
      if (!reply.sent) return reply.code(Number(Object.keys(spec.responses)[0])).send(result);
      return reply;
    },
  });
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Refuses a page that may not embed this chat; sets CORS headers for one that may. */
function checkOrigin(wc: WebChat, ch: WebChannel, req: FastifyRequest, reply: FastifyReply): Record<string, string> {
  const origin = header(req, 'origin');
  if (!wc.originAllowed(ch, origin, header(req, 'host'))) throw new Forbidden('This site may not embed this chat (add its origin to the channel config allowed_origins)');
  const h: Record<string, string> = { vary: 'Origin' };
  if (origin) {
    h['access-control-allow-origin'] = origin;
    h['access-control-expose-headers'] = 'Retry-After';
  }
  reply.headers(h);
  return h;
}

export function webChatRoutes(app: FastifyInstance, s: Services): void {
  const wc = s.webchat;
  // Open streams, ended when the server closes (they would otherwise hold app.close() open).
  const mine = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of mine) end();
  });

  // CORS preflight for the JSON POSTs of a widget embedded on another site.
  app.options('/v1/webchat/:channel_id/*', { config: { public: true }, schema: { hide: true } }, async (req, reply) => {
    const { params } = validateRequest({ params: req.params }, { params: channelPath });
    const ch = await wc.channel(params.channel_id);
    checkOrigin(wc, ch, req, reply);
    return reply
      .code(204)
      .headers({ 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'content-type, last-event-id', 'access-control-max-age': '600' })
      .send();
  });

  publicRoute(app, {
    method: 'POST', url: '/v1/webchat/:channel_id/session', summary: 'Start or resume a web chat visitor',
    params: channelPath, body: sessionBody,
    responses: {
      200: {
        type: 'object',
        properties: {
          visitor_id: { type: 'string' }, token: { type: 'string' }, anonymous: { type: 'boolean' }, title: { type: 'string' }, greeting: { type: ['string', 'null'] }, agent_name: { type: ['string', 'null'] },
          uploads: { type: ['object', 'null'], properties: { max_bytes: { type: 'integer' }, types: { type: 'array', items: { type: 'string' } } } },
          conversation_id: { type: ['string', 'null'] }, messages: { type: 'array', items: messageSchema }, cursor: { type: ['string', 'null'] },
        },
      },
    },
    async handler({ params, body, req, reply }) {
      const ch = await wc.channel(params.channel_id);
      checkOrigin(wc, ch, req, reply);
      reply.header('cache-control', 'no-store');
      return wc.session(ch, body, req.ip);
    },
  });

  publicRoute(app, {
    method: 'POST', url: '/v1/webchat/:channel_id/messages', summary: 'Send a visitor message',
    params: channelPath, body: messageBody,
    responses: { 202: { type: 'object', properties: { conversation_id: { type: 'string' }, message: messageSchema, duplicate: { type: 'boolean' } } } },
    async handler({ params, body, req, reply }) {
      const ch = await wc.channel(params.channel_id);
      checkOrigin(wc, ch, req, reply);
      const v = wc.authenticate(ch, body.visitor_id, body.token);
      const ids = body.attachments.map((a) => a.media_id);
      if (!body.text.trim() && !ids.length) throw new ValidationFailed([{ type: 'missing', loc: ['body', 'text'], msg: 'Write a message or attach a file', input: body.text }]);
      return wc.send(ch, v, body.text, body.client_message_id, ids);
    },
  });

  // A visitor's file: the raw body with its Content-Type (?file_name=), for a message to attach.
  const uploadQuery = model({
    visitor_id: { field: str({ minLength: 1, maxLength: 200 }), required: true },
    token: { field: str({ minLength: 1, maxLength: 200 }), required: true },
    file_name: { field: str({ maxLength: 255 }) },
  });
  const mediaMax = s.media.config.maxBytes;
  app.post('/v1/webchat/:channel_id/media', {
    config: { public: true },
    bodyLimit: mediaMax,
    schema: {
      summary: 'Upload a visitor file (raw body, allow-listed types, size cap of the chat)', tags: ['Web chat'], security: [],
      params: channelPath.schema, querystring: uploadQuery.schema,
      response: { 201: { type: 'object', additionalProperties: true } },
    },
    // A declared length past the cap is refused before the body is read.
    preParsing: async (req: FastifyRequest) => {
      if (Number(req.headers['content-length'] ?? NaN) > mediaMax) {
        req.raw.resume();
        throw new PayloadTooLarge(`The file is larger than the limit of ${mediaMax} bytes`);
      }
    },
  }, async (req, reply) => {
    const { params, query } = validateRequest({ params: req.params, query: req.query }, { params: channelPath, query: uploadQuery });
    const ch = await wc.channel(params.channel_id);
    checkOrigin(wc, ch, req, reply);
    const v = wc.authenticate(ch, query.visitor_id, query.token);
    const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!bytes.length) throw new ValidationFailed([{ type: 'missing', loc: ['body'], msg: 'The file is empty', input: null }]);
    return reply.code(201).send(await wc.upload(ch, v, bytes, req.headers['content-type'], query.file_name));
  });

  publicRoute(app, {
    method: 'GET', url: '/v1/webchat/:channel_id/messages', summary: "A visitor's messages after a cursor",
    params: channelPath, query: visitorQuery,
    responses: { 200: { type: 'object', properties: { conversation_id: { type: ['string', 'null'] }, messages: { type: 'array', items: messageSchema }, cursor: { type: ['string', 'null'] } } } },
    async handler({ params, query, req, reply }) {
      const ch = await wc.channel(params.channel_id);
      checkOrigin(wc, ch, req, reply);
      const v = wc.authenticate(ch, query.visitor_id, query.token);
      const conv = await wc.conversationId(ch, v);
      if (!conv) return { conversation_id: null, messages: [], cursor: query.after ?? null };
      const rows = await wc.messagesSince(conv, query.after);
      return { conversation_id: conv, messages: await wc.views(rows), cursor: cursorOf(rows) ?? query.after ?? null };
    },
  });

  // Server-sent events: `message` (a stored message, new or changed; `id:` is the resume cursor),
  // `delta` ({message_id, offset, text} of an answer being streamed) and `typing`. A reconnect
  // with ?after= (or Last-Event-ID) re-sends what changed since, a little overlapping: the widget
  // keys messages by id, so nothing is lost or shown twice.
  publicRoute(app, {
    method: 'GET', url: '/v1/webchat/:channel_id/stream', summary: 'Stream a visitor conversation (server-sent events)',
    params: channelPath, query: visitorQuery,
    responses: { 200: { type: 'string', description: 'text/event-stream' } },
    async handler({ params, query, req, reply }) {
      const ch = await wc.channel(params.channel_id);
      const cors = checkOrigin(wc, ch, req, reply);
      const v = wc.authenticate(ch, query.visitor_id, query.token);
      const conv = await wc.conversationId(ch, v);
      if (!conv) throw new NotFound('No conversation yet: send a message first');
      const lastId = header(req, 'last-event-id');
      const after = lastId && !Number.isNaN(Date.parse(lastId)) ? lastId : query.after;
      await streamConversation(wc.hub, wc, conv, after, req, reply, cors, mine);
    },
  });
}

async function streamConversation(hub: WebChatHub, wc: WebChat, conversationId: string, after: string | undefined, req: FastifyRequest, reply: FastifyReply, cors: Record<string, string>, open: Set<() => void>): Promise<void> {
  // Subscribe before reading the history, and hold live events until it is written: an event
  // committed between the two is then seen at least once (the widget drops repeats by id).
  const held: WebChatEvent[] = [];
  let live = false;
  let closed = false;
  let sse: SseWriter | undefined;
  const write = (e: WebChatEvent) => {
    if (closed || !sse) return;
    if (e.type === 'message') sse.event({ id: e.message.updated_at, event: 'message', data: JSON.stringify(e.message) });
    else if (e.type === 'delta') sse.event({ event: 'delta', data: JSON.stringify({ message_id: e.messageId, offset: e.offset, text: e.text }) });
    else sse.event({ event: 'typing', data: JSON.stringify({ active: e.active }) });
  };
  const off = hub.subscribe(conversationId, (e) => (live ? write(e) : held.push(e)));
  let heartbeat: NodeJS.Timeout | undefined;
  let end: (() => void) | undefined;
  try {
    const rows = await wc.messagesSince(conversationId, after);
    sse = openSse(reply, { headers: cors, cacheControl: 'no-cache, no-store', retryMs: 2000 });
    const res = sse.res;
    for (const message of await wc.views(rows)) write({ type: 'message', conversationId, message });
    for (const p of hub.partials(conversationId)) write({ type: 'delta', conversationId, messageId: p.messageId, offset: 0, text: p.text });
    for (const e of held) write(e);
    held.length = 0;
    live = true;
    heartbeat = setInterval(() => sse?.comment('keep-alive'), 15_000);
    await new Promise<void>((resolve) => {
      end = () => {
        res.end();
        resolve();
      };
      open.add(end);
      req.raw.on('close', resolve);
      res.on('close', resolve);
      if (req.raw.destroyed) resolve();
    });
  } finally {
    closed = true;
    if (end) open.delete(end);
    off();
    if (heartbeat) clearInterval(heartbeat);
    sse?.end();
  }
}
