/**
 * Provider webhook endpoints. Public (providers do not hold API keys): every request is verified
 * by the channel's adapter instead. The body reaches the adapter as the exact bytes received.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RawRequest, WebhookReply } from '../../adapters/contract.js';
import type { Services } from '../../core/services.js';
import { parseUuid } from '../validation/fields.js';

function rawRequest(req: FastifyRequest, publicUrl: string): RawRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return { method: req.method, publicUrl: publicUrl + req.url, headers, body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0) };
}

function send(reply: FastifyReply, r: WebhookReply): FastifyReply {
  return reply.code(r.status).type(r.contentType).send(r.body);
}

export function webhookRoutes(app: FastifyInstance, s: Services): void {
  const opts = { config: { public: true }, schema: { hide: true } };
  const byChannel = async (req: FastifyRequest<{ Params: { channel_id: string } }>, reply: FastifyReply) =>
    send(reply, await s.webhooks.channelWebhook(parseUuid(req.params.channel_id), rawRequest(req, s.config.publicUrl)));
  const byAccount = async (req: FastifyRequest<{ Params: { account_id: string } }>, reply: FastifyReply) =>
    send(reply, await s.webhooks.accountWebhook(parseUuid(req.params.account_id), rawRequest(req, s.config.publicUrl)));

  app.post('/v1/webhooks/:channel_id', opts, byChannel);
  app.get('/v1/webhooks/:channel_id', opts, byChannel);
  app.post('/v1/webhooks/accounts/:account_id', opts, byAccount);
  app.get('/v1/webhooks/accounts/:account_id', opts, byAccount);
}
