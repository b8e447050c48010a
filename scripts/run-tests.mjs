// Runs every *.test.ts under test/ with Node's own test runner (Node 20 has no glob for --test).
// Extra arguments narrow the run: `npm test -- test/api` runs only files under that path.
//
// The run cleans up after itself even when a test file does not: every test process gets a TMPDIR
// of this run's own (removed at the end), and every PostgreSQL schema named after this run
// (`t_<run>_...`, see test/helpers/stores.ts) is dropped at the end.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'dist') continue;
    if (statSync(p).isDirectory()) collect(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

async function dropRunSchemas(url, run) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [`t\\_${run}\\_%`]);
    for (const { nspname } of rows) await client.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`);
    if (rows.length) console.log(`# dropped ${rows.length} PostgreSQL schema(s) a test left behind`);
  } finally {
    await client.end();
  }
}

const roots = process.argv.slice(2);
// The SDK (packages/*) and the examples have their tests beside them.
const defaults = ['test', 'packages', 'examples'].filter((d) => existsSync(d));
const files = (roots.length ? roots : defaults).flatMap((r) => (statSync(r).isDirectory() ? collect(r, []) : [r])).sort();
if (!process.env.TEST_DATABASE_URL) {
  console.log('# TEST_DATABASE_URL is not set: store tests run on SQLite only (PostgreSQL variants are skipped).');
}
const run = randomBytes(4).toString('hex');
const runTmp = mkdtempSync(join(tmpdir(), `sb-test-run-${run}-`));
// `--conditions=switchboard-source`: workspace packages resolve to their TypeScript source (no build step).
const res = spawnSync(process.execPath, ['--conditions=switchboard-source', '--import', 'tsx', '--test', '--test-concurrency=2', ...files], {
  stdio: 'inherit',
  env: { ...process.env, SB_TEST_RUN: run, TMPDIR: runTmp },
});
rmSync(runTmp, { recursive: true, force: true });
if (process.env.TEST_DATABASE_URL) {
  await dropRunSchemas(process.env.TEST_DATABASE_URL, run).catch((err) => console.log(`# could not drop this run's schemas: ${err.message}`));
}
process.exit(res.status ?? 1);
