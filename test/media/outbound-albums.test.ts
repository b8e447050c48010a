/**
 * Telegram albums, on every store: several images/videos sent in one message go as one
 * sendMediaGroup (multipart, each file an attach:// part with its exact bytes), the text as the
 * first item's caption; documents form an album of their own; a single file still goes alone.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startFakeTelegram, type FakeTelegram } from '../../fakes/telegram.js';
import { startFakeAgent, type FakeAgent } from '../inbound/fake-agent.js';
import { storeKinds } from '../helpers/stores.js';
import { messageReaches, receivedConversation } from '../outbound/helpers.js';
import { PDF, PNG, sha, startMediaServer, upload, type MediaServer } from './helpers.js';

const MP4 = Buffer.concat([Buffer.from('\0\0\0\x18ftypmp42'), randomBytes(400)]);
const TG_SECRET = 'tg-album-secret';

for (const store of storeKinds()) {
  describe(`Telegram albums (${store})`, () => {
    let s: MediaServer;
    let tg: FakeTelegram;
    let agent: FakeAgent;
    let instanceId: string;
    let channel: any;
    let n = 400;

    before(async () => {
      tg = await startFakeTelegram();
      agent = await startFakeAgent();
      s = await startMediaServer(store, 'fs', { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_TELEGRAM_API_URL: tg.url }, services: { sendScheduleMs: [50, 50, 50] } });
      const inst = await s.api('POST', '/v1/instances', { name: 'albums', agent_url: agent.url });
      instanceId = inst.body.id;
      agent.secret = inst.body.signing_secret;
      const conn = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'telegram', secrets: { bot_token: tg.token } });
      channel = (await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: 'switchboard_test_bot', connection_id: conn.body.id, webhook_secret: TG_SECRET })).body;
    });
    after(async () => {
      await s.close();
      await Promise.all([tg.close(), agent.close()]);
    });

    async function chat(chatId: number, text: string): Promise<string> {
      const id = ++n;
      const r = await fetch(channel.webhook_url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TG_SECRET }, body: JSON.stringify({ update_id: id, message: { message_id: id, date: 1_700_000_000, chat: { id: chatId, type: 'private' }, from: { id: chatId, is_bot: false, first_name: 'Ada' }, text } }) });
      assert.equal(r.status, 200);
      return receivedConversation(agent, (d) => d.text === text);
    }

    async function sendAll(conv: string, text: string, ids: string[]): Promise<void> {
      const r = await s.api('POST', `/v1/instances/${instanceId}/conversations/${conv}/messages`, { text, attachments: ids.map((media_id) => ({ media_id })) });
      assert.equal(r.status, 202, r.text);
      const m = await messageReaches(s, instanceId, r.body.id, ['sent', 'delivered', 'failed'], 20_000);
      assert.notEqual(m.status, 'failed', JSON.stringify(m.error));
    }

    test('two photos and a video are one album with the caption on the first; two PDFs another album', async () => {
      const conv = await chat(501, 'album please');
      const PNG2 = Buffer.concat([PNG, Buffer.from('x')]);
      const ids = [
        (await upload(s, instanceId, PNG, 'image/png', 'a.png')).body.id,
        (await upload(s, instanceId, PNG2, 'image/png', 'b.png')).body.id,
        (await upload(s, instanceId, MP4, 'video/mp4', 'c.mp4')).body.id,
        (await upload(s, instanceId, PDF, 'application/pdf', 'one.pdf')).body.id,
        (await upload(s, instanceId, PDF, 'application/pdf', 'two.pdf')).body.id,
      ];
      await sendAll(conv, 'Your **photos**', ids);
      const calls = tg.requests.filter((q) => q.path.endsWith('/sendMediaGroup'));
      assert.equal(calls.length, 2, 'one request per album');
      assert.match(String(calls[0]!.headers['content-type']), /^multipart\/form-data; boundary=/);
      const sent = tg.sentMessages(501);
      assert.deepEqual(sent.map((m) => [m.kind, m.upload?.fileName, sha(m.upload!.bytes)]), [
        ['photo', 'a.png', sha(PNG)], ['photo', 'b.png', sha(PNG2)], ['video', 'c.mp4', sha(MP4)], ['document', 'one.pdf', sha(PDF)], ['document', 'two.pdf', sha(PDF)],
      ]);
      assert.deepEqual(sent.map((m) => m.text), ['Your <b>photos</b>', '', '', '', '']);
      assert.equal(sent[0]!.parse_mode, 'HTML');
      assert.ok(sent[0]!.media_group_id && sent.slice(0, 3).every((m) => m.media_group_id === sent[0]!.media_group_id));
      assert.ok(sent[3]!.media_group_id && sent[3]!.media_group_id !== sent[0]!.media_group_id && sent[4]!.media_group_id === sent[3]!.media_group_id);
    });

    test('a photo and a PDF are not an album: sendPhoto then sendDocument, as before', async () => {
      const conv = await chat(502, 'two kinds');
      const before = tg.requests.filter((q) => q.path.endsWith('/sendMediaGroup')).length;
      await sendAll(conv, 'mixed', [(await upload(s, instanceId, PNG, 'image/png', 'p.png')).body.id, (await upload(s, instanceId, PDF, 'application/pdf', 'd.pdf')).body.id]);
      assert.equal(tg.requests.filter((q) => q.path.endsWith('/sendMediaGroup')).length, before);
      assert.deepEqual(tg.sentMessages(502).map((m) => [m.kind, m.text, m.media_group_id]), [['photo', 'mixed', undefined], ['document', '', undefined]]);
    });
  });
}
