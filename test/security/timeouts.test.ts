/**
 * HTTP timeouts and limits (issue 10, item 7): headers and body must arrive within
 * SWITCHBOARD_REQUEST_TIMEOUT_MS (default 30 s) — a client trickling bytes is cut off instead of
 * holding a socket for ever —, idle keep-alive sockets are closed after
 * SWITCHBOARD_KEEPALIVE_TIMEOUT_MS, and SWITCHBOARD_MAX_CONNECTIONS bounds open sockets.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';

/** Resolves when the server closes the socket, or 'open' if it is still open at the deadline. */
function closedWithin(sock: Socket, ms: number): Promise<'closed' | 'open'> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve('open'), ms);
    sock.on('close', () => {
      clearTimeout(t);
      resolve('closed');
    });
    sock.on('error', () => undefined);
  });
}

function open(url: string): Promise<Socket> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname, () => resolve(s));
    s.on('error', reject);
  });
}

// The limits are the HTTP server's, whatever the store: run on both all the same (issue 10 asks
// every finding's test to).
for (const kind of storeKinds()) describe(`server limits on ${kind}`, () => {
  test('defaults: 30 s for headers and body, 72 s idle keep-alive, 10,000 connections', async () => {
    const s = await startServer(kind, { startWorkers: false });
    try {
      const server = s.app.server;
      assert.equal(server.requestTimeout, 30_000);
      assert.equal(server.headersTimeout, 30_000);
      assert.equal(server.keepAliveTimeout, 72_000);
      assert.equal(server.maxConnections, 10_000);
    } finally {
      await s.close();
    }
  });

  test('a trickled body, trickled headers and an idle socket are cut off at the configured time', async () => {
    const s = await startServer(kind, { startWorkers: false, env: { SWITCHBOARD_REQUEST_TIMEOUT_MS: '1000', SWITCHBOARD_KEEPALIVE_TIMEOUT_MS: '500', SWITCHBOARD_MAX_CONNECTIONS: '50' } });
    const timers: NodeJS.Timeout[] = [];
    try {
      assert.equal(s.app.server.maxConnections, 50);
      // Body: headers complete, then one byte every 300 ms of a 1,000-byte body.
      const body = await open(s.url);
      let answer = '';
      body.on('data', (c) => (answer += c.toString()));
      body.write(`POST /v1/instances HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${s.adminKey}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`);
      timers.push(setInterval(() => body.writable && body.write(' '), 300));
      // Headers: one header byte every 300 ms.
      const headers = await open(s.url);
      headers.write('GET /healthz HTTP/1.1\r\n');
      timers.push(setInterval(() => headers.writable && headers.write('X'), 300));
      // Idle: a keep-alive socket after one answered request.
      const idle = await open(s.url);
      let idleAnswer = '';
      idle.on('data', (c) => (idleAnswer += c.toString()));
      idle.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      const [b, h, i] = await Promise.all([closedWithin(body, 8_000), closedWithin(headers, 8_000), closedWithin(idle, 8_000)]);
      assert.equal(b, 'closed', 'a trickled body was not cut off');
      assert.equal(h, 'closed', 'trickled headers were not cut off');
      assert.equal(i, 'closed', 'an idle keep-alive socket was not closed');
      assert.match(answer, /^HTTP\/1\.1 408/, `the trickled body is answered 408: ${answer.slice(0, 40)}`);
      assert.match(idleAnswer, /^HTTP\/1\.1 200/);
    } finally {
      for (const t of timers) clearInterval(t);
      await s.close();
    }
  });
});
