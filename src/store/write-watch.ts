/**
 * Counts writes per table, by watching every query Kysely runs. A read cache stamps its entries
 * with the count it saw *before* reading; an entry is valid only while the count is unchanged.
 * Used on SQLite only: there every writer is this process, so no write can go unseen.
 */
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';

export class WriteWatch implements KyselyPlugin {
  private readonly versions = new Map<string, number>();

  version(table: string): number {
    return this.versions.get(table) ?? 0;
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const n = args.node as { kind: string; table?: unknown; into?: unknown; from?: unknown; sqlFragments?: readonly string[] };
    if (n.kind === 'UpdateQueryNode' || n.kind === 'InsertQueryNode' || n.kind === 'DeleteQueryNode' || n.kind === 'RawNode') {
      // Raw SQL: counted as a write to every watched table its text names (cheap and conservative).
      const names = n.kind === 'RawNode' ? [...this.versions.keys()].filter((t) => (n.sqlFragments ?? []).some((f) => f.includes(t))) : tableNames(n.kind === 'UpdateQueryNode' ? n.table : n.kind === 'InsertQueryNode' ? n.into : n.from);
      for (const t of names) this.versions.set(t, this.version(t) + 1);
      // Deleting an instance cascades to its channels (its other writes do not touch them).
      if (n.kind === 'DeleteQueryNode' && names.includes('instances')) this.versions.set('channels', this.version('channels') + 1);
    }
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
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
