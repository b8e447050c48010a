import { createHash, createHmac, hash, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time string/bytes equality. Both sides are hashed first so inputs of different lengths
 * neither throw (timingSafeEqual demands equal lengths) nor leak their length through timing.
 */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  // One-shot hashing (no Hash object per side): this runs on every webhook.
  return timingSafeEqual(hash('sha256', a, 'buffer') as Buffer, hash('sha256', b, 'buffer') as Buffer);
}

/** hex HMAC-SHA256, the digest Meta, Retell and the web widget sign with. */
export function hmacSha256Hex(key: string | Buffer, ...parts: (string | Buffer)[]): string {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** A short stable digest of a body: gives id-less payloads a retry-stable providerEventId. */
export function bodyDigest(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex').slice(0, 32);
}
