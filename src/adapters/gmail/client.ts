/** The Gmail API client for one connection's OAuth credentials (built per call). */
import type { ApiContext } from '../contract.js';
import { gmailApi } from './api.js';

export function gmailClientFor(ctx: ApiContext & { timeoutMs: number }) {
  return gmailApi({
    clientId: ctx.secrets.client_id ?? '',
    clientSecret: ctx.secrets.client_secret ?? '',
    refreshToken: ctx.secrets.refresh_token ?? '',
    ...(typeof ctx.settings.oauth_token_url === 'string' ? { tokenUrl: ctx.settings.oauth_token_url } : {}),
    baseUrl: ctx.apiBaseUrl,
    fetch: ctx.fetch,
    timeoutMs: ctx.timeoutMs,
  });
}
