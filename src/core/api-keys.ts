/** API keys: created by the operator, scoped to instances, stored only as hashes. */
import { randomUUID } from 'node:crypto';
import { hashApiKey, newApiKey, safeEqual } from '../crypto/tokens.js';
import { ValidationFailed, type ValidationIssue } from '../errors.js';
import type { Notifier } from '../queue/notifier.js';
import type { Repos } from '../store/repos/index.js';
import { nowIso } from './clock.js';
import { requireOperator, type Principal } from './principal.js';

export interface ApiKeyView {
  id: string;
  name: string;
  instance_ids: string[];
  created_at: string;
}

/**
 * Valid keys are remembered this long per process, saving a query on every request. A key deleted
 * on any node stops working at once everywhere: the deletion is announced to every node (the
 * `keys` topic, LISTEN/NOTIFY on PostgreSQL); this lifetime only bounds a missed announcement.
 */
const KEY_CACHE_MS = 5_000;

export class ApiKeysService {
  private readonly envAdminHash: string | undefined;
  private readonly cache = new Map<string, { principal: Principal; until: number }>();
  /** Long-lived connections (event streams...) opened with each key: closed when it is revoked. */
  private readonly holders = new Map<string, Set<() => void>>();

  constructor(
    private readonly repos: Repos,
    envAdminKey: string | undefined,
    private readonly notifier?: Notifier,
  ) {
    this.envAdminHash = envAdminKey ? hashApiKey(envAdminKey) : undefined;
    notifier?.on('keys', (id) => this.forget(id));
  }

  /**
   * Drops a key's cached principal and closes what it holds open (`*`: after a missed
   * announcement — every cached key is dropped and each held key is checked against the store).
   */
  private forget(id: string): void {
    if (id === '*') {
      this.cache.clear();
      void this.recheckHolders();
      return;
    }
    for (const [hash, e] of this.cache) if (e.principal.keyId === id) this.cache.delete(hash);
    this.closeHeld(id);
  }

  private closeHeld(id: string): void {
    const fns = this.holders.get(id);
    if (!fns) return;
    this.holders.delete(id);
    for (const fn of fns) {
      try {
        fn();
      } catch {
        // one close failing must not keep the others open
      }
    }
  }

  private async recheckHolders(): Promise<void> {
    const ids = [...this.holders.keys()];
    if (!ids.length) return;
    try {
      const alive = await this.repos.apiKeys.existing(ids);
      for (const id of ids) if (!alive.has(id)) this.closeHeld(id);
    } catch {
      // the store is unreachable too; the next announcement or reconnect tries again
    }
  }

  /**
   * Registers a connection opened with `p`'s key (an event stream, a socket): `close` runs, on
   * every node, as soon as the key is deleted. Returns the unregister function for a normal end.
   * The environment's operator key (keyId null) cannot be deleted and registers nothing.
   */
  holdOpen(p: Principal, close: () => void): () => void {
    const id = p.keyId;
    if (!id) return () => undefined;
    let set = this.holders.get(id);
    if (!set) this.holders.set(id, (set = new Set()));
    set.add(close);
    return () => {
      const s = this.holders.get(id);
      s?.delete(close);
      if (s && s.size === 0) this.holders.delete(id);
    };
  }

  /** Resolves a presented key to a principal, or undefined when it is not a valid key. */
  async authenticate(presented: string): Promise<Principal | undefined> {
    const hash = hashApiKey(presented);
    if (this.envAdminHash && safeEqual(hash, this.envAdminHash)) return { kind: 'operator', keyId: null };
    const now = Date.now();
    const hit = this.cache.get(hash);
    if (hit && hit.until > now) return hit.principal;
    const row = await this.repos.apiKeys.byHash(hash);
    if (!row) return undefined; // unknown keys are not cached: a new key works at once
    const principal: Principal = row.is_admin ? { kind: 'operator', keyId: row.id } : { kind: 'scoped', keyId: row.id, instanceIds: new Set(JSON.parse(row.instance_ids) as string[]) };
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { principal, until: now + KEY_CACHE_MS });
    return principal;
  }

  /**
   * With no SWITCHBOARD_ADMIN_KEY and no stored operator key, makes one and returns it so the
   * caller can print it once. Returns undefined when an operator key already exists.
   */
  async bootstrapOperatorKey(): Promise<string | undefined> {
    if (this.envAdminHash || (await this.repos.apiKeys.hasAdminKey())) return undefined;
    const key = newApiKey();
    await this.repos.apiKeys.insert({ id: randomUUID(), name: 'operator (generated on first start)', key_hash: hashApiKey(key), is_admin: 1, instance_ids: '[]', created_at: nowIso() });
    return key;
  }

  async create(p: Principal, input: { name: string; instance_ids: string[] }): Promise<ApiKeyView & { key: string }> {
    requireOperator(p, 'create API keys');
    const issues: ValidationIssue[] = [];
    const ids = [...new Set(input.instance_ids)];
    for (const [i, id] of input.instance_ids.entries()) {
      if (!(await this.repos.instances.get(id))) {
        issues.push({ type: 'value_error', loc: ['body', 'instance_ids', i], msg: `Value error, instance ${id} does not exist`, input: id, ctx: { error: `instance ${id} does not exist` } });
      }
    }
    if (issues.length) throw new ValidationFailed(issues);
    const key = newApiKey();
    const row = { id: randomUUID(), name: input.name, key_hash: hashApiKey(key), is_admin: 0, instance_ids: JSON.stringify(ids), created_at: nowIso() };
    await this.repos.apiKeys.insert(row);
    return { id: row.id, name: row.name, instance_ids: ids, created_at: row.created_at, key };
  }

  async list(p: Principal): Promise<ApiKeyView[]> {
    requireOperator(p, 'list API keys');
    return (await this.repos.apiKeys.list()).map((r) => ({ id: r.id, name: r.name, instance_ids: JSON.parse(r.instance_ids) as string[], created_at: r.created_at }));
  }

  async delete(p: Principal, id: string): Promise<boolean> {
    requireOperator(p, 'delete API keys');
    const deleted = await this.repos.apiKeys.delete(id);
    this.forget(id);
    if (deleted) await this.notifier?.publish('keys', id).catch(() => undefined);
    return deleted;
  }
}
