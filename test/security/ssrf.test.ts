/**
 * SSRF (issue 10, item 3): nothing a tenant sets makes the server connect to a private address —
 * Gmail's oauth_token_url (it would receive client_secret + refresh_token) and jwks_url (fetched
 * on an unauthenticated webhook POST) included — unless SWITCHBOARD_ALLOW_PRIVATE_URLS=true; the
 * operator's URLs (SWITCHBOARD_*_API_URL, a platform credential's settings) are trusted; refusals
 * say "refused: private address". On SQLite and, with TEST_DATABASE_URL, PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, importPKCS8 } from 'jose';
import { makeGuardedFetch } from '../../src/net/ssrf.js';
import { httpRequest } from '../../src/adapters/shared/http.js';
import { ProviderError } from '../../src/adapters/shared/provider-error.js';
import { clearGmailTokenCache } from '../../src/adapters/gmail/api.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';
import { send, waitUntil } from '../inbound/helpers.js';

/** A loopback server standing in for something on the operator's private network. */
async function startRecorder(): Promise<{ url: string; hits: { method: string; path: string; body: string }[]; close(): Promise<void> }> {
  const hits: { method: string; path: string; body: string }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push({ method: req.method ?? '', path: req.url ?? '', body: Buffer.concat(chunks).toString() });
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid_grant', error_description: 'internal service banner: secret-internal-data' }));
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}

describe('the guarded client', () => {
  let rec: Awaited<ReturnType<typeof startRecorder>>;
  before(async () => { rec = await startRecorder(); });
  after(() => rec.close());

  test('refuses private addresses with "refused: private address", trusts the operator\'s origins', async () => {
    const guarded = makeGuardedFetch({ allowPrivate: false, trustedOrigins: ['http://127.0.0.1:1'] });
    for (const url of [`${rec.url}/x`, 'http://10.0.0.1/x', 'http://[::1]:9/x', 'http://169.254.169.254/latest/meta-data', 'http://localhost:9/']) {
      await assert.rejects(httpRequest({ provider: 'gmail', method: 'GET', url, fetch: guarded }), (err: unknown) => {
        assert.ok(err instanceof ProviderError);
        assert.equal(err.code, 'blocked_url');
        assert.match(err.message, /refused: private address/);
        return true;
      }, url);
    }
    assert.equal(rec.hits.length, 0);
    const trusted = makeGuardedFetch({ allowPrivate: false, trustedOrigins: [`${rec.url}/any/path`] });
    const r = await httpRequest({ provider: 'gmail', method: 'GET', url: `${rec.url}/ok`, fetch: trusted });
    assert.equal(r.status, 400);
    assert.equal(rec.hits.length, 1, 'the operator\'s own origin is reached');
  });
});

for (const kind of storeKinds()) {
  describe(`SSRF through tenant settings on ${kind}`, () => {
    let s: TestServer;
    let rec: Awaited<ReturnType<typeof startRecorder>>;
    let instanceId: string;

    before(async () => {
      rec = await startRecorder();
      s = await startServer(kind);
      instanceId = (await s.api('POST', '/v1/instances', { name: 'tenant' })).body.id;
    });
    after(async () => {
      await s.close();
      await rec.close();
    });

    test('Gmail oauth_token_url on a private address: nothing is POSTed there, the channel says "refused: private address"', async () => {
      clearGmailTokenCache();
      const before = rec.hits.length;
      const conn = await s.api('POST', `/v1/instances/${instanceId}/connections`, {
        provider: 'gmail',
        secrets: { client_id: 'cid', client_secret: 'very-secret', refresh_token: 'rt-secret' },
        settings: { oauth_token_url: `${rec.url}/token` },
      });
      assert.equal(conn.status, 201, conn.text);
      const c = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'email', provider: 'gmail', external_identifier: 'me@tenant.example', connection_id: conn.body.id, config: { pubsub_topic: 'projects/p/topics/t' } });
      assert.equal(c.status, 201, c.text);
      assert.equal(c.body.status, 'error');
      assert.match(c.body.error_message, /refused: private address/);
      assert.doesNotMatch(c.body.error_message, /secret-internal-data/);
      assert.equal(rec.hits.length, before, 'no request reached the private address');
    });

    test('Gmail jwks_url on a private address: an unauthenticated push does not make the server fetch it', async () => {
      const before = rec.hits.length;
      const conn = await s.api('POST', `/v1/instances/${instanceId}/connections`, {
        provider: 'gmail',
        secrets: { client_id: 'cid', client_secret: 'cs', refresh_token: 'rt' },
        settings: { jwks_url: `${rec.url}/certs`, push_audience: 'https://sb.example/push' },
      });
      assert.equal(conn.status, 201, conn.text);
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
      const jwt = await new SignJWT({ iss: 'https://accounts.google.com', aud: 'https://sb.example/push', email_verified: true })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuedAt().setExpirationTime('1h').sign(await importPKCS8(privateKey, 'RS256'));
      const r = await send({ url: conn.body.webhook_url, headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` }, body: JSON.stringify({ message: { data: 'e30=', messageId: '1' } }) });
      assert.equal(r.status, 403, r.text);
      assert.match(r.text, /refused: private address/);
      assert.equal(rec.hits.length, before, 'the JWKS was not fetched from the private address');
    });

    test('the operator\'s credential settings are trusted: its token URL is reached', async () => {
      clearGmailTokenCache();
      const before = rec.hits.length;
      const cred = await s.api('POST', '/v1/credentials', { provider: 'gmail', secrets: { client_id: 'cid', client_secret: 'cs', refresh_token: 'rt-op' }, settings: { oauth_token_url: `${rec.url}/token` } });
      assert.equal(cred.status, 201, cred.text);
      const c = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'email', provider: 'gmail', external_identifier: 'ops@platform.example', credential_id: cred.body.id, config: { pubsub_topic: 'projects/p/topics/t' } });
      assert.equal(c.status, 201, c.text);
      await waitUntil(() => rec.hits.length > before, 5000, 'the token request');
      assert.equal(rec.hits[rec.hits.length - 1].path, '/token');
      assert.equal(c.body.status, 'error', 'the recorder refuses the grant');
      assert.doesNotMatch(c.body.error_message, /refused: private address/);
    });
  });
}

describe('SWITCHBOARD_ALLOW_PRIVATE_URLS=true', () => {
  test('lets a tenant\'s private URL through (the operator chose so)', async () => {
    const rec = await startRecorder();
    const s = await startServer('sqlite', { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' } });
    try {
      clearGmailTokenCache();
      const inst = (await s.api('POST', '/v1/instances', { name: 't' })).body.id;
      const conn = await s.api('POST', `/v1/instances/${inst}/connections`, { provider: 'gmail', secrets: { client_id: 'cid', client_secret: 'cs', refresh_token: 'rt-allow' }, settings: { oauth_token_url: `${rec.url}/token` } });
      const c = await s.api('POST', `/v1/instances/${inst}/channels`, { channel_type: 'email', provider: 'gmail', external_identifier: 'me@allowed.example', connection_id: conn.body.id, config: { pubsub_topic: 'projects/p/topics/t' } });
      assert.equal(c.status, 201);
      assert.equal(rec.hits.filter((h) => h.path === '/token').length, 1);
    } finally {
      await s.close();
      await rec.close();
    }
  });
});
