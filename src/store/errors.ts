/**
 * Recognises a unique-constraint violation on either store: PostgreSQL's `23505`, better-sqlite3's
 * `SQLITE_CONSTRAINT_UNIQUE` (and, when asked, `SQLITE_CONSTRAINT_PRIMARYKEY`).
 */
export function isUniqueViolation(err: unknown, opts: { primaryKey?: boolean } = {}): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || (opts.primaryKey === true && code === 'SQLITE_CONSTRAINT_PRIMARYKEY');
}

/** Socket-level failures reaching the database server (refused, reset, unreachable, timed out). */
const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Errors node-postgres raises without a code when a connection dies or cannot be had: the server
 * closed it (restart, pg_terminate_backend), a query was queued on a broken client, or the pool
 * waited `connectionTimeoutMillis` for a connection.
 */
const PG_CONNECTION_MESSAGES = /^(?:Connection terminated(?: unexpectedly| due to connection timeout)?|Client has encountered a connection error and is not queryable|Client was closed and is not queryable|timeout exceeded when trying to connect|Cannot use a pool after calling end on the pool|timeout expired)$/;

/**
 * Whether `err` means "the database cannot be reached right now" rather than "this request is
 * wrong": the server is shutting down or restarting (57P01 admin_shutdown, 57P02 crash_shutdown,
 * 57P03 cannot_connect_now), the connection failed or broke (class 08), too many connections
 * (53300), or the socket failed. Such a request may succeed when retried: it is answered 503 with
 * Retry-After, never 500 (src/api/plugins/error-handler.ts). Whether an interrupted COMMIT took
 * effect is unknown to the caller; a retried webhook is then found by its dedupe key (a no-op 2xx).
 */
export function isConnectionError(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 3) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (code === '57P01' || code === '57P02' || code === '57P03' || code === '53300' || code.startsWith('08')) return true;
  if (NET_CODES.has(code)) return true;
  if (typeof e.message === 'string' && PG_CONNECTION_MESSAGES.test(e.message)) return true;
  // Node wraps a failed connect to several addresses (localhost: ::1 and 127.0.0.1) in an AggregateError.
  if (Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every((x) => isConnectionError(x, depth + 1))) return true;
  return e.cause !== undefined && isConnectionError(e.cause, depth + 1);
}
