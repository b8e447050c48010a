/** Authentication, operator vs scoped keys, and tenant isolation through real HTTP on every store. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';

for (const kind of storeKinds()) {
  describe(`auth and tenancy on ${kind}`, () => {
    let s: TestServer;
    let a: string; // instance A
    let b: string; // instance B
    let keyA: string;
    let channelB: string;

    before(async () => {
      s = await startServer(kind);
      a = (await s.api('POST', '/v1/instances', { name: 'A' })).body.id;
      b = (await s.api('POST', '/v1/instances', { name: 'B' })).body.id;
      const k = await s.api('POST', '/v1/api-keys', { name: 'tenant A', instance_ids: [a] });
      assert.equal(k.status, 201);
      assert.match(k.body.key, /^sb_/);
      assert.deepEqual(k.body.instance_ids, [a]);
      keyA = k.body.key;
      channelB = (await s.api('POST', `/v1/instances/${b}/channels`, { channel_type: 'sms', provider: 'twilio', external_identifier: '+15550002222' })).body.id;
    });
    after(() => s.close());

    test('no key, a wrong key, or a malformed header -> 401 with WWW-Authenticate: Bearer', async () => {
      for (const headers of [{}, { 'x-api-key': 'sb_wrong' }, { authorization: 'Bearer nope' }, { authorization: 'Basic abc' }] as Record<string, string>[]) {
        const r = await fetch(`${s.url}/v1/instances/${a}/channels`, { headers });
        assert.equal(r.status, 401);
        assert.equal(r.headers.get('www-authenticate'), 'Bearer');
        const body = await r.json();
        assert.equal(typeof body.detail, 'string');
      }
    });

    test('Bearer and X-Api-Key are both accepted', async () => {
      const r1 = await fetch(`${s.url}/v1/instances/${a}/channels`, { headers: { authorization: `Bearer ${keyA}` } });
      const r2 = await fetch(`${s.url}/v1/instances/${a}/channels`, { headers: { 'x-api-key': keyA } });
      assert.equal(r1.status, 200);
      assert.equal(r2.status, 200);
    });

    test("a scoped key sees only its instances; another tenant's objects are 404, never revealed", async () => {
      const list = await s.api('GET', '/v1/instances', undefined, keyA);
      assert.deepEqual(list.body.instances.map((i: any) => i.id), [a]);
      for (const [m, p, body] of [
        ['GET', `/v1/instances/${b}`, undefined],
        ['PATCH', `/v1/instances/${b}`, { name: 'stolen' }],
        ['DELETE', `/v1/instances/${b}`, undefined],
        ['GET', `/v1/instances/${b}/channels`, undefined],
        ['POST', `/v1/instances/${b}/channels`, { channel_type: 'sms', provider: 'twilio', external_identifier: '+1999' }],
        ['PATCH', `/v1/instances/${b}/channels/${channelB}`, { enabled: false }],
        ['DELETE', `/v1/instances/${b}/channels/${channelB}`, undefined],
        ['PATCH', `/v1/instances/${a}/channels/${channelB}`, { enabled: false }],
        ['DELETE', `/v1/instances/${a}/channels/${channelB}`, undefined],
        ['GET', `/v1/instances/${b}/connections`, undefined],
        ['POST', `/v1/instances/${b}/signing-secret`, undefined],
      ] as const) {
        const r = await s.api(m, p, body, keyA);
        assert.equal(r.status, 404, `${m} ${p}`);
        assert.ok(!r.text.includes(channelB) && !r.text.includes('"B"'), 'nothing of B leaks');
      }
      // B's channel is untouched.
      const still = await s.api('GET', `/v1/instances/${b}/channels`);
      assert.equal(still.body.channels[0].enabled, true);
    });

    test('a scoped key manages its own instance', async () => {
      const c = await s.api('POST', `/v1/instances/${a}/channels`, { channel_type: 'web_chat', provider: 'web', external_identifier: 'site-a' }, keyA);
      assert.equal(c.status, 201);
      const p = await s.api('PATCH', `/v1/instances/${a}`, { agent_url: 'https://agent.example.com/hook' }, keyA);
      assert.equal(p.status, 200);
      assert.equal(p.body.agent_url, 'https://agent.example.com/hook');
    });

    test('a scoped key cannot create instances, keys or credentials (403)', async () => {
      assert.equal((await s.api('POST', '/v1/instances', { name: 'x' }, keyA)).status, 403);
      assert.equal((await s.api('POST', '/v1/api-keys', { name: 'x', instance_ids: [b] }, keyA)).status, 403);
      assert.equal((await s.api('GET', '/v1/api-keys', undefined, keyA)).status, 403);
      assert.equal((await s.api('POST', '/v1/credentials', { provider: 'resend', secrets: { api_key: 're_x' } }, keyA)).status, 403);
      assert.equal((await s.api('GET', '/v1/credentials', undefined, keyA)).status, 403);
    });

    test('API keys are stored hashed; deleting a key revokes it', async () => {
      const k = await s.api('POST', '/v1/api-keys', { name: 'temp', instance_ids: [a] });
      const rows = await s.services.store.db.selectFrom('api_keys').selectAll().execute();
      assert.ok(rows.every((r) => !JSON.stringify(r).includes(k.body.key)));
      assert.ok(rows.some((r) => r.key_hash.length === 64));
      const listed = await s.api('GET', '/v1/api-keys');
      assert.ok(!listed.text.includes(k.body.key));
      assert.equal((await s.api('DELETE', `/v1/api-keys/${k.body.id}`)).status, 204);
      assert.equal((await s.api('GET', `/v1/instances/${a}/channels`, undefined, k.body.key)).status, 401);
    });

    test('api-key instance_ids must exist', async () => {
      const r = await s.api('POST', '/v1/api-keys', { name: 'bad', instance_ids: [a, '6f1c0a3e-0000-4000-8000-000000000000'] });
      assert.equal(r.status, 422);
      assert.deepEqual(r.body.detail[0].loc, ['body', 'instance_ids', 1]);
    });

    test('deleting an instance removes its channels and connections', async () => {
      const tmp = (await s.api('POST', '/v1/instances', { name: 'tmp' })).body.id;
      await s.api('POST', `/v1/instances/${tmp}/connections`, { provider: 'resend', secrets: { api_key: 're_1' } });
      const ch = await s.api('POST', `/v1/instances/${tmp}/channels`, { channel_type: 'email', provider: 'resend', external_identifier: 'tmp@example.com' });
      assert.equal(ch.status, 201);
      assert.equal((await s.api('DELETE', `/v1/instances/${tmp}`)).status, 204);
      assert.equal((await s.api('GET', `/v1/instances/${tmp}/channels`)).status, 404);
      // The identity is free again.
      const again = await s.api('POST', `/v1/instances/${a}/channels`, { channel_type: 'email', provider: 'resend', external_identifier: 'tmp@example.com' });
      assert.equal(again.status, 201);
    });
  });
}
