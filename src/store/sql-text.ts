/**
 * Fixed SQL texts for hot paths (executed as compiled queries, prepared once): written with `?`
 * placeholders, numbered `$1, $2, …` for PostgreSQL.
 */
import type { DialectName } from './database.js';

export function numbered(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/** Each statement in the dialect's placeholder style. */
export function forDialect<K extends string>(statements: Record<K, string>, dialect: DialectName): Record<K, string> {
  return Object.fromEntries(Object.entries<string>(statements).map(([k, v]) => [k, dialect === 'postgres' ? numbered(v) : v])) as Record<K, string>;
}
