/**
 * The database being unreachable is a 503 with Retry-After, never a 500: which errors count as
 * "unreachable" (store/errors.ts) and how the one error handler answers them. Runs without
 * PostgreSQL: the connection errors come from a real pg pool pointed at a port nobody listens on
 * and from a real server socket that closes, plus the codes PostgreSQL sends on shutdown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import Fastify from 'fastify';
import pg from 'pg';
import { registerErrorHandler } from '../../src/api/plugins/error-handler.js';
import { isConnectionError } from '../../src/store/errors.js';
import { freePort } from '../helpers/cluster.js';

test('connection-level database errors are recognised; request errors are not', async () => {
  // A pool whose server is not there: ECONNREFUSED.
  const port = await freePort();
  const pool = new pg.Pool({ connectionString: `postgres://x@127.0.0.1:${port}/x`, connectionTimeoutMillis: 2000 });
  const refused = await pool.query('select 1').catch((e: unknown) => e);
  await pool.end();
  assert.ok(isConnectionError(refused), `refused: ${String(refused)}`);

  // A server that accepts and hangs up mid-handshake: "Connection terminated unexpectedly".
  const srv = createServer((s) => s.destroy());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const client = new pg.Client({ connectionString: `postgres://x@127.0.0.1:${(srv.address() as { port: number }).port}/x` });
  client.on('error', () => undefined);
  const cut = await client.connect().catch((e: unknown) => e);
  await new Promise((r) => srv.close(r));
  assert.ok(isConnectionError(cut), `cut: ${String(cut)}`);

  // What PostgreSQL sends when it shuts down, crashes, is starting, or the link fails; a pool
  // that waited too long for a connection.
  for (const code of ['57P01', '57P02', '57P03', '08006', '08001', '53300']) assert.ok(isConnectionError(Object.assign(new Error('x'), { code })), code);
  assert.ok(isConnectionError(new Error('timeout exceeded when trying to connect')));
  assert.ok(isConnectionError(new Error('wrapped', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) })));

  // Errors about the request or the data stay what they are.
  for (const code of ['23505', '40P01', '22P02', '42P01', 'SQLITE_BUSY']) assert.ok(!isConnectionError(Object.assign(new Error('x'), { code })), code);
  assert.ok(!isConnectionError(new Error('Connection terminated by a typo in a message')));
  assert.ok(!isConnectionError(undefined));
});

test('the error handler answers an unreachable database with 503 and Retry-After, other failures with 500', async () => {
  const app = Fastify({ logger: false });
  registerErrorHandler(app);
  app.get('/down', async () => {
    throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', severity: 'FATAL' });
  });
  app.get('/refused', async () => {
    throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  });
  app.get('/bug', async () => {
    throw new TypeError('x is undefined');
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    for (const path of ['/down', '/refused']) {
      const r = await fetch(base + path);
      const body = await r.text();
      assert.equal(r.status, 503, path);
      assert.ok(Number(r.headers.get('retry-after')) >= 1, `${path}: Retry-After`);
      assert.deepEqual(JSON.parse(body), { detail: 'The database is unavailable; retry later' });
      assert.doesNotMatch(body, /5432|administrator/, 'nothing about the database server leaks');
    }
    const bug = await fetch(base + '/bug');
    assert.equal(bug.status, 500);
    assert.equal(bug.headers.get('retry-after'), null);
  } finally {
    await app.close();
  }
});
