/**
 * Sends provider-style webhooks from the fakes to a Switchboard URL, signed the way each provider
 * signs them. Signatures come from the official SDKs (devDependencies) where one exists, so the
 * fakes do not re-implement the schemes the adapters verify. The SDKs are imported lazily: they are
 * only needed when a fake actually delivers.
 */
import { createHmac, randomUUID } from 'node:crypto';

/** POSTs a body and returns the receiver's status (the body is drained and ignored). */
export async function postWebhook(url: string, headers: Record<string, string>, body: string): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual' });
  await res.arrayBuffer();
  return res.status;
}

/** Meta: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`. */
export function metaSignature(appSecret: string, body: string): string {
  return 'sha256=' + createHmac('sha256', appSecret).update(body).digest('hex');
}

/** Twilio: `X-Twilio-Signature` over the full URL and the sorted form fields. */
export async function twilioSignature(authToken: string, url: string, params: Record<string, string>): Promise<string> {
  const mod = await import('twilio');
  const sdk = mod.default as unknown as { getExpectedTwilioSignature(token: string, url: string, params: Record<string, string>): string };
  return sdk.getExpectedTwilioSignature(authToken, url, params);
}

/** Svix (Resend): `svix-id`, `svix-timestamp`, `svix-signature` headers. */
export async function svixHeaders(secret: string, body: string, now = new Date()): Promise<Record<string, string>> {
  const { Webhook } = await import('svix');
  const id = `msg_${randomUUID().replace(/-/g, '')}`;
  return {
    'svix-id': id,
    'svix-timestamp': String(Math.floor(now.getTime() / 1000)),
    'svix-signature': new Webhook(secret).sign(id, now, body),
  };
}

/** Retell: `x-retell-signature: v=<ms>,d=<hex>` keyed with the API key. */
export async function retellSignature(apiKey: string, body: string): Promise<string> {
  const mod = await import('retell-sdk');
  return mod.default.sign(body, apiKey);
}
