/**
 * Recognises a unique-constraint violation on either store: PostgreSQL's `23505`, better-sqlite3's
 * `SQLITE_CONSTRAINT_UNIQUE` (and, when asked, `SQLITE_CONSTRAINT_PRIMARYKEY`).
 */
export function isUniqueViolation(err: unknown, opts: { primaryKey?: boolean } = {}): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || (opts.primaryKey === true && code === 'SQLITE_CONSTRAINT_PRIMARYKEY');
}
