/**
 * Logger options. Secrets must never reach a log line, so every path that could carry one is
 * redacted: auth headers, provider signature headers, and any field named like a secret.
 */
import type { LoggerOptions } from 'pino';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-telegram-bot-api-secret-token"]',
  'req.headers["x-hub-signature-256"]',
  'req.headers["x-twilio-signature"]',
  'req.headers["svix-signature"]',
  'req.headers["x-retell-signature"]',
  'req.headers.cookie',
  '*.webhook_secret',
  '*.secrets',
  '*.bot_token',
  '*.auth_token',
  '*.api_key',
  '*.access_token',
  '*.app_secret',
  '*.refresh_token',
  '*.client_secret',
  '*.signing_secret',
  '*.key',
];

/**
 * What a request's URL looks like in the log: its route pattern (`/v1/webhooks/:channel_id`),
 * never the path itself — some paths carry credentials (the Retell custom-LLM token, a Telegram
 * file path) and query strings carry Meta's verify token. A URL no route matched (a Retell socket
 * URL fetched without an upgrade, a probe) is logged with every segment that could be an id or a
 * token masked.
 */
export function loggedUrl(req: { url: string; routeOptions?: { url?: string } }): string {
  const pattern = req.routeOptions?.url;
  if (pattern) return pattern;
  return req.url
    .split('?')[0]
    .split('/')
    .map((seg) => (seg.length >= 12 || (seg.length > 3 && /\d/.test(seg)) ? ':masked' : seg))
    .join('/');
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      req: (req: { method: string; url: string; id: string; routeOptions?: { url?: string } }) => ({ method: req.method, url: loggedUrl(req), id: req.id }),
    },
  };
}
