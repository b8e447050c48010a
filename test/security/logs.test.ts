/**
 * Logs and errors never carry secrets (issue 10, item 8): requests are logged by route pattern,
 * so a token in a path (the Retell custom-LLM URL fetched without an upgrade) never reaches the
 * log; 422 bodies omit `input` for secret fields (secrets.*, webhook_secret, keys and tokens).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loggedUrl } from '../../src/log.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';

test('logged URLs: the route pattern, else the path with id- or token-like segments masked', () => {
  assert.equal(loggedUrl({ url: '/v1/webhooks/abc?hub.verify_token=x', routeOptions: { url: '/v1/webhooks/:channel_id' } }), '/v1/webhooks/:channel_id');
  assert.equal(loggedUrl({ url: '/v1/voice/retell/0b6c2f7e-0000-4000-8000-000000000000/tok3nXYZsecretvalue/call_1?x=1' }), '/v1/voice/retell/:masked/:masked/:masked');
});

for (const kind of storeKinds()) {
  describe(`secrets out of logs and 422 bodies on ${kind}`, () => {
    let s: TestServer;
    let instanceId: string;
    before(async () => {
      s = await startServer(kind, { startWorkers: false });
      instanceId = (await s.api('POST', '/v1/instances', { name: 'logs' })).body.id;
    });
    after(() => s.close());

    // Fastify's own request lines (SWITCHBOARD_REQUEST_LOG=full) carried the URL, Retell's
    // token segment included; the default access line carries the route pattern only.
    for (const mode of ['full', 'access']) {
      test(`a token-bearing path fetched without an upgrade is not written to the log (SWITCHBOARD_REQUEST_LOG=${mode})`, async () => {
        const was = process.env.SWITCHBOARD_REQUEST_LOG;
        process.env.SWITCHBOARD_REQUEST_LOG = mode;
        let srv: TestServer;
        try {
          srv = await startServer(kind, { startWorkers: false });
        } finally {
          if (was === undefined) delete process.env.SWITCHBOARD_REQUEST_LOG;
          else process.env.SWITCHBOARD_REQUEST_LOG = was;
        }
        try {
          const token = 'RetellTokenAbCdEf0123456789_secret';
          const r = await fetch(`${srv.url}/v1/voice/retell/0b6c2f7e-1111-4000-8000-000000000000/${token}/call_42`);
          assert.equal(r.status, 404);
          await r.text();
          const webhook = await fetch(`${srv.url}/v1/webhooks/0b6c2f7e-2222-4000-8000-000000000000?hub.verify_token=${token}`);
          await webhook.text();
          await new Promise((ok) => setImmediate(ok));
          const all = srv.logs.join('');
          assert.ok(all.includes('/v1/webhooks/:channel_id'), 'requests are logged by route pattern');
          assert.ok(!all.includes(token), 'the token reached the log');
        } finally {
          await srv.close();
        }
      });
    }

    test('422 bodies do not echo secret values', async () => {
      const secret = 'sk_live_' + 'S'.repeat(300);
      const cases = [
        { path: '/v1/credentials', body: { provider: 'resend', secrets: { api_key: 12345, webhook_secret: ['whsec_abc'] } } },
        { path: `/v1/instances/${instanceId}/connections`, body: { provider: 'telegram', secrets: 'bot_token=' + secret } },
        { path: `/v1/instances/${instanceId}/channels`, body: { channel_type: 'telegram', provider: 'telegram', external_identifier: 'x_bot', webhook_secret: secret } },
        { path: `/v1/instances/${instanceId}/channels`, body: { channel_type: 'telegram', provider: 'telegram', external_identifier: 'x_bot', webhook_secret: 42 } },
      ];
      for (const c of cases) {
        const r = await s.api('POST', c.path, c.body);
        assert.equal(r.status, 422, `${c.path}: ${r.text.slice(0, 200)}`);
        const secretIssues = r.body.detail.filter((d: { loc: string[] }) => d.loc.some((p) => ['secrets', 'webhook_secret', 'api_key'].includes(p)));
        assert.ok(secretIssues.length > 0, r.text);
        for (const d of secretIssues) assert.equal('input' in d, false, JSON.stringify(d));
        assert.ok(!r.text.includes(secret) && !r.text.includes('12345') && !r.text.includes('whsec_abc'), r.text.slice(0, 300));
      }
      // Other fields keep Pydantic's input.
      const plain = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'fax', provider: 'telegram', external_identifier: 'x' });
      assert.equal(plain.body.detail[0].input, 'fax');
    });
  });
}
