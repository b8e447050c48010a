/** Secrets are encrypted at rest, never returned and never logged. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';

const SECRETS = {
  webhook: 'whsecret-AAAA1111',
  bot: '123456:BOT-TOKEN-ZZZ',
  twilioToken: 'twilio-auth-token-QQQ',
  resendKey: 're_live_key_WWW',
};

for (const kind of storeKinds()) {
  describe(`secrets on ${kind}`, () => {
    let s: TestServer;
    let instanceId: string;
    const texts: string[] = [];

    before(async () => {
      s = await startServer(kind);
      const inst = await s.api('POST', '/v1/instances', { name: 'secretive' });
      instanceId = inst.body.id;
      texts.push(inst.text);
    });
    after(() => s.close());

    test('accounts and channels accept secrets and never show them', async () => {
      const conn = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'telegram', name: 'main bot', secrets: { bot_token: SECRETS.bot }, settings: { api_base_url: 'http://127.0.0.1:9/' } });
      assert.equal(conn.status, 201);
      assert.deepEqual(conn.body.secret_names, ['bot_token']);
      assert.ok(!('secrets' in conn.body));
      const cred = await s.api('POST', '/v1/credentials', { provider: 'twilio', secrets: { account_sid: 'AC123', auth_token: SECRETS.twilioToken } });
      const resend = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'resend', secrets: { api_key: SECRETS.resendKey } });
      const ch = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: 'secret_bot', connection_id: conn.body.id, webhook_secret: SECRETS.webhook });
      assert.equal(ch.status, 201);
      const patched = await s.api('PATCH', `/v1/instances/${instanceId}/channels/${ch.body.id}`, { webhook_secret: SECRETS.webhook + '2' });
      texts.push(conn.text, cred.text, resend.text, ch.text, patched.text);
      for (const path of [`/v1/instances/${instanceId}/channels`, `/v1/instances/${instanceId}/connections`, `/v1/instances/${instanceId}/connections/${conn.body.id}`, '/v1/credentials', `/v1/credentials/${cred.body.id}`, `/v1/instances/${instanceId}`, '/v1/instances']) {
        texts.push((await s.api('GET', path)).text);
      }
      for (const t of texts) for (const secret of Object.values(SECRETS)) assert.ok(!t.includes(secret), `a response leaked ${secret}`);
    });

    test('the store holds only ciphertext, which decrypts to the secret', async () => {
      const dump = JSON.stringify([
        await s.services.store.db.selectFrom('channels').selectAll().execute(),
        await s.services.store.db.selectFrom('accounts').selectAll().execute(),
        await s.services.store.db.selectFrom('instances').selectAll().execute(),
      ]);
      for (const secret of Object.values(SECRETS)) assert.ok(!dump.includes(secret), `stored in clear: ${secret}`);
      const row = await s.services.store.db.selectFrom('channels').selectAll().where('external_identifier', '=', 'secret_bot').executeTakeFirstOrThrow();
      assert.equal(s.services.channels.webhookSecret(row), SECRETS.webhook + '2');
      // Bound to its row: the same ciphertext under another channel id does not decrypt.
      assert.throws(() => s.services.channels.webhookSecret({ ...row, id: '00000000-0000-4000-8000-000000000000' }));
    });

    test('connection secrets are required per provider', async () => {
      const r = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'meta_cloud', secrets: { access_token: 'x' } });
      assert.equal(r.status, 422);
      assert.deepEqual(r.body.detail.map((d: any) => [d.type, d.loc]), [['missing', ['body', 'secrets', 'app_secret']]]);
      const g = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'gmail', secrets: { client_id: 'a', client_secret: 7 } });
      assert.equal(g.status, 422);
      assert.deepEqual(g.body.detail.map((d: any) => [d.type, d.loc]), [['string_type', ['body', 'secrets', 'client_secret']]]);
    });

    test('no log line contains a secret or an API key', async () => {
      // A request with every secret-bearing header, logged at info level.
      const logsBefore = s.logs.length;
      await fetch(`${s.url}/v1/instances/${instanceId}/channels?hub.verify_token=${SECRETS.webhook}`, { headers: { 'x-api-key': s.adminKey, 'x-telegram-bot-api-secret-token': SECRETS.webhook } });
      // The access line is written when the response has gone out, which may be just after fetch resolves.
      for (let i = 0; i < 100 && !s.logs.slice(logsBefore).some((l) => l.includes('"msg":"request"')); i++) await new Promise((r) => setTimeout(r, 10));
      const all = s.logs.join('\n');
      assert.ok(all.length > 0, 'the server logged something');
      for (const secret of [...Object.values(SECRETS), s.adminKey]) assert.ok(!all.includes(secret), `logged: ${secret}`);
      // One access line per request (the default), with the route's pattern, status and request id.
      const lines = s.logs.slice(logsBefore).flatMap((l) => l.split('\n')).filter(Boolean).map((l) => JSON.parse(l) as { req_id?: string; msg?: string; route?: string; status?: number });
      const access = lines.filter((l) => l.msg === 'request' && l.route === '/v1/instances/:instance_id/channels');
      assert.equal(access.length, 1, 'one access line for the request');
      assert.equal(access[0].status, 200);
      assert.ok(typeof access[0].req_id === 'string' && access[0].req_id.length > 0, 'the access line has a request id');
      assert.ok(!lines.some((l) => l.msg === 'incoming request'), "Fastify's two lines per request are off by default (SWITCHBOARD_REQUEST_LOG=full)");
    });
  });
}
