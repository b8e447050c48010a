/**
 * Request logging. Fastify's own logs two lines per request ("incoming request", "request
 * completed"), each through a per-request child logger; under load that halved the list route's
 * throughput at LOG_LEVEL=info. The default is one access line per request, written when the
 * response is done, on the root logger with the fields inline (no child logger, nothing to
 * redact: no headers, the route's pattern rather than its path, so no token in a URL is logged).
 *
 *   SWITCHBOARD_REQUEST_LOG=access   (default) one line: method, route, status, ms, request id
 *   SWITCHBOARD_REQUEST_LOG=full     Fastify's two lines per request, as before
 *   SWITCHBOARD_REQUEST_LOG=off      none (errors are still logged)
 */
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';

export type RequestLogMode = 'access' | 'full' | 'off';

export function requestLogMode(env: NodeJS.ProcessEnv = process.env): RequestLogMode {
  const v = (env.SWITCHBOARD_REQUEST_LOG ?? 'access').toLowerCase();
  return v === 'full' || v === 'off' ? v : 'access';
}

export function registerAccessLog(app: FastifyInstance, log: FastifyBaseLogger): void {
  const enabled = (log as { isLevelEnabled?: (l: string) => boolean }).isLevelEnabled;
  if (enabled && !enabled.call(log, 'info')) return;
  app.addHook('onResponse', (req, reply, done) => {
    log.info({ method: req.method, route: req.routeOptions.url ?? '(no route)', status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100, req_id: req.id }, 'request');
    done();
  });
}
