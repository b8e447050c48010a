/** Random tokens, API-key hashing and constant-time comparison. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new API key: `sb_` + 32 random bytes, base64url. Only its hash is stored. */
export function newApiKey(): string {
  return 'sb_' + randomBytes(32).toString('base64url');
}

/**
 * API keys carry 256 bits of entropy, so a fast hash is enough (no password-stretching needed) and
 * lets every request look its key up by hash through an index.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function randomToken(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

/** Constant-time string equality (lengths are compared through digests so they do not leak either). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}
