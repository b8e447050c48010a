/**
 * A PostgreSQL server of the test's own (initdb + pg_ctl in a temp directory, its own port), for
 * faults that would disturb everyone else on the shared server: stopping and restarting it. Run
 * as the `postgres` user when the test runs as root (PostgreSQL refuses to run as root). Trust
 * auth on 127.0.0.1, superuser `postgres`, database `postgres`. `close()` stops it and removes the
 * directory; it also runs on process exit, so a failing test leaves no server behind.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../helpers/cluster.js';

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  /** `pg_ctl stop -m fast`: every session is terminated, new connections are refused. */
  stop(): void;
  start(): void;
  /** Stops the server (if running) and deletes its directory. */
  close(): void;
}

/** The newest installed PostgreSQL's binaries (Debian layout), or PG_BIN; undefined if none. */
export function postgresBin(): string | undefined {
  if (process.env.PG_BIN) return existsSync(join(process.env.PG_BIN, 'pg_ctl')) ? process.env.PG_BIN : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function postgresIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBin();
  if (!bin) throw new Error('no PostgreSQL binaries found (set PG_BIN)');
  // Under /tmp itself, not TMPDIR: the test runner's TMPDIR is private to root, and the server
  // runs as `postgres`, which must reach its directory.
  const dir = mkdtempSync(join('/tmp', 'sb-fault-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const ids = asRoot ? postgresIds() : undefined;
  if (ids) chownSync(dir, ids.uid, ids.gid);
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(join(bin, cmd), args, { encoding: 'utf8', ...(ids ? { uid: ids.uid, gid: ids.gid } : {}), env: { ...process.env, LC_ALL: 'C' } });
    if (r.status !== 0) {
      const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
      throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}\n${tail}`);
    }
  };
  let running = false;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    if (running) {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', close);
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
    const port = await freePort();
    // Small and local: TCP on loopback only, the socket in our directory, enough connections for
    // two nodes (pool 10 + one LISTEN each) and the test's own.
    const opts = `-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories=${dir} -c max_connections=60 -c shared_buffers=32MB`;
    const start = () => {
      run('pg_ctl', ['-D', data, '-l', log, '-o', opts, '-w', '-t', '120', 'start']);
      running = true;
    };
    start();
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      stop() {
        run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '120', 'stop']);
        running = false;
      },
      start,
      close() {
        process.off('exit', close);
        close();
      },
    };
  } catch (err) {
    process.off('exit', close);
    close();
    throw err;
  }
}
