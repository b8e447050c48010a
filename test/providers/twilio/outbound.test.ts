/**
 * Twilio round trip through real HTTP, SMS and WhatsApp-via-Twilio: a signed inbound message, the
 * agent's Markdown answer out as GSM-7 plain text (SMS) or WhatsApp markup to the fake Messages API
 * with our StatusCallback; splitting at 1600; Idempotency-Key; 20429 honoured; a wrong auth token
 * (20003) puts the channel in error and the next success clears it; MessageStatus callbacks signed
 * with the twilio SDK move the message to delivered and reach the agent; WhatsApp's 24-hour window;
 * a timeout leaves the message failed, never resent.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import twilio from 'twilio';
import { startFakeTwilio, type FakeTwilio } from '../../../fakes/twilio.js';
import { startFakeAgent, type FakeAgent } from '../../inbound/fake-agent.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { storeKinds } from '../../helpers/stores.js';
import { ageConversation, channelView, conversationByKey, longMarkdown, messageReaches, messageView, norm, replySent, send, sleep, statusEvent, until } from '../../outbound/helpers.js';

const SMS_NUMBER = '+15005550006';
const WA_NUMBER = '+15005550007';
/** A number of its own, so its rate bucket is full when the 20429 test starts. */
const SMS_NUMBER_2 = '+15005550008';
const GSM7 = /^[\x20-\x7e\n\r£¥èéùìòÇØøÅåÄÖÑÜ§¿äöñüà]*$/;

