/**
 * One gate for web chat (issue 10, item 5): a visitor writes only through
 * POST /v1/webchat/{channel}/messages, which enforces the origin, flood and length rules. The raw
 * webhook URL refuses web channels even with a valid visitor signature, so those rules cannot be
 * walked around (before: 200 of 200 posts and 10,000-character texts accepted there).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';
import { send } from '../inbound/helpers.js';

for (const kind of storeKinds()) {
  describe(`web chat gate on ${kind}`, () => {
    let s: TestServer;
    let instanceId: string;
    let ch: { id: string; webhook_url: string };
    const secret = 'web-gate-secret';
    const sig = (visitor: string) => createHmac('sha256', secret).update(visitor).digest('hex');

    before(async () => {
      s = await startServer(kind);
      instanceId = (await s.api('POST', '/v1/instances', { name: 'gate' })).body.id;
      ch = (await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'web_chat', provider: 'web', external_identifier: 'gate-site', webhook_secret: secret, config: { allowed_origins: ['https://shop.example'] } })).body;
    });
    after(() => s.close());

    const messages = async () => Number((await s.services.store.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('channel_id', '=', ch.id).executeTakeFirstOrThrow()).n);

    test('the raw webhook URL refuses web channels, signed or not, long or short: nothing stored', async () => {
      for (let i = 0; i < 20; i++) {
        const body = JSON.stringify({ visitor_id: 'visitor-1', client_message_id: `raw-${i}`, text: i % 2 ? 'x'.repeat(10_000) : 'hi' });
        const r = await send({ url: ch.webhook_url, headers: { 'content-type': 'application/json', origin: 'https://evil.example', 'x-switchboard-visitor-signature': sig('visitor-1') }, body });
        assert.equal(r.status, 404, r.text);
      }
      assert.equal(await messages(), 0);
    });

    test('the widget route applies the origin, length and flood rules', async () => {
      const origin = { origin: 'https://shop.example' };
      const session = await s.api('POST', `/v1/webchat/${ch.id}/session`, {}, null, origin);
      assert.equal(session.status, 200, session.text);
      const { visitor_id, token } = session.body;
      const post = (text: string, n: number, headers = origin) => s.api('POST', `/v1/webchat/${ch.id}/messages`, { visitor_id, token, text, client_message_id: `w-${n}` }, null, headers);
      assert.equal((await post('hi', 0, { origin: 'https://evil.example' })).status, 403);
      assert.equal((await post('x'.repeat(10_000), 1)).status, 422);
      const statuses: number[] = [];
      for (let i = 2; i < 12; i++) statuses.push((await post(`m${i}`, i)).status);
      assert.ok(statuses.filter((x) => x === 202).length <= 5, `flood limit: ${statuses.join(',')}`);
      assert.ok(statuses.includes(429));
      assert.equal(await messages(), statuses.filter((x) => x === 202).length);
    });
  });
}
