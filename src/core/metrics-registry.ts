/** The process's Prometheus registry with the HTTP metrics; other modules add their own (core never imports api). */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'switchboard_' });
  const requests = new Counter({ name: 'switchboard_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const duration = new Histogram({ name: 'switchboard_http_request_duration_seconds', help: 'HTTP request latency by route', labelNames: ['method', 'route'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5], registers: [registry] });
  return { registry, requests, duration };
}
export type Metrics = ReturnType<typeof createMetrics>;
