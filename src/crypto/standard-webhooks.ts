/**
 * Signing what Switchboard sends to agents, per the Standard Webhooks spec: the secret is
 * `whsec_` + base64 key; the signature is `v1,` + base64(HMAC-SHA256(key, id.timestamp.body)).
 * Agents verify it with any Standard Webhooks library.
 */
import { createHmac } from 'node:crypto';

export function signStandardWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

export function standardWebhookHeaders(secret: string, id: string, body: string, nowMs = Date.now()): Record<string, string> {
  const ts = Math.floor(nowMs / 1000);
  return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signStandardWebhook(secret, id, ts, body) };
}
