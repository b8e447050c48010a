/**
 * Inbound media end to end, on every store and blob store: a Telegram photo, a WhatsApp voice
 * note and a Twilio MMS reach the agent — on the first delivery — as ready items whose signed
 * links serve the provider's exact bytes, still after the provider's copy is gone; a wrong
 * WhatsApp hash and an oversized file are reported as failed/too_large, never stored as good.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startFakeTelegram, type FakeTelegram } from '../../fakes/telegram.js';
import { startFakeGraph, type FakeGraph } from '../../fakes/graph.js';
import { startFakeTwilio, type FakeTwilio } from '../../fakes/twilio.js';
import { startFakeAgent, type Delivery, type FakeAgent } from '../inbound/fake-agent.js';
import { metaSign } from '../inbound/helpers.js';
import { storeKinds } from '../helpers/stores.js';
import { until } from '../outbound/helpers.js';
import { BLOB_KINDS, fetchBytes, PNG, sha, startMediaServer, type MediaServer } from './helpers.js';

const MAX = 200_000;
const OGG = Buffer.concat([Buffer.from('OggS\0\x02'), randomBytes(5000)]);

for (const store of storeKinds()) {
  for (const blob of BLOB_KINDS) {
    describe(`inbound media capture (${store}, ${blob})`, () => {
      let s: MediaServer;
      let tg: FakeTelegram;
      let graph: FakeGraph;
      let tw: FakeTwilio;
      let agent: FakeAgent;
      let instanceId: string;
      let tgChannel: any;
      let waChannel: any;
      let smsChannel: any;
      const TG_SECRET = 'tg-media-secret';
      const APP_SECRET = 'meta-app-secret-media';
      let n = 5000;

      before(async () => {
        tg = await startFakeTelegram();
        graph = await startFakeGraph();
        tw = await startFakeTwilio({ phoneNumbers: ['+14155550100'] });
        agent = await startFakeAgent();
        s = await startMediaServer(store, blob, {
          env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_TELEGRAM_API_URL: tg.url, SWITCHBOARD_META_GRAPH_URL: graph.baseUrl, SWITCHBOARD_TWILIO_API_URL: tw.url, SWITCHBOARD_MEDIA_MAX_BYTES: String(MAX) },
          services: { captureScheduleMs: [50, 50] },
        });
        const inst = await s.api('POST', '/v1/instances', { name: 'media', agent_url: agent.url });
        instanceId = inst.body.id;
        agent.secret = inst.body.signing_secret;
        const mk = async (path: string, body: unknown) => {
          const r = await s.api('POST', `/v1/instances/${instanceId}/${path}`, body);
          assert.equal(r.status, 201, r.text);
          return r.body;
        };
        const tgConn = await mk('connections', { provider: 'telegram', secrets: { bot_token: tg.token } });
        tgChannel = await mk('channels', { channel_type: 'telegram', provider: 'telegram', external_identifier: 'switchboard_test_bot', connection_id: tgConn.id, webhook_secret: TG_SECRET });
        const waConn = await mk('connections', { provider: 'meta_cloud', secrets: { access_token: graph.accessToken, app_secret: APP_SECRET } });
        waChannel = await mk('channels', { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: '+15550000000', connection_id: waConn.id, config: { phone_number_id: graph.phoneNumberId } });
        const twConn = await mk('connections', { provider: 'twilio', secrets: { account_sid: tw.accountSid, auth_token: tw.authToken } });
        smsChannel = await mk('channels', { channel_type: 'sms', provider: 'twilio', external_identifier: '+14155550100', connection_id: twConn.id });
      });
      after(async () => {
        await s.close();
        await Promise.all([tg.close(), graph.close(), tw.close(), agent.close()]);
      });

      async function telegramUpdate(message: Record<string, unknown>): Promise<void> {
        const id = ++n;
        const r = await fetch(tgChannel.webhook_url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TG_SECRET },
          body: JSON.stringify({ update_id: id, message: { message_id: id, date: 1_700_000_000, chat: { id: 42, type: 'private' }, from: { id: 42, is_bot: false, first_name: 'Ada' }, ...message } }),
        });
        assert.equal(r.status, 200);
      }

      async function whatsappAudio(mediaId: string): Promise<string> {
        const { payload, wamid } = graph.inboundText({ from: '+16505550123', text: 'x' });
        const msg = (payload as any).entry[0].changes[0].value.messages[0];
        delete msg.text;
        msg.type = 'audio';
        msg.audio = { id: mediaId, mime_type: 'audio/ogg; codecs=opus', voice: true };
        const body = JSON.stringify(payload);
        const r = await fetch(waChannel.webhook_url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSign(APP_SECRET, body) }, body });
        assert.equal(r.status, 200);
        return wamid;
      }

      /** The first delivery of the message.received event matching `pred` (first attempt, not a retry). */
      function firstDelivery(pred: (data: any) => boolean): Promise<Delivery> {
        return until(() => agent.deliveries.find((d) => d.body?.type === 'message.received' && pred(d.body.data)), 'the message.received delivery', 20_000);
      }

      test('a Telegram photo reaches the agent as a ready image whose link serves the same bytes, after the provider forgot it', async () => {
        const fileId = tg.addFile(PNG, 'photo.png', 'photos');
        await telegramUpdate({ photo: [{ file_id: fileId, file_unique_id: 'u1', width: 1, height: 1, file_size: PNG.length }], caption: 'look at this' });
        const d = await firstDelivery((data) => data.attachments?.[0]?.caption === 'look at this');
        assert.equal(d.verified, true);
        const [item] = d.body.data.attachments;
        assert.deepEqual({ kind: item.kind, status: item.status, size: item.size, sha256: item.sha256, mime_type: item.mime_type }, { kind: 'image', status: 'ready', size: PNG.length, sha256: sha(PNG), mime_type: 'image/png' });
        assert.equal(d.body.data.media, undefined, 'the provider references are not in data (they stay in raw)');
        tg.removeFile(fileId);
        const got = await fetchBytes(item.url);
        assert.equal(got.status, 200);
        assert.equal(sha(got.body), sha(PNG));
        // The events API shows the same items.
        const events = await s.api('GET', `/v1/instances/${instanceId}/events?after=0&limit=100`);
        const ev = events.body.events.find((e: any) => e.id === d.id);
        assert.equal(ev.data.attachments[0].id, item.id);
        assert.equal(ev.data.attachments[0].status, 'ready');
      });

      test('a WhatsApp voice note is captured with the Bearer token, its sha256 checked, served after Graph dropped it', async () => {
        const mediaId = graph.addMedia(OGG, 'audio/ogg');
        const wamid = await whatsappAudio(mediaId);
        const d = await firstDelivery((data) => data.attachments?.length && JSON.stringify(data.raw ?? {}).includes(wamid));
        const [item] = d.body.data.attachments;
        assert.deepEqual({ kind: item.kind, status: item.status, size: item.size, sha256: item.sha256, mime_type: item.mime_type }, { kind: 'voice', status: 'ready', size: OGG.length, sha256: sha(OGG), mime_type: 'audio/ogg' });
        const lookups = graph.requests.filter((r) => r.path.endsWith(`/${mediaId}`) || r.path.includes(`/media-download/${mediaId}`));
        assert.ok(lookups.length >= 2 && lookups.every((r) => r.headers.authorization === `Bearer ${graph.accessToken}`), 'lookup and download both carry the token');
        graph.removeMedia(mediaId);
        assert.equal(sha((await fetchBytes(item.url)).body), sha(OGG));
      });

      test('a Twilio MMS is fetched with Basic auth (through the CDN redirect) and served after Twilio deleted it', async () => {
        const url = tw.addMedia(PNG, 'image/png');
        const params = tw.inboundSms({ from: '+16505550199', body: 'see attached', media: [{ url, contentType: 'image/png' }] });
        assert.equal(await tw.deliverWebhook(smsChannel.webhook_url, params), 200);
        const d = await firstDelivery((data) => data.text === 'see attached');
        const [item] = d.body.data.attachments;
        assert.deepEqual({ kind: item.kind, status: item.status, sha256: item.sha256 }, { kind: 'image', status: 'ready', sha256: sha(PNG) });
        const mediaReq = tw.requests.find((r) => r.path.includes('/Media/'));
        assert.equal(mediaReq?.headers.authorization, `Basic ${Buffer.from(`${tw.accountSid}:${tw.authToken}`).toString('base64')}`);
        const cdnReq = tw.requests.find((r) => r.path.startsWith('/cdn/'));
        assert.equal(cdnReq?.headers.authorization, undefined, 'the credentials are not sent on to the CDN');
        tw.removeMedia(url);
        assert.equal(sha((await fetchBytes(item.url)).body), sha(PNG));
      });

      test('a WhatsApp file whose bytes do not match Graph\'s sha256 is reported failed, never stored as good', async () => {
        const mediaId = graph.addMedia(OGG, 'audio/ogg', { sha256: 'ab'.repeat(32) });
        const wamid = await whatsappAudio(mediaId);
        const d = await firstDelivery((data) => JSON.stringify(data.raw ?? {}).includes(wamid));
        const [item] = d.body.data.attachments;
        assert.equal(item.status, 'failed');
        assert.equal(item.url, null);
        assert.match(item.error, /sha256/);
        const row = await s.services.media.repo.get(item.id);
        assert.equal(row?.blob_key, null);
        assert.equal(await s.services.media.blobs.get(`${instanceId}/${item.id}`), undefined);
        const api = await s.api('GET', `/v1/instances/${instanceId}/media/${item.id}`);
        assert.equal(api.body.status, 'failed');
        assert.equal((await fetchBytes(`${s.url}/v1/instances/${instanceId}/media/${item.id}/content`, { 'x-api-key': s.adminKey })).status, 404);
      });

      test('files over the size cap are too_large: Telegram (declared size) and Twilio (Content-Length), nothing stored', async () => {
        const big = randomBytes(MAX + 1);
        const fileId = tg.addFile(big, 'big.pdf');
        await telegramUpdate({ document: { file_id: fileId, file_unique_id: 'u2', file_name: 'big.pdf', mime_type: 'application/pdf' }, caption: 'a big one' });
        const d1 = await firstDelivery((data) => data.attachments?.[0]?.caption === 'a big one');
        assert.equal(d1.body.data.attachments[0].status, 'too_large');
        assert.equal(d1.body.data.attachments[0].url, null);
        const url = tw.addMedia(big, 'video/mp4');
        assert.equal(await tw.deliverWebhook(smsChannel.webhook_url, tw.inboundSms({ from: '+16505550198', body: 'big video', media: [{ url, contentType: 'video/mp4' }] })), 200);
        const d2 = await firstDelivery((data) => data.text === 'big video');
        const item = d2.body.data.attachments[0];
        assert.equal(item.status, 'too_large');
        assert.equal((await s.services.media.repo.get(item.id))?.blob_key, null);
      });
    });
  }
}
