/**
 * Signed, expiring media links: `PUBLIC_URL/v1/media/{id}?expires=<unix s>&signature=<hex>`, the
 * signature an HMAC-SHA256 over id and expiry with a key derived from the secret key. Whoever
 * has the link can fetch the bytes until it expires (that is what it is for: an agent, Twilio
 * fetching an MMS); nothing else about the store is exposed.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export class LinkSigner {
  constructor(
    private readonly key: Buffer,
    private readonly publicUrl: () => string,
  ) {}

  private sign(id: string, expires: number): string {
    return createHmac('sha256', this.key).update(`media:${id}:${expires}`).digest('hex');
  }

  /** A link valid for `ttlSeconds` from `nowMs`. */
  url(id: string, ttlSeconds: number, nowMs = Date.now()): { url: string; expires_at: string } {
    const expires = Math.floor(nowMs / 1000) + ttlSeconds;
    return { url: `${this.publicUrl()}/v1/media/${id}?expires=${expires}&signature=${this.sign(id, expires)}`, expires_at: new Date(expires * 1000).toISOString() };
  }

  /** 'ok', or why not; the signature is compared in constant time, before the expiry is looked at. */
  check(id: string, expires: string | undefined, signature: string | undefined, nowMs = Date.now()): 'ok' | 'bad_signature' | 'expired' {
    if (!expires || !signature || !/^\d{1,12}$/.test(expires) || !/^[0-9a-f]{64}$/.test(signature)) return 'bad_signature';
    const want = Buffer.from(this.sign(id, Number(expires)), 'hex');
    if (!timingSafeEqual(want, Buffer.from(signature, 'hex'))) return 'bad_signature';
    return Number(expires) * 1000 < nowMs ? 'expired' : 'ok';
  }

  /** Seconds a link signed with `expires` has left (for Cache-Control). */
  static remaining(expires: string, nowMs = Date.now()): number {
    return Math.max(0, Number(expires) - Math.floor(nowMs / 1000));
  }
}
