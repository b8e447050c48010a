/**
 * Voice: Twilio's voice webhooks (TwiML, form posts verified like every Twilio webhook) and
 * Retell's custom-LLM WebSocket. The socket upgrade is handled on the HTTP server's 'upgrade'
 * event with `ws` (noServer): the channel and token are checked before the handshake, so a bad
 * token is a plain 401/403 and never a WebSocket.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WebSocketServer } from 'ws';
import { getProvider } from '../../adapters/registry.js';
import { retell } from '../../adapters/retell/index.js';
import { safeEqual } from '../../adapters/shared/compare.js';
import type { RawRequest } from '../../adapters/contract.js';
import type { Services } from '../../core/services.js';
import { RetellSession } from '../../voice/retell-socket.js';
import type { TwilioVoiceStep } from '../../voice/twilio-voice.js';
import { defineRoute } from '../route.js';
import { channelPath } from '../schemas.js';
import { parseUuid } from '../validation/fields.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CALL_ID = /^[A-Za-z0-9_-]{1,128}$/;

function rawRequest(req: FastifyRequest, publicUrl: string): RawRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return { method: req.method, publicUrl: publicUrl + req.url, headers, body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0) };
}

function refuse(socket: Duplex, status: number, detail: string): void {
  const body = JSON.stringify({ detail });
  const reason = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[status] ?? 'Error';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/**
 * `/v1/voice/retell/{channel}/{token}/{call_id}` (what Retell opens when configured with the URL
 * ending in the token) or `/v1/voice/retell/{channel}/{call_id}?token=...`.
 */
export function parseRetellPath(url: string): { channelId: string; callId: string; token: string | undefined } | undefined {
  const u = new URL(url, 'http://x');
  const parts = u.pathname.split('/').filter(Boolean);
  if (parts[0] !== 'v1' || parts[1] !== 'voice' || parts[2] !== retell.name) return undefined;
  const [channelId, a, b] = parts.slice(3);
  if (!channelId || !UUID.test(channelId)) return undefined;
  if (parts.length === 6 && a && b && CALL_ID.test(b)) return { channelId, token: a, callId: b };
  if (parts.length === 5 && a && CALL_ID.test(a)) return { channelId, token: u.searchParams.get('token') ?? undefined, callId: a };
  return undefined;
}

export function voiceRoutes(app: FastifyInstance, s: Services): void {
  const { service: voice, twilio } = s.voice;

  const opts = { config: { public: true }, schema: { hide: true } };
  const step = (name: TwilioVoiceStep) => async (req: FastifyRequest<{ Params: { channel_id: string } }>, reply: FastifyReply) => {
    const r = await twilio.handle(name, parseUuid(req.params.channel_id) ?? '', rawRequest(req, s.config.publicUrl));
    return reply.code(r.status).type(r.contentType).send(r.body);
  };
  app.post('/v1/voice/twilio/:channel_id', opts, step('call'));
  app.post('/v1/voice/twilio/:channel_id/turn', opts, step('turn'));
  app.post('/v1/voice/twilio/:channel_id/poll', opts, step('poll'));

  defineRoute(app, {
    method: 'GET', url: '/v1/instances/:instance_id/channels/:endpoint_id/voice', summary: "A voice channel's provider URLs", tags: ['Channels'],
    params: channelPath,
    responses: { 200: { type: 'object', properties: { twilio_voice_url: { type: 'string' }, retell_llm_websocket_url: { type: 'string' } } } },
    async handler({ principal, params }) {
      await s.instances.require(principal, params.instance_id);
      const row = await s.channels.require(params.instance_id, params.endpoint_id);
      const adapter = getProvider(row.provider);
      if (!adapter?.voiceLinks || !adapter.channelTypes.includes('voice') || row.channel_type !== 'voice') return {};
      return adapter.voiceLinks({ publicUrl: s.config.publicUrl, channelId: row.id, channelType: 'voice', verifySecret: await voice.verifySecret(adapter, row) });
    },
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const sessions = new Set<RetellSession>();
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!req.url?.startsWith('/v1/voice/')) {
      // Nobody else takes upgrades: say so instead of leaving the socket hanging.
      if (app.server.listenerCount('upgrade') === 1) refuse(socket, 404, 'Not Found');
      return;
    }
    socket.on('error', () => undefined);
    void (async () => {
      const p = parseRetellPath(req.url ?? '');
      if (!p) return refuse(socket, 404, 'Unknown voice endpoint');
      const ch = await voice.channel(p.channelId, retell);
      if (!ch) return refuse(socket, 404, 'Unknown voice endpoint');
      if (!p.token) return refuse(socket, 401, 'missing token');
      const want = voice.retellToken(ch);
      if (!want || !safeEqual(p.token, want)) return refuse(socket, 403, 'bad token');
      if (ch.row.enabled !== 1) return refuse(socket, 403, 'the channel is disabled');
      wss.handleUpgrade(req, socket, head, (ws) => {
        const session = new RetellSession(voice, ch, p.callId, ws);
        sessions.add(session);
        ws.on('close', () => sessions.delete(session));
        session.start();
      });
    })().catch((err: Error) => {
      s.log.error({ err: err.message }, 'voice socket upgrade failed');
      refuse(socket, 503, 'try again');
    });
  });
  app.addHook('preClose', (done) => {
    for (const session of sessions) session.close();
    for (const ws of wss.clients) ws.terminate();
    wss.close();
    done();
  });
}
