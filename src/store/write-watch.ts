/**
 * Counts writes per table, by watching every query Kysely runs. A read cache stamps its entries
 * with the count it saw *before* reading; an entry is valid only while the count is unchanged.
 * A write counts twice: when it is compiled and again once it has run. The second count matters:
 * a read that overtakes a compiled but not yet executed write (they queue for the connection)
 * would otherwise be stamped with the already-bumped count and keep the old row.
 * Used on SQLite only: there every writer is this process, so no write can go unseen.
 */
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryId, QueryResult, RootOperationNode, UnknownRow } from 'kysely';

export class WriteWatch implements KyselyPlugin {
  private readonly versions = new Map<string, number>();
  /** Tables written by queries compiled but not yet finished. */
  private readonly running = new WeakMap<QueryId, string[]>();

  private bump(names: string[]): void {
    for (const t of names) this.versions.set(t, this.version(t) + 1);
  }

  version(table: string): number {
    return this.versions.get(table) ?? 0;
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const n = args.node as { kind: string; table?: unknown; into?: unknown; from?: unknown; sqlFragments?: readonly string[] };
    if (n.kind === 'UpdateQueryNode' || n.kind === 'InsertQueryNode' || n.kind === 'DeleteQueryNode' || n.kind === 'RawNode') {
      // Raw SQL: counted as a write to every watched table its text names (cheap and conservative).
      const names = n.kind === 'RawNode' ? [...this.versions.keys()].filter((t) => (n.sqlFragments ?? []).some((f) => f.includes(t))) : tableNames(n.kind === 'UpdateQueryNode' ? n.table : n.kind === 'InsertQueryNode' ? n.into : n.from);
      // Deleting an instance cascades to its channels (its other writes do not touch them).
      if (n.kind === 'DeleteQueryNode' && names.includes('instances')) names.push('channels');
      this.bump(names);
      if (names.length) this.running.set(args.queryId, names);
    }
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const names = this.running.get(args.queryId);
    if (names) this.bump(names);
    return args.result;
  }

  /** Starts counting `table` (so raw SQL also invalidates it). */
  watch(table: string): void {
    if (!this.versions.has(table)) this.versions.set(table, 0);
  }
}

function tableNames(node: unknown): string[] {
  const out: string[] = [];
  const visit = (x: unknown) => {
    if (!x || typeof x !== 'object') return;
    const o = x as Record<string, unknown>;
    if (o.kind === 'TableNode') {
      const t = (o.table as { identifier?: { name?: string } })?.identifier?.name;
      if (t) out.push(t);
      return;
    }
    for (const v of Object.values(o)) {
      if (Array.isArray(v)) v.forEach(visit);
      else if (v && typeof v === 'object') visit(v);
    }
  };
  visit(node);
  return out;
}
