/** Prometheus metrics over HTTP: requests by route and status, latency, and GET /metrics. */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../core/metrics-registry.js';
import { safeEqual } from '../../adapters/shared/compare.js';

export { createMetrics, type Metrics } from '../../core/metrics-registry.js';

/**
 * `token`: when set (SWITCHBOARD_METRICS_TOKEN), /metrics needs `Authorization: Bearer <token>`;
 * scrapers usually hold a static token, not an API key. Unset, /metrics is open (bind HOST to a
 * private interface then).
 */
export function registerMetrics(app: FastifyInstance, metrics: Metrics, token?: string): void {
  app.addHook('onResponse', async (req, reply) => {
    // The route template, never the raw URL, so ids do not explode label cardinality.
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    metrics.duration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { config: { public: true }, schema: { hide: true } }, async (req, reply) => {
    if (token !== undefined) {
      const given = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
      if (given === undefined || !safeEqual(given, token)) {
        return reply.code(401).header('www-authenticate', 'Bearer').type('application/json').send({ detail: 'Metrics need the bearer token set in SWITCHBOARD_METRICS_TOKEN' });
      }
    }
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
