/**
 * PostgreSQL text cannot hold U+0000 (it answers "invalid byte sequence for encoding UTF8: 0x00"),
 * SQLite can. So that a NUL in any input (a Telegram message, an instance name) is stored
 * faithfully on both stores instead of failing the request with a 500, every string parameter
 * sent to PostgreSQL is escaped and every string read back is unescaped, at the driver:
 * U+0000 -> U+E000 U+E001, and the escape character itself U+E000 -> U+E000 U+E000 (U+E000 is a
 * private-use code point; a lone one already stored is read back unchanged). Equality and
 * uniqueness are preserved; SQL string functions see the escaped form.
 */
import type pg from 'pg';

const ESC = '\uE000';
const NEEDS_ESCAPE = /[\u0000\uE000]/;
const ESCAPABLE = /[\u0000\uE000]/g;
const ESCAPED = /\uE000([\uE000\uE001])/g;

export function escapeNul(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(ESCAPABLE, (c) => (c === '\u0000' ? ESC + '\uE001' : ESC + ESC)) : s;
}

export function unescapeNul(s: string): string {
  return s.includes(ESC) ? s.replace(ESCAPED, (_m, c: string) => (c === '\uE001' ? '\u0000' : ESC)) : s;
}

function param(v: unknown): unknown {
  if (typeof v === 'string') return escapeNul(v);
  if (Array.isArray(v)) return v.map(param);
  return v;
}

function decodeRows<R extends { rows?: unknown[] }>(r: R): R {
  for (const row of r.rows ?? []) {
    if (!row || typeof row !== 'object') continue;
    const rec = row as Record<string, unknown>;
    for (const k in rec) {
      const v = rec[k];
      if (typeof v === 'string' && v.includes(ESC)) rec[k] = unescapeNul(v);
    }
  }
  return r;
}

/** The pool Kysely's PostgresDialect is given: the same pool, with the escaping on every query. */
export function nulSafePool(pool: pg.Pool): pg.Pool {
  const wrapped = new WeakMap<pg.PoolClient, pg.PoolClient>();
  const wrap = (c: pg.PoolClient): pg.PoolClient => {
    let w = wrapped.get(c);
    if (!w) {
      w = Object.create(c) as pg.PoolClient;
      const query = c.query.bind(c) as (text: unknown, params?: unknown[]) => Promise<{ rows?: unknown[] }>;
      (w as unknown as { query: unknown }).query = (text: unknown, params?: unknown[]) =>
        typeof text === 'string' ? query(text, params?.map(param)).then(decodeRows) : query(text, params);
      (w as unknown as { release: unknown }).release = (err?: Error | boolean) => c.release(err);
      wrapped.set(c, w);
    }
    return w;
  };
  const facade = Object.create(pool) as pg.Pool;
  (facade as unknown as { connect: unknown }).connect = async () => wrap(await pool.connect());
  (facade as unknown as { end: unknown }).end = () => pool.end();
  return facade;
}
