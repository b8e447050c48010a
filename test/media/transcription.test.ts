/**
 * Voice notes transcribed, end to end on every store: an instance names an OpenAI-compatible
 * transcription endpoint (the local fake checks Bearer auth and the multipart fields as OpenAI
 * documents them); a WhatsApp voice note and a Telegram voice reach the agent with the transcript
 * in the item and as the event's text, on the first delivery. The key is write-only (encrypted,
 * never returned or logged); a failing endpoint leaves no transcript and the event still goes out.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startFakeTelegram, type FakeTelegram } from '../../fakes/telegram.js';
import { startFakeGraph, type FakeGraph } from '../../fakes/graph.js';
import { startFakeOpenAI, type FakeOpenAI } from '../../fakes/openai.js';
import { startFakeAgent, type Delivery, type FakeAgent } from '../inbound/fake-agent.js';
import { metaSign } from '../inbound/helpers.js';
import { storeKinds } from '../helpers/stores.js';
import { until } from '../outbound/helpers.js';
import { sha, startMediaServer, type MediaServer } from './helpers.js';

const OGG = Buffer.concat([Buffer.from('OggS\0\x02'), randomBytes(6000)]);
const TG_SECRET = 'tg-transcribe-secret';
const APP_SECRET = 'meta-app-secret-transcribe';

for (const store of storeKinds()) {
  describe(`voice-note transcription (${store})`, () => {
    let s: MediaServer;
    let tg: FakeTelegram;
    let graph: FakeGraph;
    let ai: FakeOpenAI;
    let agent: FakeAgent;
    let instanceId: string;
    let tgChannel: any;
    let waChannel: any;
    let n = 7000;

    before(async () => {
      tg = await startFakeTelegram();
      graph = await startFakeGraph();
      ai = await startFakeOpenAI();
      agent = await startFakeAgent();
      s = await startMediaServer(store, 'fs', {
        env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_TELEGRAM_API_URL: tg.url, SWITCHBOARD_META_GRAPH_URL: graph.baseUrl },
        services: { captureScheduleMs: [50, 50] },
      });
      const inst = await s.api('POST', '/v1/instances', { name: 'voice', agent_url: agent.url, transcription: { url: ai.baseUrl, model: 'whisper-1', language: 'en', api_key: ai.apiKey } });
      assert.equal(inst.status, 201, inst.text);
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
    });
    after(async () => {
      await s.close();
      await Promise.all([tg.close(), graph.close(), ai.close(), agent.close()]);
    });

    async function whatsappVoice(mediaId: string): Promise<string> {
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

    async function telegramVoice(fileId: string): Promise<number> {
      const id = ++n;
      const r = await fetch(tgChannel.webhook_url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TG_SECRET },
        body: JSON.stringify({ update_id: id, message: { message_id: id, date: 1_700_000_000, chat: { id: 42, type: 'private' }, from: { id: 42, is_bot: false, first_name: 'Ada' }, voice: { file_id: fileId, file_unique_id: `v${id}`, duration: 2, mime_type: 'audio/ogg', file_size: OGG.length } } }),
      });
      assert.equal(r.status, 200);
      return id;
    }

    function firstDelivery(pred: (data: any) => boolean): Promise<Delivery> {
      return until(() => agent.deliveries.find((d) => d.body?.type === 'message.received' && pred(d.body.data)), 'the message.received delivery', 20_000);
    }

    test('the settings are returned without the key, which is stored encrypted and never logged', async () => {
      const got = await s.api('GET', `/v1/instances/${instanceId}`);
      assert.deepEqual(got.body.transcription, { url: ai.baseUrl, model: 'whisper-1', language: 'en' });
      assert.ok(!got.text.includes(ai.apiKey));
      const row = await s.services.repos.instances.get(instanceId);
      assert.ok(row?.transcription_api_key_enc && !row.transcription_api_key_enc.includes(ai.apiKey));
      assert.ok(!row.transcription?.includes(ai.apiKey));
    });

    test('a WhatsApp voice note reaches the agent with its transcript as the text', async () => {
      ai.transcribe = () => ({ text: '  Hello from a WhatsApp voice note.  ' });
      const before = ai.transcriptions.length;
      const mediaId = graph.addMedia(OGG, 'audio/ogg');
      const wamid = await whatsappVoice(mediaId);
      const d = await firstDelivery((data) => JSON.stringify(data.raw ?? {}).includes(wamid));
      assert.equal(d.verified, true);
      const [item] = d.body.data.attachments;
      assert.equal(item.status, 'ready');
      assert.equal(item.kind, 'voice');
      assert.equal(item.transcript, 'Hello from a WhatsApp voice note.');
      assert.equal(d.body.data.text, 'Hello from a WhatsApp voice note.');
      const req = ai.transcriptions[before]!;
      assert.equal(req.headers.authorization, `Bearer ${ai.apiKey}`);
      assert.equal(req.fields.model, 'whisper-1');
      assert.equal(req.fields.language, 'en');
      assert.match(req.file.fileName, /\.ogg$/);
      assert.equal(sha(req.file.bytes), sha(OGG), 'the endpoint got the captured bytes');
      // The history shows the transcript as the message's text too.
      const msgs = await s.api('GET', `/v1/instances/${instanceId}/conversations/${d.body.conversation_id}/messages`);
      assert.equal(msgs.status, 200, msgs.text);
      const m = msgs.body.messages.find((x: any) => x.attachments?.[0]?.id === item.id);
      assert.equal(m?.text, 'Hello from a WhatsApp voice note.');
      assert.equal(m.attachments[0].transcript, 'Hello from a WhatsApp voice note.');
    });

    test('a Telegram voice reaches the agent with its transcript', async () => {
      ai.transcribe = () => ({ text: 'Telegram speaking.' });
      const fileId = tg.addFile(OGG, 'voice.oga', 'voice');
      const updateId = await telegramVoice(fileId);
      const d = await firstDelivery((data) => data.raw?.message_id === updateId);
      const [item] = d.body.data.attachments;
      assert.equal(item.kind, 'voice');
      assert.equal(item.sha256, sha(OGG));
      assert.equal(item.transcript, 'Telegram speaking.');
      assert.equal(d.body.data.text, 'Telegram speaking.');
    });

    test('a failing endpoint leaves no transcript, logs a warning, and the event is still delivered with its media', async () => {
      ai.transcribe = () => ({ status: 500 });
      const mediaId = graph.addMedia(OGG, 'audio/ogg');
      const wamid = await whatsappVoice(mediaId);
      const d = await firstDelivery((data) => JSON.stringify(data.raw ?? {}).includes(wamid));
      const [item] = d.body.data.attachments;
      assert.equal(item.status, 'ready');
      assert.equal(item.transcript, undefined);
      assert.ok(!d.body.data.text, 'no text was made up');
      assert.ok(s.logs.some((l) => l.includes('transcription failed') && l.includes('HTTP 500')));
      assert.ok(s.logs.every((l) => !l.includes(ai.apiKey)), 'the key never appears in the logs');
    });

    test('create and PATCH are checked: complete settings, https to public hosts, a new url needs its key; null turns it off', async () => {
      const bad = await s.api('POST', '/v1/instances', { name: 'x', transcription: { url: ai.baseUrl, api_key: 'k' } });
      assert.equal(bad.status, 422);
      assert.ok(bad.body.detail.some((d: any) => d.loc.join('.') === 'body.transcription.model'));
      const clear = await s.api('POST', '/v1/instances', { name: 'x', transcription: { url: 'http://transcribe.example.com/v1', model: 'whisper-1', api_key: 'k' } });
      assert.equal(clear.status, 422);
      assert.deepEqual(clear.body.detail[0].loc, ['body', 'transcription', 'url']);
      const moved = await s.api('PATCH', `/v1/instances/${instanceId}`, { transcription: { url: 'https://transcribe.example.com/v1' } });
      assert.equal(moved.status, 422);
      assert.ok(moved.body.detail.some((d: any) => d.loc.join('.') === 'body.transcription.api_key'));
      const model = await s.api('PATCH', `/v1/instances/${instanceId}`, { transcription: { model: 'gpt-4o-mini-transcribe', language: null } });
      assert.equal(model.status, 200, model.text);
      assert.deepEqual(model.body.transcription, { url: ai.baseUrl, model: 'gpt-4o-mini-transcribe' });
      const encBefore = (await s.services.repos.instances.get(instanceId))?.transcription_api_key_enc;
      const rotated = await s.api('PATCH', `/v1/instances/${instanceId}`, { transcription: { api_key: 'sk-rotated' } });
      assert.equal(rotated.status, 200, rotated.text);
      assert.notEqual((await s.services.repos.instances.get(instanceId))?.transcription_api_key_enc, encBefore, 'the key alone can be replaced');
      const off = await s.api('PATCH', `/v1/instances/${instanceId}`, { transcription: null });
      assert.equal(off.body.transcription, null);
      const row = await s.services.repos.instances.get(instanceId);
      assert.equal(row?.transcription_api_key_enc, null);
      // Off: a voice note is captured and not sent anywhere.
      const calls = ai.transcriptions.length;
      const mediaId = graph.addMedia(OGG, 'audio/ogg');
      const wamid = await whatsappVoice(mediaId);
      const d = await firstDelivery((data) => JSON.stringify(data.raw ?? {}).includes(wamid));
      assert.equal(d.body.data.attachments[0].status, 'ready');
      assert.equal(d.body.data.attachments[0].transcript, undefined);
      assert.equal(ai.transcriptions.length, calls);
    });
  });
}
