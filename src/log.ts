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

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      // Log the path without the query string: Meta's handshake puts its verify token there.
      req: (req: { method: string; url: string; id: string }) => ({ method: req.method, url: req.url.split('?')[0], id: req.id }),
    },
  };
}
