/**
 * Outbound files end to end, on every store and blob store: the agent uploads a PNG and a PDF
 * and sends them (with a text) to Telegram, WhatsApp, SMS (MMS), email (Resend and Gmail) and
 * web chat; each fake receives the same bytes in the provider's own upload format. Limits and
 * foreign or unknown media ids answer 422 before anything is stored.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startFakeTelegram, type FakeTelegram } from '../../fakes/telegram.js';
import { startFakeGraph, type FakeGraph } from '../../fakes/graph.js';
import { startFakeTwilio, type FakeTwilio } from '../../fakes/twilio.js';
import { parseMail, type ParsedPart } from '../../fakes/mail-parse.js';
import { startFakeAgent, type FakeAgent } from '../inbound/fake-agent.js';
import { gmailKit, metaSign, resendKit, send as wire } from '../inbound/helpers.js';
import { storeKinds } from '../helpers/stores.js';
import { messageReaches, receivedConversation } from '../outbound/helpers.js';
import { BLOB_KINDS, fetchBytes, PDF, PNG, sha, startMediaServer, upload, type MediaServer } from './helpers.js';

for (const store of storeKinds()) {
  for (const blob of BLOB_KINDS) {
    describe(`outbound media (${store}, ${blob})`, () => {
      let s: MediaServer;
      let tg: FakeTelegram;
      let graph: FakeGraph;
      let tw: FakeTwilio;
      let agent: FakeAgent;
      let instanceId: string;
      let png: string;
      let pdf: string;
      const channels: Record<string, any> = {};
      const TG_SECRET = 'tg-out-secret';
      const APP_SECRET = 'meta-out-secret';
      const WEB_SECRET = 'web-out-secret';
      const closers: (() => Promise<void>)[] = [];

      before(async () => {
        tg = await startFakeTelegram();
        graph = await startFakeGraph();
        tw = await startFakeTwilio({ phoneNumbers: ['+14155550111'] });
        agent = await startFakeAgent();
        s = await startMediaServer(store, blob, {
          env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_TELEGRAM_API_URL: tg.url, SWITCHBOARD_META_GRAPH_URL: graph.baseUrl, SWITCHBOARD_TWILIO_API_URL: tw.url },
          services: { sendScheduleMs: [50, 50, 50] },
        });
        const inst = await s.api('POST', '/v1/instances', { name: 'files', agent_url: agent.url });
        instanceId = inst.body.id;
        agent.secret = inst.body.signing_secret;
        const mk = async (path: string, body: unknown) => {
          const r = await s.api('POST', `/v1/instances/${instanceId}/${path}`, body);
          assert.equal(r.status, 201, r.text);
          return r.body;
        };
        const tgConn = await mk('connections', { provider: 'telegram', secrets: { bot_token: tg.token } });
        channels.telegram = await mk('channels', { channel_type: 'telegram', provider: 'telegram', external_identifier: 'switchboard_test_bot', connection_id: tgConn.id, webhook_secret: TG_SECRET });
        const waConn = await mk('connections', { provider: 'meta_cloud', secrets: { access_token: graph.accessToken, app_secret: APP_SECRET } });
        channels.whatsapp = await mk('channels', { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: '+15550000000', connection_id: waConn.id, config: { phone_number_id: graph.phoneNumberId } });
        const twConn = await mk('connections', { provider: 'twilio', secrets: { account_sid: tw.accountSid, auth_token: tw.authToken } });
        channels.sms = await mk('channels', { channel_type: 'sms', provider: 'twilio', external_identifier: '+14155550111', connection_id: twConn.id });
        channels.web = await mk('channels', { channel_type: 'web_chat', provider: 'web', external_identifier: `site-media-${store}-${blob}`, webhook_secret: WEB_SECRET });
        png = (await upload(s, instanceId, PNG, 'image/png', 'chart.png')).body.id;
        pdf = (await upload(s, instanceId, PDF, 'application/pdf', 'report.pdf')).body.id;
      });
      after(async () => {
        await s.close();
        for (const c of closers) await c();
        await Promise.all([tg.close(), graph.close(), tw.close(), agent.close()]);
      });

      const files = () => [{ media_id: png }, { media_id: pdf }];

      async function sendFiles(conversationId: string, text = 'Here are the files') {
        const r = await s.api('POST', `/v1/instances/${instanceId}/conversations/${conversationId}/messages`, { text, attachments: files() });
        assert.equal(r.status, 202, r.text);
        const m = await messageReaches(s, instanceId, r.body.id, ['sent', 'delivered', 'failed'], 20_000);
        assert.notEqual(m.status, 'failed', JSON.stringify(m.error));
        return m;
      }

      test('Telegram: multipart sendPhoto + sendDocument with the exact bytes, the text as the caption', async () => {
        const r = await fetch(channels.telegram.webhook_url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TG_SECRET }, body: JSON.stringify({ update_id: 9001, message: { message_id: 9001, date: 1_700_000_000, chat: { id: 77, type: 'private' }, from: { id: 77, is_bot: false, first_name: 'Ada' }, text: 'send me the report' } }) });
        assert.equal(r.status, 200);
        await sendFiles(await receivedConversation(agent, (d) => d.text === 'send me the report'));
        const sent = tg.sentMessages(77);
        assert.equal(sent.length, 2, 'one message per file, no separate text message');
        assert.deepEqual([sent[0].kind, sent[0].text, sent[0].upload?.fileName, sent[0].upload?.contentType, sha(sent[0].upload!.bytes)], ['photo', 'Here are the files', 'chart.png', 'image/png', sha(PNG)]);
        assert.deepEqual([sent[1].kind, sent[1].text, sent[1].upload?.fileName, sha(sent[1].upload!.bytes)], ['document', '', 'report.pdf', sha(PDF)]);
        const req = tg.requests.find((q) => q.path.endsWith('/sendPhoto'))!;
        assert.match(String(req.headers['content-type']), /^multipart\/form-data; boundary=/);
      });

      test('WhatsApp: POST /{phone_number_id}/media, then sent by id (image with caption, document with filename)', async () => {
        const { payload } = graph.inboundText({ from: '+16505550777', text: 'files please' });
        const body = JSON.stringify(payload);
        const r = await fetch(channels.whatsapp.webhook_url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSign(APP_SECRET, body) }, body });
        assert.equal(r.status, 200);
        await sendFiles(await receivedConversation(agent, (d) => d.text === 'files please'));
        const ups = graph.uploads().slice(-2);
        assert.deepEqual(ups.map((u) => [u.type, u.fileName, sha(u.bytes)]), [['image/png', 'chart.png', sha(PNG)], ['application/pdf', 'report.pdf', sha(PDF)]]);
        const sent = graph.sentMessages('+16505550777');
        assert.equal(sent.length, 2);
        assert.deepEqual([sent[0].type, (sent[0].payload as any).image], ['image', { id: ups[0].id, caption: 'Here are the files' }]);
        assert.deepEqual([sent[1].type, (sent[1].payload as any).document], ['document', { id: ups[1].id, filename: 'report.pdf' }]);
      });

      test('SMS: one MMS whose MediaUrls are signed Switchboard links serving the same bytes', async () => {
        assert.equal(await tw.deliverWebhook(channels.sms.webhook_url, tw.inboundSms({ from: '+16505550555', body: 'mms me' })), 200);
        await sendFiles(await receivedConversation(agent, (d) => d.text === 'mms me'));
        const [m] = tw.sentMessages('+16505550555');
        assert.equal(m.body, 'Here are the files');
        assert.equal(m.media_urls.length, 2);
        for (const [i, want] of [PNG, PDF].entries()) {
          assert.match(m.media_urls[i], new RegExp(`^${s.url}/v1/media/[0-9a-f-]{36}\\?expires=\\d+&signature=[0-9a-f]{64}$`));
          assert.equal(sha((await fetchBytes(m.media_urls[i])).body), sha(want));
        }
      });

      test('email: Resend gets base64 attachments, Gmail a multipart/mixed MIME message, both with the same bytes', async () => {
        const rk = await resendKit({ s, instanceId, tag: `m${store}${blob}` });
        closers.push(() => rk.fake.close());
        assert.equal((await wire(await rk.valid(1))).status, 200);
        await sendFiles(await receivedConversation(agent, (d) => d.email?.to?.includes(rk.address)));
        const email = rk.fake.sentEmails().at(-1)!;
        const atts = email.attachments as { content: string; filename: string; content_type: string }[];
        assert.deepEqual(atts.map((a) => [a.filename, a.content_type, sha(Buffer.from(a.content, 'base64'))]), [['chart.png', 'image/png', sha(PNG)], ['report.pdf', 'application/pdf', sha(PDF)]]);

        const gk = await gmailKit({ s, instanceId, tag: `m${store}${blob}` });
        closers.push(() => gk.close());
        assert.equal((await wire(await gk.valid(1))).status, 200);
        await sendFiles(await receivedConversation(agent, (d) => d.email?.to?.some((t: string) => t.includes(gk.address))));
        const mail = parseMail(gk.fake.sentMessages().at(-1)!.rfc2822);
        assert.equal(mail.contentType, 'multipart/mixed');
        const leaves = (p: ParsedPart): ParsedPart[] => (p.parts.length ? p.parts.flatMap(leaves) : [p]);
        const attached = leaves(mail).filter((p) => /attachment/.test(p.headers['content-disposition'] ?? ''));
        assert.deepEqual(attached.map((p) => [p.contentType, /filename="([^"]+)"/.exec(p.headers['content-disposition'])?.[1], sha(p.bytes!)]), [['image/png', 'chart.png', sha(PNG)], ['application/pdf', 'report.pdf', sha(PDF)]]);
        assert.ok(leaves(mail).some((p) => p.contentType === 'text/plain' && p.body.includes('Here are the files')));
      });

      test('web chat: the widget gets the media items, whose links serve the same bytes', async () => {
        const visitor = 'visitor-media';
        const token = createHmac('sha256', WEB_SECRET).update(visitor).digest('hex');
        // Visitors write through the widget routes (the raw webhook URL is closed for web chat).
        const r = await s.api('POST', `/v1/webchat/${channels.web.id}/messages`, { visitor_id: visitor, token, client_message_id: 'cm-1', text: 'web files' }, null);
        assert.equal(r.status, 202, r.text);
        await sendFiles(await receivedConversation(agent, (d) => d.text === 'web files'));
        const w = await s.api('GET', `/v1/webchat/${channels.web.id}/messages?visitor_id=${visitor}&token=${token}`, undefined, null);
        assert.equal(w.status, 200, w.text);
        const out = w.body.messages.find((m: any) => m.direction === 'out');
        assert.equal(out.text, 'Here are the files');
        assert.deepEqual(out.attachments.map((a: any) => [a.kind, a.mime_type, a.file_name]), [['image', 'image/png', 'chart.png'], ['document', 'application/pdf', 'report.pdf']]);
        for (const [i, want] of [PNG, PDF].entries()) assert.equal(sha((await fetchBytes(out.attachments[i].url)).body), sha(want));
      });

      test('limits and ids are checked up front: 422 naming the attachment, nothing stored', async () => {
        const conv = await receivedConversation(agent, (d) => d.text === 'mms me');
        const big = (await upload(s, instanceId, Buffer.alloc(5 * 1024 * 1024 + 1, 7), 'image/jpeg', 'big.jpg')).body.id;
        const other = (await s.api('POST', '/v1/instances', { name: 'other' })).body.id;
        const foreign = (await upload(s, other, PNG, 'image/png')).body.id;
        const before = tw.sentMessages().length;
        const r = await s.api('POST', `/v1/instances/${instanceId}/conversations/${conv}/messages`, { text: 'x', attachments: [{ media_id: big }, { media_id: foreign }, { media_id: '01890000-0000-7000-8000-000000000000' }] });
        assert.equal(r.status, 422, r.text);
        const locs = r.body.detail.map((d: any) => d.loc.join('.'));
        assert.ok(locs.includes('body.attachments.0.media_id'), `twilio's 5 MB limit: ${r.text}`);
        assert.ok(locs.includes('body.attachments.1.media_id') && locs.includes('body.attachments.2.media_id'), 'another instance\'s and an unknown id');
        assert.match(r.body.detail.find((d: any) => d.loc[2] === 0).msg, /twilio accepts at most/);
        const none = await s.api('POST', `/v1/instances/${instanceId}/conversations/${conv}/messages`, { text: 'x', attachments: [{ kind: 'image' }] });
        assert.equal(none.status, 422);
        assert.equal(tw.sentMessages().length, before);
      });
    });
  }
}
