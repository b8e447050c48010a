/**
 * Opt-in statement timing for SQLite (SWITCHBOARD_SQL_PROFILE=1): wraps each prepared statement
 * and, when the process exits, prints to stderr the statements that took the most time in all,
 * with their count and mean. For finding the expensive SQL of a benchmark run; off by default
 * (the wrapper costs a clock read per statement).
 */
import type SqliteDatabase from 'better-sqlite3';

interface Stat {
  n: number;
  ns: bigint;
}

const stats = new Map<string, Stat>();
let hooked = false;

function report(): void {
  const rows = [...stats.entries()].sort((a, b) => Number(b[1].ns - a[1].ns)).slice(0, 25);
  const lines = rows.map(([text, s]) => `${(Number(s.ns) / 1e6).toFixed(1).padStart(9)} ms ${String(s.n).padStart(8)} x ${(Number(s.ns) / s.n / 1000).toFixed(1).padStart(7)} us  ${text.replace(/\s+/g, ' ').slice(0, 150)}`);
  process.stderr.write(`SQL profile (pid ${process.pid}), by total time:\n${lines.join('\n')}\n`);
}

export function profiled(sqlText: string, st: SqliteDatabase.Statement): SqliteDatabase.Statement {
  if (!hooked) {
    hooked = true;
    process.on('exit', report);
  }
  const time = <A extends unknown[], R>(fn: (...a: A) => R) =>
    (...a: A): R => {
      const t = process.hrtime.bigint();
      try {
        return fn.apply(st, a);
      } finally {
        const s = stats.get(sqlText) ?? { n: 0, ns: 0n };
        s.n++;
        s.ns += process.hrtime.bigint() - t;
        stats.set(sqlText, s);
      }
    };
  // Kysely's driver uses `reader`, `all`, `run` and `iterate`; the rest reaches the statement itself.
  return { reader: st.reader, all: time(st.all), run: time(st.run), get: time(st.get), iterate: time(st.iterate) } as unknown as SqliteDatabase.Statement;
}
