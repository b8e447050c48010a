/**
 * Rows read on every webhook or delivery (the channel, its account, the instance), kept in memory
 * while the tables they come from see no write. Exact on SQLite, where every write passes through
 * this process's WriteWatch; without one (PostgreSQL: other nodes write too) it always reads.
 * The version is taken *before* reading, so a write racing the read leaves a stale-stamped entry
 * that the next lookup replaces. Cached rows are frozen: callers share them.
 */
import type { WriteWatch } from './write-watch.js';

export class ReadCache<T extends object> {
  private readonly entries = new Map<string, { version: number; row: Readonly<T> }>();

  constructor(
    private readonly writes: WriteWatch | undefined,
    private readonly tables: readonly string[],
    private readonly max = 10_000,
  ) {}

  private version(): number {
    let v = 0;
    for (const t of this.tables) v += this.writes!.version(t);
    return v;
  }

  async get(key: string, load: () => Promise<T | undefined>): Promise<Readonly<T> | undefined> {
    if (!this.writes) return load();
    const version = this.version();
    const hit = this.entries.get(key);
    if (hit && hit.version === version) return hit.row;
    const row = await load();
    if (row === undefined) {
      this.entries.delete(key);
      return undefined;
    }
    if (this.entries.size >= this.max) this.entries.clear();
    const frozen = Object.freeze({ ...row });
    this.entries.set(key, { version, row: frozen });
    return frozen;
  }
}
