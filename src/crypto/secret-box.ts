/**
 * AES-256-GCM encryption for secrets at rest (webhook secrets, provider tokens, signing secrets).
 *
 * Every ciphertext is bound to where it is stored through the additional authenticated data (AAD),
 * e.g. `channel:<id>:webhook_secret`: a ciphertext copied into another row fails to decrypt instead
 * of silently becoming that row's secret.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const VERSION = 'v1';

/** How many decrypted secrets a process keeps (see SecretBox.decrypt). */
const MEMO_MAX = 10_000;

export class SecretBox {
  /**
   * Decrypted values by ciphertext + AAD. Every webhook and every delivery needs its secret, and an
   * AES-GCM decipher costs more than the SQL read of the row; a ciphertext never changes meaning
   * (a new secret is a new ciphertext), so there is nothing to invalidate. Memory only, bounded.
   */
  private readonly memo = new Map<string, string>();

  private constructor(private readonly key: Buffer) {}

  static fromKey(key: Buffer): SecretBox {
    if (key.length !== 32) throw new Error('the secret key must be 32 bytes');
    return new SecretBox(key);
  }

  /** A key for one purpose (e.g. signing media links), derived from the secret key, never stored. */
  deriveKey(purpose: string): Buffer {
    return createHmac('sha256', this.key).update(`switchboard:${purpose}`).digest();
  }

  encrypt(plain: string, aad: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(aad));
    const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return [VERSION, iv.toString('base64'), c.getAuthTag().toString('base64'), ct.toString('base64')].join(':');
  }

  decrypt(sealed: string, aad: string): string {
    const memoKey = `${aad}\n${sealed}`;
    const hit = this.memo.get(memoKey);
    if (hit !== undefined) return hit;
    const plain = this.decryptUncached(sealed, aad);
    if (this.memo.size >= MEMO_MAX) this.memo.delete(this.memo.keys().next().value as string);
    this.memo.set(memoKey, plain);
    return plain;
  }

  private decryptUncached(sealed: string, aad: string): string {
    const [v, iv, tag, ct] = sealed.split(':');
    if (v !== VERSION || !iv || !tag || ct === undefined) throw new Error('unrecognised ciphertext format');
    const d = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    d.setAAD(Buffer.from(aad));
    d.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([d.update(Buffer.from(ct, 'base64')), d.final()]).toString('utf8');
  }

  encryptJson(value: unknown, aad: string): string {
    return this.encrypt(JSON.stringify(value), aad);
  }

  decryptJson<T>(sealed: string, aad: string): T {
    return JSON.parse(this.decrypt(sealed, aad)) as T;
  }
}

/** Parses SWITCHBOARD_SECRET_KEY: 32 bytes as 64 hex chars or base64/base64url. */
export function parseSecretKey(text: string): Buffer {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  const b = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (b.length === 32) return b;
  throw new Error('SWITCHBOARD_SECRET_KEY must be 32 bytes, given as 64 hex characters or base64');
}

/**
 * The key from the environment, else from `<dataDir>/secret.key`, created (mode 0600) on first start.
 * `warn` is told when the file is used, because losing that file makes every stored secret unreadable.
 */
export function loadSecretBox(envKey: string | undefined, dataDir: string, warn: (msg: string) => void): SecretBox {
  if (envKey) return SecretBox.fromKey(parseSecretKey(envKey));
  const file = join(dataDir, 'secret.key');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    warn(`SWITCHBOARD_SECRET_KEY is not set: created ${file}. Back it up; stored secrets cannot be read without it.`);
  } else {
    warn(`SWITCHBOARD_SECRET_KEY is not set: using the key in ${file}.`);
  }
  return SecretBox.fromKey(parseSecretKey(readFileSync(file, 'utf8')));
}
