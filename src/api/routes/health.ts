import type { FastifyInstance } from 'fastify';
import type { Services } from '../../core/services.js';

export function healthRoutes(app: FastifyInstance, s: Services): void {
  app.get('/healthz', { config: { public: true }, schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { public: true }, schema: { hide: true } }, async (_req, reply) => {
    const ok = await s.store.ping();
    reply.code(ok ? 200 : 503);
    return { status: ok ? 'ready' : 'unavailable', store: s.store.dialect };
  });
}
