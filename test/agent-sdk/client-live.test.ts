/**
 * The SDK's `SwitchboardClient` against a real Switchboard test server (both stores), so its
 * paths, bodies and answers are the API's own: conversation pages with `updated_since` and
 * `next_cursor`, history as model messages, a send with an idempotency key that the fake Telegram
 * receives once, handoff / resume / close / reopen, and media upload then download.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SwitchboardClient, SwitchboardError } from '../../packages/agent/src/index.js';
import { startFakeTelegram, type FakeTelegram } from '../../fakes/telegram.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';
import { until } from '../outbound/helpers.js';

for (const kind of storeKinds()) {
  describe(`the SDK client against Switchboard on ${kind}`, () => {
    let s: TestServer;
    let tg: FakeTelegram;
    let sb: SwitchboardClient;
    let webhook: string;
    let update = 6100;

    async function inbound(chatId: number, text: string) {
      const r = await fetch(webhook, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'sdk-secret' },
        body: JSON.stringify({ update_id: ++update, message: { message_id: update, date: 1_700_000_000, chat: { id: chatId, type: 'private' }, from: { id: chatId, is_bot: false, first_name: `P${chatId}` }, text } }),
      });
      assert.equal(r.status, 200);
    }

    before(async () => {
      tg = await startFakeTelegram();
      s = await startServer(kind, { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_TELEGRAM_API_URL: tg.url } });
      const instanceId = (await s.api('POST', '/v1/instances', { name: 'sdk client' })).body.id;
      const conn = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'telegram', secrets: { bot_token: tg.token } });
      const ch = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: `sdk_${kind}_bot`, connection_id: conn.body.id, webhook_secret: 'sdk-secret' });
      assert.equal(ch.status, 201, ch.text);
      webhook = ch.body.webhook_url;
      const key = (await s.api('POST', '/v1/api-keys', { name: 'sdk', instance_ids: [instanceId] })).body.key;
      sb = new SwitchboardClient({ baseUrl: `${s.url}/`, apiKey: key, instanceId });
    });
    after(async () => {
      await s.close();
      await tg.close();
    });

    test('conversation pages: updated_since and next_cursor', async () => {
      await inbound(6201, 'first');
      const since = new Date().toISOString();
      await inbound(6202, 'second');
      await inbound(6203, 'third');
      const recent = await until(async () => {
        const r = await sb.listConversations({ updated_since: since });
        return r.count === 2 && r;
      }, 'the two conversations updated since');
      assert.deepEqual(recent.conversations.map((c) => c.contact?.id), ['6203', '6202']);
      const page1 = await sb.listConversations({ updated_since: since, limit: 1 });
      assert.equal(page1.count, 1);
      assert.ok(page1.next_cursor);
      const page2 = await sb.listConversations({ updated_since: since, limit: 1, cursor: page1.next_cursor! });
      assert.deepEqual(page2.conversations.map((c) => c.contact?.id), ['6202']);
      assert.equal(page2.next_cursor, null);
      await assert.rejects(sb.listConversations({ updated_since: 'last week' }), (e: unknown) => e instanceof SwitchboardError && e.status === 422);
    });

    test('history as model messages, a send once per idempotency key, and the conversation lifecycle', async () => {
      await inbound(6301, 'Where is my order?');
      const conv = await until(async () => (await sb.listConversations()).conversations.find((c) => c.contact?.id === '6301'), 'the conversation');
      assert.deepEqual(await sb.history(conv.id), [{ role: 'user', content: 'Where is my order?' }]);
      const a = await sb.send(conv.id, { text: 'On its **way**.' }, { idempotencyKey: 'sdk-1' });
      const b = await sb.send(conv.id, { text: 'On its **way**.' }, { idempotencyKey: 'sdk-1' });
      assert.equal(b.id, a.id);
      assert.equal((await until(() => tg.sentMessages(6301)[0], 'the answer at Telegram')).text, 'On its <b>way</b>.');

      assert.equal((await sb.handoff(conv.id, { reason: 'refund' })).mode, 'human');
      assert.equal((await sb.getConversation(conv.id)).mode, 'human');
      assert.equal((await sb.resume(conv.id)).mode, 'agent');
      assert.equal((await sb.close(conv.id)).status, 'closed');
      assert.equal((await sb.reopen(conv.id)).status, 'open');
    });

    test('media upload and download', async () => {
      const bytes = new Uint8Array(Buffer.from('%PDF-1.4 sdk test\n'));
      const item = await sb.uploadMedia(bytes, { mimeType: 'application/pdf', fileName: 'terms.pdf' });
      assert.equal(item.mime_type, 'application/pdf');
      const byId = await sb.downloadMedia(item.id);
      assert.deepEqual(Buffer.from(byId.bytes), Buffer.from(bytes));
      assert.match(byId.mimeType, /^application\/pdf/);
      const byUrl = await sb.downloadMedia(item);
      assert.deepEqual(Buffer.from(byUrl.bytes), Buffer.from(bytes));
    });
  });
}
