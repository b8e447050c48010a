/**
 * Outbound files on Vonage, on every store: WhatsApp messages by URL (a signed Switchboard link
 * Vonage fetches, serving the same bytes), the text as the first file's caption, types WhatsApp
 * does not play as an image sent as a file; the limits are checked up front (422): an image over
 * 5 MB, and any attachment on an SMS channel.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeVonage, type FakeVonage } from '../../fakes/vonage.js';
import { startFakeAgent, type FakeAgent } from '../inbound/fake-agent.js';
import { storeKinds } from '../helpers/stores.js';
import { messageReaches, receivedConversation } from '../outbound/helpers.js';
import { fetchBytes, PDF, PNG, sha, startMediaServer, upload, type MediaServer } from './helpers.js';

const WEBP = Buffer.concat([Buffer.from('RIFF\x10\0\0\0WEBPVP8 '), Buffer.alloc(64, 1)]);

for (const store of storeKinds()) {
  describe(`outbound media on Vonage (${store})`, () => {
    let s: MediaServer;
    let vg: FakeVonage;
    let agent: FakeAgent;
    let instanceId: string;
    let wa: any;
    let sms: any;

    before(async () => {
      vg = await startFakeVonage();
      agent = await startFakeAgent();
      s = await startMediaServer(store, 'fs', { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' }, services: { sendScheduleMs: [50, 50, 50] } });
      const inst = await s.api('POST', '/v1/instances', { name: 'vonage files', agent_url: agent.url });
      instanceId = inst.body.id;
      agent.secret = inst.body.signing_secret;
      const c = vg.credentials;
      const conn = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'vonage', secrets: { api_key: c.apiKey, api_secret: c.apiSecret, signature_secret: c.signatureSecret }, settings: { api_base_url: vg.url } });
      assert.equal(conn.status, 201, conn.text);
      wa = (await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'whatsapp', provider: 'vonage', external_identifier: '+447700900333', connection_id: conn.body.id })).body;
      sms = (await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'sms', provider: 'vonage', external_identifier: '+447700900444', connection_id: conn.body.id })).body;
    });
    after(async () => {
      await s.close();
      await Promise.all([vg.close(), agent.close()]);
    });

    async function conversation(channel: any, from: string, text: string, kind: 'whatsapp' | 'sms'): Promise<string> {
      const payload = vg.inboundText({ from, to: channel.external_identifier.slice(1), text, channel: kind });
      assert.equal(await vg.deliverWebhook(channel.webhook_url, vg.credentials.signatureSecret, payload), 200);
      return receivedConversation(agent, (d) => d.text === text);
    }

    test('WhatsApp: one message per file by signed link, the text as the first caption; a WebP image goes as a file', async () => {
      const conv = await conversation(wa, '447946000010', 'files please', 'whatsapp');
      const png = (await upload(s, instanceId, PNG, 'image/png', 'chart.png')).body.id;
      const pdf = (await upload(s, instanceId, PDF, 'application/pdf', 'report.pdf')).body.id;
      const webp = (await upload(s, instanceId, WEBP, 'image/webp', 'pic.webp')).body.id;
      const r = await s.api('POST', `/v1/instances/${instanceId}/conversations/${conv}/messages`, { text: 'Here you go', attachments: [{ media_id: png }, { media_id: pdf }, { media_id: webp }] });
      assert.equal(r.status, 202, r.text);
      const m = await messageReaches(s, instanceId, r.body.id, ['sent', 'delivered', 'failed'], 20_000);
      assert.notEqual(m.status, 'failed', JSON.stringify(m.error));
      const sent = vg.sentMessages('447946000010');
      assert.deepEqual(sent.map((x) => x.message_type), ['image', 'file', 'file'], 'no separate text message');
      const image = sent[0]!.body.image as any;
      const file = sent[1]!.body.file as any;
      const third = sent[2]!.body.file as any;
      assert.equal(image.caption, 'Here you go');
      assert.equal(file.name, 'report.pdf');
      assert.equal(third.name, 'pic.webp');
      for (const [u, want] of [[image.url, PNG], [file.url, PDF], [third.url, WEBP]] as const) {
        assert.match(u, new RegExp(`^${s.url}/v1/media/[0-9a-f-]{36}\\?expires=\\d+&signature=[0-9a-f]{64}$`));
        const got = await fetchBytes(u);
        assert.equal(got.status, 200);
        assert.equal(sha(got.body), sha(want));
      }
    });

    test('limits up front: an image over WhatsApp\'s 5 MB and any file on an SMS channel answer 422, nothing sent', async () => {
      const conv = await conversation(wa, '447946000011', 'big one', 'whatsapp');
      const big = (await upload(s, instanceId, Buffer.alloc(5 * 1024 * 1024 + 1, 7), 'image/jpeg', 'big.jpg')).body.id;
      const before = vg.sentMessages().length;
      const r = await s.api('POST', `/v1/instances/${instanceId}/conversations/${conv}/messages`, { text: 'x', attachments: [{ media_id: big }] });
      assert.equal(r.status, 422, r.text);
      assert.deepEqual(r.body.detail[0].loc, ['body', 'attachments', 0, 'media_id']);
      assert.match(r.body.detail[0].msg, /vonage accepts at most 5242880 bytes/);
      const smsConv = await conversation(sms, '447946000012', 'sms here', 'sms');
      const png = (await upload(s, instanceId, PNG, 'image/png')).body.id;
      const r2 = await s.api('POST', `/v1/instances/${instanceId}/conversations/${smsConv}/messages`, { text: 'x', attachments: [{ media_id: png }] });
      assert.equal(r2.status, 422, r2.text);
      assert.deepEqual(r2.body.detail[0].loc, ['body', 'attachments']);
      assert.match(r2.body.detail[0].msg, /cannot carry attachments/);
      assert.equal(vg.sentMessages().length, before);
    });
  });
}
