/** Prometheus metrics: requests by route and status, latency; other modules add their own. */
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { safeEqual } from '../../adapters/shared/compare.js';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'switchboard_' });
  const requests = new Counter({ name: 'switchboard_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const duration = new Histogram({ name: 'switchboard_http_request_duration_seconds', help: 'HTTP request latency by route', labelNames: ['method', 'route'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5], registers: [registry] });
  return { registry, requests, duration };
}
export type Metrics = ReturnType<typeof createMetrics>;

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
