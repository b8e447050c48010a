import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpRequest } from '../../src/adapters/shared/http.js';
import { ProviderError, kindForStatus, parseRetryAfter } from '../../src/adapters/shared/provider-error.js';
import { expectProviderError } from './helpers.js';

async function withServer(handler: Parameters<typeof createServer>[1], fn: (url: string) => Promise<void>): Promise<void> {
  const srv = createServer(handler);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    await fn(`http://127.0.0.1:${(srv.address() as AddressInfo).port}`);
  } finally {
    srv.closeAllConnections();
    await new Promise<void>((r) => srv.close(() => r()));
  }
}

describe('httpRequest', () => {
  it('does not follow redirects', async () => {
    let followed = false;
    await withServer((req, res) => {
      if (req.url === '/elsewhere') followed = true;
      res.writeHead(302, { location: '/elsewhere' }).end();
    }, async (url) => {
      const e = await expectProviderError(httpRequest({ provider: 'x', method: 'POST', url: `${url}/bot123:SECRET/sendMessage`, json: {} }), 'permanent');
      assert.equal(e.code, '302');
      assert.ok(!e.message.includes('SECRET'));
    });
    assert.equal(followed, false);
  });

  it('returns status, headers and parsed JSON; leaves non-JSON bodies as text', async () => {
    await withServer((req, res) => {
      if (req.url === '/json') res.writeHead(201, { 'content-type': 'application/json', 'x-a': '1' }).end('{"a":1}');
      else res.writeHead(502).end('<html>bad gateway</html>');
    }, async (url) => {
      const j = await httpRequest({ provider: 'x', method: 'GET', url: `${url}/json` });
      assert.equal(j.status, 201);
      assert.equal(j.headers.get('x-a'), '1');
      assert.deepEqual(j.body, { a: 1 });
      const h = await httpRequest({ provider: 'x', method: 'GET', url: `${url}/html` });
      assert.equal(h.status, 502);
      assert.equal(h.body, undefined);
      assert.match(h.text, /bad gateway/);
    });
  });

  it('a caller abort is an unknown outcome for a send', async () => {
    await withServer(() => undefined, async (url) => {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      const e = await expectProviderError(httpRequest({ provider: 'x', method: 'POST', url, json: {}, signal: ac.signal }), 'unknown_outcome');
      assert.equal(e.code, 'aborted');
    });
  });
});

describe('ProviderError helpers', () => {
  it('classifies statuses', () => {
    assert.equal(kindForStatus(401), 'auth');
    assert.equal(kindForStatus(404), 'not_found');
    assert.equal(kindForStatus(429), 'rate_limited');
    assert.equal(kindForStatus(500), 'retryable');
    assert.equal(kindForStatus(504), 'unknown_outcome');
    assert.equal(kindForStatus(400), 'permanent');
  });

  it('parses Retry-After seconds and dates', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(null), undefined);
  });

  it('exposes safeToRetry and a secret-free JSON form', () => {
    const e = new ProviderError({ provider: 'meta_cloud', kind: 'permanent', code: '131047', message: 'window closed', httpStatus: 400, windowClosed: true });
    assert.equal(e.safeToRetry, false);
    assert.deepEqual(Object.keys(e.toJSON()).sort(), ['code', 'httpStatus', 'kind', 'message', 'name', 'provider', 'retryAfterMs', 'windowClosed']);
    assert.equal(new ProviderError({ provider: 'x', kind: 'rate_limited', code: '429', message: 'm' }).safeToRetry, true);
  });
});
