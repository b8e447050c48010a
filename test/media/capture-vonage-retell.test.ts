/**
 * Vonage inbound media and Retell call recordings captured end to end, on every store: a Vonage
 * WhatsApp image (standard security: the URL alone) and a file under "Secure Inbound Media" (an
 * application JWT, RS256, only with the connection's application_id + private_key), and a Retell
 * call_ended's recording_url as an `audio` item of the call's event and conversation — each with
 * the exact bytes (SHA-256), still served after the provider deleted them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startFakeVonage, type FakeVonage } from '../../fakes/vonage.js';
import { startFakeRetell, type FakeRetell } from '../../fakes/retell.js';
import { startFakeAgent, type Delivery, type FakeAgent } from '../inbound/fake-agent.js';
import { storeKinds } from '../helpers/stores.js';
import { until } from '../outbound/helpers.js';
import { fetchBytes, PDF, PNG, sha, startMediaServer, type MediaServer } from './helpers.js';

const WAV = Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVEfmt '), randomBytes(8000)]);

for (const store of storeKinds()) {
  describe(`Vonage media and Retell recordings captured (${store})`, () => {
    let s: MediaServer;
    let vg: FakeVonage;
    let rt: FakeRetell;
    let agent: FakeAgent;
    let instanceId: string;
    let secureChannel: any;
    let plainChannel: any;
    let retellChannel: any;
    const agentId = 'agent_rec_' + randomBytes(4).toString('hex');

    before(async () => {
      vg = await startFakeVonage();
      rt = await startFakeRetell();
      agent = await startFakeAgent();
      s = await startMediaServer(store, 'fs', { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' }, services: { captureScheduleMs: [50, 50] } });
      const inst = await s.api('POST', '/v1/instances', { name: 'vonage retell media', agent_url: agent.url });
      instanceId = inst.body.id;
      agent.secret = inst.body.signing_secret;
      const mk = async (path: string, body: unknown) => {
        const r = await s.api('POST', `/v1/instances/${instanceId}/${path}`, body);
        assert.equal(r.status, 201, r.text);
        return r.body;
      };
      const c = vg.credentials;
      const secureConn = await mk('connections', { provider: 'vonage', secrets: { api_key: c.apiKey, api_secret: c.apiSecret, signature_secret: c.signatureSecret, application_id: c.applicationId, private_key: vg.applicationPrivateKey }, settings: { api_base_url: vg.url } });
      secureChannel = await mk('channels', { channel_type: 'whatsapp', provider: 'vonage', external_identifier: '+447700900111', connection_id: secureConn.id });
      const plainConn = await mk('connections', { provider: 'vonage', secrets: { api_key: c.apiKey, api_secret: c.apiSecret, signature_secret: c.signatureSecret }, settings: { api_base_url: vg.url } });
      plainChannel = await mk('channels', { channel_type: 'whatsapp', provider: 'vonage', external_identifier: '+447700900222', connection_id: plainConn.id });
      const rtConn = await mk('connections', { provider: 'retell', secrets: { api_key: rt.apiKey }, settings: { api_base_url: rt.url } });
      retellChannel = await mk('channels', { channel_type: 'voice', provider: 'retell', external_identifier: '+12135550100', connection_id: rtConn.id, config: { agent_id: agentId } });
    });
    after(async () => {
      await s.close();
      await Promise.all([vg.close(), rt.close(), agent.close()]);
    });

    function firstDelivery(type: string, pred: (body: any) => boolean): Promise<Delivery> {
      return until(() => agent.deliveries.find((d) => d.body?.type === type && pred(d.body)), `the ${type} delivery`, 20_000);
    }

    test('Vonage: a WhatsApp image is fetched from its media URL and served after Vonage deleted it', async () => {
      const url = vg.addMedia(PNG, 'image/png');
      const payload = vg.inboundMedia({ from: '447946000001', to: '447700900222', type: 'image', url, caption: 'the damage' });
      assert.equal(await vg.deliverWebhook(plainChannel.webhook_url, vg.credentials.signatureSecret, payload), 200);
      const d = await firstDelivery('message.received', (b) => b.data.raw?.message_uuid === payload.message_uuid);
      const [item] = d.body.data.attachments;
      assert.deepEqual([item.status, item.kind, item.mime_type, item.sha256, item.caption], ['ready', 'image', 'image/png', sha(PNG), 'the damage']);
      assert.equal(d.body.data.text, 'the damage');
      vg.removeMedia(url);
      assert.equal(sha((await fetchBytes(item.url)).body), sha(PNG));
    });

    test('Vonage: secure inbound media is fetched with an application JWT; without the application key it fails', async () => {
      const url = vg.addMedia(PDF, 'application/pdf', { secure: true });
      const payload = vg.inboundMedia({ from: '447946000002', to: '447700900111', type: 'file', url, name: 'contract.pdf' });
      assert.equal(await vg.deliverWebhook(secureChannel.webhook_url, vg.credentials.signatureSecret, payload), 200);
      const d = await firstDelivery('message.received', (b) => b.data.raw?.message_uuid === payload.message_uuid);
      const [item] = d.body.data.attachments;
      assert.deepEqual([item.status, item.kind, item.file_name, item.sha256], ['ready', 'document', 'contract.pdf', sha(PDF)]);
      const got = vg.requests.find((r) => r.path === new URL(url).pathname);
      assert.match(String(got?.headers.authorization), /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);

      const url2 = vg.addMedia(PDF, 'application/pdf', { secure: true });
      const payload2 = vg.inboundMedia({ from: '447946000003', to: '447700900222', type: 'file', url: url2, name: 'other.pdf' });
      assert.equal(await vg.deliverWebhook(plainChannel.webhook_url, vg.credentials.signatureSecret, payload2), 200);
      const d2 = await firstDelivery('message.received', (b) => b.data.raw?.message_uuid === payload2.message_uuid);
      assert.equal(d2.body.data.attachments[0].status, 'failed');
      assert.match(d2.body.data.attachments[0].error, /HTTP 401/);
    });

    test('Retell: call_ended\'s recording_url becomes an audio item on the call event, without the API key', async () => {
      const recordingUrl = rt.addRecording(WAV);
      const callId = 'call_' + randomBytes(6).toString('hex');
      const call = { call_id: callId, agent_id: agentId, call_status: 'ended', from_number: '+12135550199', to_number: '+12135550100', direction: 'inbound', start_timestamp: 1_714_608_475_945, end_timestamp: 1_714_608_491_736, recording_url: recordingUrl, transcript: 'Agent: Hello\nUser: Hi' };
      assert.equal(await rt.deliverWebhook(retellChannel.webhook_url, 'call_ended', call), 200);
      const d = await firstDelivery('call.ended', (b) => b.data.call_id === callId);
      const [item] = d.body.data.attachments;
      assert.deepEqual([item.status, item.kind, item.mime_type, item.sha256, item.size], ['ready', 'audio', 'audio/wav', sha(WAV), WAV.length]);
      assert.ok(d.body.conversation_id, 'the call has its conversation');
      const storage = rt.requests.filter((r) => r.path.startsWith('/storage/'));
      assert.equal(storage.length, 1);
      assert.equal(storage[0]!.headers.authorization, undefined);
      rt.removeRecording(recordingUrl);
      assert.equal(sha((await fetchBytes(item.url)).body), sha(WAV));
      // call_analyzed repeats the URL: not captured a second time.
      assert.equal(await rt.deliverWebhook(retellChannel.webhook_url, 'call_analyzed', { ...call, call_analysis: { call_summary: 'greeting' } }), 200);
      const a = await firstDelivery('call.analyzed', (b) => b.data.call_id === callId);
      assert.equal(a.body.data.attachments, undefined);
      // The API shows the item too.
      const api = await s.api('GET', `/v1/instances/${instanceId}/media/${item.id}`);
      assert.equal(api.status, 200);
      assert.equal(api.body.sha256, sha(WAV));
    });
  });
}
