/**
 * API authentication: `Authorization: Bearer <key>` or `X-Api-Key: <key>`. Routes opt out with
 * `config: { public: true }` (health, docs, provider webhooks — those verify providers instead).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiKeysService } from '../../core/api-keys.js';
import type { Principal } from '../../core/principal.js';
import { Unauthorized } from '../../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
  interface FastifyContextConfig {
    public?: boolean;
  }
}

export function presentedKey(req: FastifyRequest): string | undefined {
  const x = req.headers['x-api-key'];
  if (typeof x === 'string' && x.trim()) return x.trim();
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1].trim();
  }
  return undefined;
}

export function registerAuth(app: FastifyInstance, keys: ApiKeysService): void {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (req) => {
    if (req.routeOptions.config?.public || !req.routeOptions.url) return;
    const key = presentedKey(req);
    if (!key) throw new Unauthorized('Not authenticated');
    const principal = await keys.authenticate(key);
    if (!principal) throw new Unauthorized('Invalid API key');
    req.principal = principal;
  });
}

/** The caller of an authenticated route (the hook guarantees it is set). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new Unauthorized('Not authenticated');
  return req.principal;
}
