/**
 * Checking that an event really comes from Switchboard: Standard Webhooks signatures
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature`) over the exact body bytes, with the
 * instance's `whsec_` signing secret and a five-minute timestamp window.
 *
 * @example
 *   const event = await verify(request, process.env.SWITCHBOARD_SIGNING_SECRET!);
 */
import type { IncomingMessage } from 'node:http';
import { Webhook } from 'standardwebhooks';
import type { EventEnvelope } from './types.js';

/** The request is not a genuine, fresh Switchboard event (bad or missing signature, stale, not JSON). */
export class VerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerificationError';
  }
}

const SIGNATURE_HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;

/** Largest event body accepted from a Node request (events are small; attachments are links). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

function isFetchRequest(r: unknown): r is Request {
  return typeof (r as Request).headers?.get === 'function' && typeof (r as Request).text === 'function';
}

export async function readNodeBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > MAX_BODY_BYTES) throw new VerificationError('the body is too large for an event');
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The signature headers of a Fetch or Node request, lower-cased. */
function signatureHeaders(req: Request | IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of SIGNATURE_HEADERS) {
    const v = isFetchRequest(req) ? req.headers.get(name) : req.headers[name];
    const value = Array.isArray(v) ? v[0] : v;
    if (typeof value !== 'string' || !value) throw new VerificationError(`missing ${name} header`);
    out[name] = value;
  }
  return out;
}

/**
 * Verifies a body that was already read (frameworks that parse bodies must keep the raw text:
 * the signature covers the exact bytes).
 */
export function verifyBody(body: string, headers: Record<string, string | string[] | undefined>, secret: string): EventEnvelope {
  const h: Record<string, string> = {};
  for (const name of SIGNATURE_HEADERS) {
    const v = headers[name];
    const value = Array.isArray(v) ? v[0] : v;
    if (typeof value !== 'string' || !value) throw new VerificationError(`missing ${name} header`);
    h[name] = value;
  }
  try {
    new Webhook(secret).verify(body, h, { jsonParse: false });
  } catch (err) {
    throw new VerificationError(`signature check failed: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(body) as EventEnvelope;
  } catch {
    throw new VerificationError('the body is not JSON');
  }
}

/**
 * Reads and verifies a request (a Fetch `Request` or a Node `IncomingMessage`), returning the event.
 * Throws `VerificationError` when it is not a genuine Switchboard event; consumes the body.
 */
export async function verify(request: Request | IncomingMessage, secret: string): Promise<EventEnvelope> {
  if (!secret) throw new VerificationError('no signing secret configured');
  const headers = signatureHeaders(request);
  const body = isFetchRequest(request) ? await request.text() : await readNodeBody(request);
  return verifyBody(body, headers, secret);
}
