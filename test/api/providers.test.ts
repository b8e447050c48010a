/** GET /v1/providers: every registered provider, described from its adapter, to any valid key. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { knownProviders } from '../../src/adapters/registry.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';

for (const kind of storeKinds()) {
  describe(`GET /v1/providers on ${kind}`, () => {
    let s: TestServer;
    let tenantKey: string;
    before(async () => {
      s = await startServer(kind);
      const inst = (await s.api('POST', '/v1/instances', { name: 'P' })).body.id;
      tenantKey = (await s.api('POST', '/v1/api-keys', { name: 'tenant', instance_ids: [inst] })).body.key;
      assert.ok(tenantKey);
    });
    after(() => s.close());

    test('needs a key, and any valid key will do', async () => {
      assert.equal((await s.api('GET', '/v1/providers', undefined, null)).status, 401);
      assert.equal((await s.api('GET', '/v1/providers', undefined, 'sb_not_a_key')).status, 401);
      const admin = await s.api('GET', '/v1/providers');
      const tenant = await s.api('GET', '/v1/providers', undefined, tenantKey);
      assert.equal(admin.status, 200);
      assert.equal(tenant.status, 200);
      assert.deepEqual(tenant.body, admin.body);
    });

    test('lists every registered provider in the agreed shape', async () => {
      const r = await s.api('GET', '/v1/providers', undefined, tenantKey);
      assert.equal(r.body.count, knownProviders().length);
      assert.deepEqual(r.body.providers.map((p: { name: string }) => p.name), knownProviders());
      const tg = r.body.providers.find((p: { name: string }) => p.name === 'telegram');
      assert.deepEqual(tg, {
        name: 'telegram',
        display_name: 'Telegram',
        channel_types: ['telegram'],
        secret_names: { required: ['bot_token'], optional: [] },
        verify_secret_name: null,
        routing_config_keys: [],
        capabilities: { format: 'telegram_html', max_text_length: 4096, max_attachments: 1, drafts: true, typing: true, edit: true, customer_care_window_hours: null },
      });
      const meta = r.body.providers.find((p: { name: string }) => p.name === 'meta_cloud');
      assert.equal(meta.verify_secret_name, 'app_secret');
      assert.deepEqual(meta.routing_config_keys, ['phone_number_id']);
      assert.equal(meta.capabilities.customer_care_window_hours, 24);
      // No limit is null, not a number that JSON cannot carry.
      const resend = r.body.providers.find((p: { name: string }) => p.name === 'resend');
      assert.equal(resend.capabilities.max_text_length, null);
      assert.deepEqual(resend.secret_names, { required: ['api_key'], optional: ['webhook_secret'] });
      for (const p of r.body.providers) assert.deepEqual(Object.keys(p), ['name', 'display_name', 'channel_types', 'secret_names', 'verify_secret_name', 'routing_config_keys', 'capabilities']);
    });
  });
}