for (const kind of storeKinds()) {
  describe(`twilio outbound on ${kind}`, () => {
    let s: TestServer;
    let tw: FakeTwilio;
    let agent: FakeAgent;
    let instanceId: string;
    let sms: any;
    let wa: any;
    let sms2: any;
    let nextUser = 6505550100;

    /** A signed inbound SMS (or WhatsApp message) from a new person; returns their number and the conversation. */
    async function inbound(channel: any, body: string, from = `+1${++nextUser}`) {
      const whatsapp = channel.channel_type === 'whatsapp';
      const params = tw.inboundSms({ from: whatsapp ? `whatsapp:${from}` : from, to: whatsapp ? `whatsapp:${channel.external_identifier}` : channel.external_identifier, body });
      assert.equal(await tw.deliverWebhook(channel.webhook_url, params), 200);
      const conv = await conversationByKey(s, instanceId, from);
      return { from, conv };
    }

    /** A MessageStatus callback signed by the twilio SDK, posted to the URL the send gave Twilio. */
    async function statusCallback(url: string, p: Record<string, string>): Promise<number> {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(tw.authToken, url, p) },
        body: new URLSearchParams(p).toString(),
      });
      await res.arrayBuffer();
      return res.status;
    }

    before(async () => {
      tw = await startFakeTwilio({ phoneNumbers: [SMS_NUMBER, WA_NUMBER, SMS_NUMBER_2] });
      agent = await startFakeAgent();
      s = await startServer(kind, { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_TWILIO_API_URL: tw.url }, services: { sendScheduleMs: [50, 50, 50] } });
      const inst = await s.api('POST', '/v1/instances', { name: 'twilio', agent_url: agent.url });
      instanceId = inst.body.id;
      agent.secret = inst.body.signing_secret;
      const conn = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'twilio', secrets: { account_sid: tw.accountSid, auth_token: tw.authToken } });
      assert.equal(conn.status, 201, conn.text);
      const a = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'sms', provider: 'twilio', external_identifier: SMS_NUMBER, connection_id: conn.body.id });
      assert.equal(a.status, 201, a.text);
      sms = a.body;
      const b = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'whatsapp', provider: 'twilio', external_identifier: WA_NUMBER, connection_id: conn.body.id });
      assert.equal(b.status, 201, b.text);
      wa = b.body;
      const c = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'sms', provider: 'twilio', external_identifier: SMS_NUMBER_2, connection_id: conn.body.id });
      assert.equal(c.status, 201, c.text);
      sms2 = c.body;
    });
    after(async () => {
      await s.close();
      await tw.close();
      await agent.close();
    });

    test("SMS: the agent's Markdown reply goes out as GSM-7 plain text; a delivered callback updates the message and reaches the agent", async () => {
      agent.script = (d) => (d.body.type === 'message.received' && d.body.data.text === 'sms hi' ? { json: { reply: { text: 'Hello **Ada** — “welcome” to the _shop_… see [our hours](https://shop.test/hours)' } } } : { json: {} });
      const { from, conv } = await inbound(sms, 'sms hi');
      const sentEv = await replySent(agent, conv.id);
      const out = tw.sentMessages(from);
      assert.equal(out.length, 1);
      assert.equal(out[0].body, 'Hello Ada - "welcome" to the shop... see our hours (https://shop.test/hours)');
      assert.match(out[0].body, GSM7, 'GSM-7 only: typographic punctuation replaced');
      assert.equal(out[0].num_segments, '1');
      assert.equal(out[0].from, SMS_NUMBER);
      assert.equal(out[0].to, from);
      assert.equal(out[0].status_callback, sms.webhook_url, 'Twilio is told where to report the status');
      const messageId = sentEv.body.data.message_id;
      assert.equal((await messageView(s, instanceId, messageId)).provider_message_id, out[0].sid);

      const cb = { MessageSid: out[0].sid, SmsSid: out[0].sid, AccountSid: tw.accountSid, From: SMS_NUMBER, To: from, ApiVersion: '2010-04-01' };
      // An unsigned (wrongly signed) callback changes nothing.
      const forged = await fetch(out[0].status_callback!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature('nope', out[0].status_callback!, { ...cb, MessageStatus: 'delivered' }) }, body: new URLSearchParams({ ...cb, MessageStatus: 'delivered' }).toString() });
      assert.notEqual(forged.status, 200);
      assert.equal((await messageView(s, instanceId, messageId)).status, 'sent');

      assert.equal(await statusCallback(out[0].status_callback!, { ...cb, MessageStatus: 'sent', SmsStatus: 'sent' }), 200);
      assert.equal(await statusCallback(out[0].status_callback!, { ...cb, MessageStatus: 'delivered', SmsStatus: 'delivered' }), 200);
      await messageReaches(s, instanceId, messageId, 'delivered');
      const ev = await statusEvent(agent, messageId, 'delivered');
      assert.equal(ev.verified, true);
      assert.equal(ev.body.conversation_id, conv.id);
      // A repeat of the callback is a no-op.
      assert.equal(await statusCallback(out[0].status_callback!, { ...cb, MessageStatus: 'delivered', SmsStatus: 'delivered' }), 200);
      await sleep(150);
      assert.equal(agent.accepted().filter((d) => d.body.type === 'message.status' && d.body.data.message_id === messageId && d.body.data.status === 'delivered').length, 1);
    });

    test('SMS: an undelivered callback with ErrorCode fails the message and tells the agent why', async () => {
      const { from, conv } = await inbound(sms, 'hello');
      const r = await send(s, instanceId, conv.id, { text: 'to a dead phone' });
      await messageReaches(s, instanceId, r.body.id, 'sent');
      const out = tw.sentMessages(from).find((m) => m.body === 'to a dead phone')!;
      assert.equal(await statusCallback(sms.webhook_url, { MessageSid: out.sid, AccountSid: tw.accountSid, From: SMS_NUMBER, To: from, MessageStatus: 'undelivered', ErrorCode: '30003', ErrorMessage: 'Unreachable destination handset' }), 200);
      const m = await messageReaches(s, instanceId, r.body.id, 'failed');
      assert.equal(m.error.code, '30003');
      const ev = await statusEvent(agent, r.body.id, 'failed');
      assert.equal(ev.body.data.error.code, '30003');
    });

    test('SMS: non-GSM text (emoji) still goes out, as UCS-2, within 1600 characters per message', async () => {
      const { from, conv } = await inbound(sms, 'hello');
      const r = await send(s, instanceId, conv.id, { text: 'Thanks 🙏 **see you**' });
      await messageReaches(s, instanceId, r.body.id, 'sent');
      const out = tw.sentMessages(from);
      assert.equal(out.at(-1)!.body, 'Thanks 🙏 see you');
    });

    test('SMS: a long answer is split at 1600 characters, in order, nothing lost', async () => {
      const { from, conv } = await inbound(sms, 'tell me everything');
      const text = longMarkdown(8, 100); // ~4,100 characters: three messages
      const r = await send(s, instanceId, conv.id, { text });
      await messageReaches(s, instanceId, r.body.id, 'sent');
      const out = tw.sentMessages(from);
      assert.ok(out.length >= 3, `expected >= 3 parts, got ${out.length}`);
      for (const m of out) {
        assert.ok(m.body.length <= 1600, `part of ${m.body.length}`);
        assert.match(m.body, GSM7);
      }
      assert.equal(norm(out.map((m) => m.body).join('\n\n')), norm(text));
      assert.deepEqual((await statusEvent(agent, r.body.id, 'sent')).body.data.provider_message_ids, out.map((m) => m.sid));
    });

    test('Idempotency-Key: the same key never sends twice', async () => {
      const { from, conv } = await inbound(sms, 'hello');
      const a = await send(s, instanceId, conv.id, { text: 'once only' }, 'tw-k-1');
      const b = await send(s, instanceId, conv.id, { text: 'once only' }, 'tw-k-1');
      assert.equal(a.body.id, b.body.id);
      assert.equal(b.headers.get('idempotent-replayed'), 'true');
      await messageReaches(s, instanceId, a.body.id, 'sent');
      await send(s, instanceId, conv.id, { text: 'once only' }, 'tw-k-1');
      await sleep(300);
      assert.equal(tw.sentMessages(from).filter((m) => m.body === 'once only').length, 1);
    });

    test('20429 (too many requests) is honoured: the message waits for Retry-After and goes out once', async () => {
      // On a number nothing else sent from: its bucket (burst 5) is full, so only Retry-After can delay the retry.
      const { from, conv } = await inbound(sms2, 'hello');
      tw.failNext({ status: 429, retryAfter: 1, match: 'Messages.json' }); // Twilio code 20429
      const r = await send(s, instanceId, conv.id, { text: 'patience' });
      await messageReaches(s, instanceId, r.body.id, 'sent');
      const attempts = tw.requests.filter((q) => q.path.endsWith('/Messages.json') && (q.body as any)?.Body === 'patience');
      assert.equal(attempts.length, 2, 'one refused attempt, one accepted');
      const gap = attempts[1].receivedAt - attempts[0].receivedAt;
      assert.ok(gap >= 900, `the retry waited for Retry-After (${gap} ms)`);
      assert.ok(gap < 5000, `but not much longer (${gap} ms)`);
      assert.equal(tw.sentMessages(from).filter((m) => m.body === 'patience').length, 1);
    });

    test('a refused auth token (20003) sets the channel to error and tells the agent; the next success clears it', async () => {
      const { from, conv } = await inbound(sms, 'hello');
      tw.failNext({ status: 401, match: 'Messages.json' }); // code 20003
      const bad = await send(s, instanceId, conv.id, { text: 'will fail' });
      const failed = await messageReaches(s, instanceId, bad.body.id, 'failed');
      assert.equal(failed.error.code, '20003');
      const ch = await channelView(s, instanceId, sms.id);
      assert.equal(ch.status, 'error');
      assert.match(ch.error_message, /^Twilio refused the channel's credentials \(20003\): .*Authenticate.*Update the connection's secrets/);
      assert.ok(!ch.error_message.includes(tw.authToken));
      const ev = await until(() => agent.accepted().find((d) => d.body.type === 'channel.error' && d.body.channel_id === sms.id), 'the channel.error event');
      assert.equal(ev.body.data.error_message, ch.error_message);

      const good = await send(s, instanceId, conv.id, { text: 'works again' });
      await messageReaches(s, instanceId, good.body.id, 'sent');
      assert.equal(tw.sentMessages(from).filter((m) => m.body === 'works again').length, 1);
      await until(async () => {
        const c = await channelView(s, instanceId, sms.id);
        return c.status === 'active' && c.error_message === null;
      }, 'recovery');
      await until(() => agent.accepted().find((d) => d.body.type === 'channel.recovered' && d.body.channel_id === sms.id), 'the channel.recovered event');
    });

    test('a timeout (unknown outcome) leaves the message failed, "may or may not have delivered", and never sends it again', async () => {
      const { from, conv } = await inbound(sms, 'hello');
      s.services.contexts.timeoutMs = 400;
      try {
        tw.failNext({ timeoutMs: 1200, match: 'Messages.json' }); // held, then processed: Twilio did send it
        const r = await send(s, instanceId, conv.id, { text: 'maybe' });
        const m = await messageReaches(s, instanceId, r.body.id, 'failed');
        assert.equal(m.error.kind, 'unknown_outcome');
        assert.match(m.error.message, /may or may not have delivered/);
        await statusEvent(agent, r.body.id, 'failed');
        await sleep(1500);
        assert.equal(tw.requests.filter((q) => (q.body as any)?.Body === 'maybe').length, 1, 'no second attempt');
        assert.equal(tw.sentMessages(from).filter((x) => x.body === 'maybe').length, 1);
      } finally {
        s.services.contexts.timeoutMs = 15_000;
      }
    });

    test("WhatsApp via Twilio: the reply goes out with whatsapp: numbers and WhatsApp markup; its delivered callback reaches the agent", async () => {
      agent.script = (d) => (d.body.type === 'message.received' && d.body.data.text === 'wa hi' ? { json: { reply: { text: 'Hi **Bo**, _thanks_!' } } } : { json: {} });
      const { from, conv } = await inbound(wa, 'wa hi');
      const sentEv = await replySent(agent, conv.id);
      const out = tw.sentMessages(from);
      assert.equal(out.length, 1);
      assert.equal(out[0].to, `whatsapp:${from}`);
      assert.equal(out[0].from, `whatsapp:${WA_NUMBER}`);
      assert.equal(out[0].body, 'Hi *Bo*, _thanks_!');
      assert.equal(out[0].status_callback, wa.webhook_url);
      const messageId = sentEv.body.data.message_id;
      assert.equal(await statusCallback(wa.webhook_url, { MessageSid: out[0].sid, AccountSid: tw.accountSid, From: `whatsapp:${WA_NUMBER}`, To: `whatsapp:${from}`, MessageStatus: 'read' }), 200);
      await messageReaches(s, instanceId, messageId, 'read');
      await statusEvent(agent, messageId, 'read');
    });

    test('WhatsApp via Twilio: outside the 24-hour window a text answers 409 naming a template; 63016 fails without retrying', async () => {
      const { from, conv } = await inbound(wa, 'hello');
      await ageConversation(s, conv.id, 30);
      const refused = await send(s, instanceId, conv.id, { text: 'too late' }, undefined, 409);
      assert.match(refused.body.detail, /24-hour/);
      assert.match(refused.body.detail, /template/);

      // Inside our window but Twilio says the window is closed (63016): failed, explained, not retried.
      const other = await inbound(wa, 'hello again');
      tw.closeWindow(other.from);
      const r = await send(s, instanceId, other.conv.id, { text: 'blocked' });
      const m = await messageReaches(s, instanceId, r.body.id, 'failed');
      assert.equal(m.error.code, '63016');
      assert.match(m.error.message, /template message is required/);
      assert.equal(tw.requests.filter((q) => (q.body as any)?.Body === 'blocked').length, 1);
      assert.equal(tw.sentMessages(from).length, 0);

      // A Content API template goes out even outside the window.
      const sid = 'HX' + 'ab'.repeat(16);
      const t = await send(s, instanceId, conv.id, { template: { name: sid, language: 'en', components: [{ '1': 'Ada' }] } });
      await messageReaches(s, instanceId, t.body.id, 'sent');
      const req = tw.requests.find((q) => (q.body as any)?.ContentSid === sid);
      assert.ok(req, 'the template was sent with its ContentSid');
      assert.equal((req!.body as any).ContentVariables, '{"1":"Ada"}');
      assert.equal((req!.body as any).Body, undefined);
    });
  });
}
