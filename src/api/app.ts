/**
 * Builds the HTTP application: one Fastify instance with the error handler, auth, metrics, the
 * OpenAPI document and every route. No port is opened here (tests and main.ts decide that).
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { createServer } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Services } from '../core/services.js';
import { registerAuth } from './plugins/auth.js';
import { registerErrorHandler } from './plugins/error-handler.js';
import { registerMetrics } from './plugins/metrics.js';
import { accountRoutes } from './routes/accounts.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { channelRoutes } from './routes/channels.js';
import { healthRoutes } from './routes/health.js';
import { instanceRoutes } from './routes/instances.js';
import { eventRoutes } from './routes/events.js';
import { messageRoutes } from './routes/messages.js';
import { providerRoutes } from './routes/providers.js';
import { conversationRoutes } from './routes/conversations.js';
import { webhookRoutes } from './routes/webhooks.js';
import { webChatRoutes } from './routes/webchat.js';
import { webPageRoutes } from './routes/web-pages.js';
import { voiceRoutes } from './routes/voice.js';
import { mediaRoutes } from './routes/media.js';
import { lazyChildLogger } from './lazy-logger.js';
import { registerAccessLog, requestLogMode } from './access-log.js';
import { mcpRoutes } from '../mcp/http.js';

export interface AppOptions {
  logger: FastifyBaseLogger | false;
  /** Largest accepted body for API routes (webhook routes set their own). */
  bodyLimit?: number;
}

export async function buildApp(s: Services, opts: AppOptions): Promise<FastifyInstance> {
  const requestLog = requestLogMode();
  const limits = s.config.http ?? { requestTimeoutMs: 30_000, keepAliveTimeoutMs: 72_000, maxConnections: 10_000 };
  const app: FastifyInstance = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger, childLoggerFactory: lazyChildLogger } : { logger: false }),
    ...(requestLog === 'full' ? {} : { logController: new Fastify.LogController({ disableRequestLogging: true }) }),
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    requestIdHeader: false,
    routerOptions: { ignoreTrailingSlash: true },
    // Headers and body must arrive within requestTimeoutMs (a client trickling bytes cannot hold
    // a socket for ever), checked every second; idle keep-alive sockets close after
    // keepAliveTimeoutMs (long, for benchmarks and providers that reuse connections); past
    // maxConnections new sockets are refused. Streams and upgraded sockets are not affected:
    // these bound receiving a request, not answering it.
    serverFactory: (handler) => {
      const server = createServer({
        requestTimeout: limits.requestTimeoutMs,
        headersTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        connectionsCheckingInterval: Math.min(1_000, limits.requestTimeoutMs),
      }, handler);
      server.maxConnections = limits.maxConnections;
      return server;
    },
  });

  // Bodies stay raw bytes: webhook signatures are computed over them, and API bodies are decoded
  // by our own JSON handling so malformed JSON gets FastAPI's exact error.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  // Validation is ours (api/validation); Fastify's schemas are documentation and serialisation.
  app.setValidatorCompiler(() => () => true);

  if (opts.logger && requestLog === 'access') registerAccessLog(app, opts.logger);
  registerErrorHandler(app);
  registerAuth(app, s.apiKeys);
  registerMetrics(app, s.metrics, s.config.metricsToken);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Switchboard', version: '0.1.0', description: 'Channel gateway for AI agents.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
        },
      },
    },
  });
  // The docs UI is public and served from the package's bundled assets (works offline).
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...(route.config as object), public: true };
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' }, staticCSP: true });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  healthRoutes(app, s);
  instanceRoutes(app, s);
  apiKeyRoutes(app, s);
  accountRoutes(app, s);
  providerRoutes(app);
  channelRoutes(app, s);
  eventRoutes(app, s);
  messageRoutes(app, s);
  conversationRoutes(app, s);
  webhookRoutes(app, s);
  webChatRoutes(app, s);
  webPageRoutes(app, s);
  voiceRoutes(app, s);
  mcpRoutes(app, s);
  mediaRoutes(app, s);
  return app;
}
