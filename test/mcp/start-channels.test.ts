/**
 * MCP `start_conversation` on the channels other than email, with the official SDK client:
 * - SMS (fake Twilio): any number, written in any common spelling, is reached at its E.164 form,
 *   and the person's signed answer lands in the started conversation;
 * - WhatsApp (fake Graph): free-form text to someone outside the 24-hour window is a tool error
 *   carrying the API's 409 detail, a template goes out and the answer lands in that conversation;
 * - Telegram (fake Bot API): a chat that wrote before is reachable again, even after its
 *   conversation was closed (a new conversation opens, with conversation.opened); a chat that
 *   never wrote is a tool error saying why.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startFakeGraph, type FakeGraph } from '../../fakes/graph.js';
import { startFakeTelegram, type FakeTelegram } from '../../fakes/telegram.js';
import { startFakeTwilio, type FakeTwilio } from '../../fakes/twilio.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';
import { until } from '../outbound/helpers.js';

const SMS_NUMBER = '+15550007000';

for (const kind of storeKinds()) {
  describe(`MCP start_conversation on SMS, WhatsApp and Telegram (${kind})`, () => {
    let s: TestServer;
    let tw: FakeTwilio;
    let graph: FakeGraph;
    let tg: FakeTelegram;
    let client: Client;
    let instanceId: string;
    const ch: Record<string, any> = {};
    const appSecret = 'meta-app-secret-' + randomBytes(6).toString('hex');

    const call = async (name: string, args: Record<string, unknown>): Promise<any> => client.callTool({ name, arguments: args });
    const ok = async (name: string, args: Record<string, unknown>): Promise<any> => {
      const r = await call(name, args);
      assert.equal(r.isError, undefined, r.content?.[0]?.text);
      return r.structuredContent;
    };
    const inboundIn = (conversationId: string, text: string) =>
      until(async () => ((await ok('get_messages', { conversation_id: conversationId })).messages as any[]).find((m) => m.direction === 'inbound' && m.text === text), `"${text}" in the started conversation`);

    before(async () => {
      tw = await startFakeTwilio({ phoneNumbers: [SMS_NUMBER] });
      graph = await startFakeGraph();
      tg = await startFakeTelegram();
      s = await startServer(kind, {
        env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_TWILIO_API_URL: tw.url, SWITCHBOARD_META_GRAPH_URL: graph.baseUrl, SWITCHBOARD_TELEGRAM_API_URL: tg.url },
        services: { sendScheduleMs: [50, 50, 50] },
      });
      instanceId = (await s.api('POST', '/v1/instances', { name: 'starts' })).body.id;
      const connect = async (provider: string, secrets: Record<string, string>) => {
        const r = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider, secrets });
        assert.equal(r.status, 201, r.text);
        return r.body.id as string;
      };
      const channel = async (body: Record<string, unknown>) => {
        const r = await s.api('POST', `/v1/instances/${instanceId}/channels`, body);
        assert.equal(r.status, 201, r.text);
        return r.body;
      };
      ch.sms = await channel({ channel_type: 'sms', provider: 'twilio', external_identifier: SMS_NUMBER, connection_id: await connect('twilio', { account_sid: tw.accountSid, auth_token: tw.authToken }) });
      ch.wa = await channel({ channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: '+15550000000', connection_id: await connect('meta_cloud', { access_token: graph.accessToken, app_secret: appSecret }), config: { phone_number_id: graph.phoneNumberId } });
      ch.tg = await channel({ channel_type: 'telegram', provider: 'telegram', external_identifier: `start_${kind}_bot`, connection_id: await connect('telegram', { bot_token: tg.token }), webhook_secret: 'start-secret' });
      ch.web = await channel({ channel_type: 'web_chat', provider: 'web', external_identifier: `start-site-${kind}` });
      const key = (await s.api('POST', '/v1/api-keys', { name: 'mcp starts', instance_ids: [instanceId] })).body.key;
      client = new Client({ name: 'start-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }));
    });
    after(async () => {
      await client?.close();
      await s.close();
      await Promise.all([tw.close(), graph.close(), tg.close()]);
    });

    test('SMS: a number in any spelling is written to at its E.164 form; the answer lands in the same conversation', async () => {
      const r = await ok('start_conversation', { channel_id: ch.sms.id, recipient: '+1 (555) 010-2030', text: 'Your table is **ready**.' });
      assert.equal(r.conversation.contact.id, '+15550102030');
      const sms = await until(() => tw.sentMessages('+15550102030')[0], 'the SMS at Twilio');
      assert.equal(sms.from, SMS_NUMBER);
      assert.equal(sms.body, 'Your table is ready.');
      assert.equal(await tw.deliverWebhook(ch.sms.webhook_url, tw.inboundSms({ from: '+15550102030', to: SMS_NUMBER, body: 'On my way' })), 200);
      await inboundIn(r.conversation.id, 'On my way');
      const again = await ok('start_conversation', { channel_id: ch.sms.id, recipient: '15550102030' });
      assert.equal(again.conversation.id, r.conversation.id, 'the open conversation is reused');
      const bad = await call('start_conversation', { channel_id: ch.sms.id, recipient: 'call me', text: 'x' });
      assert.equal(bad.isError, true);
      assert.match(bad.content[0].text, /E\.164/);
    });

    test("WhatsApp: free-form text outside the window is the API's 409 detail; a template goes out and the answer lands in its conversation", async () => {
      const refused = await call('start_conversation', { channel_id: ch.wa.id, recipient: '+49 151 2345 6789', text: 'Hello!' });
      assert.equal(refused.isError, true);
      assert.match(refused.content[0].text, /outside the 24-hour customer-service window: WhatsApp only allows a template message/);
      assert.equal(graph.sentMessages('4915123456789').length, 0);
      const template = { name: 'order_update', language: 'en_US', components: [{ type: 'body', parameters: [{ type: 'text', text: 'A-42' }] }] };
      const r = await ok('start_conversation', { channel_id: ch.wa.id, recipient: '+49 151 2345 6789', template });
      assert.equal(r.message.direction, 'outbound');
      const out = await until(() => graph.sentMessages('4915123456789')[0], 'the template at Graph');
      assert.equal(out.type, 'template');
      assert.deepEqual(out.payload.template, { name: 'order_update', language: { code: 'en_US' }, components: template.components }, 'as Graph documents it');
      const { payload } = graph.inboundText({ from: '4915123456789', text: 'Thanks!' });
      assert.equal(await graph.deliverWebhook(ch.wa.webhook_url, payload, appSecret), 200);
      await inboundIn(r.conversation.id, 'Thanks!');
      const list = (await ok('list_conversations', { channel_id: ch.wa.id })).conversations;
      assert.deepEqual(list.map((c: any) => c.id), [r.conversation.id]);
      const sub = await call('start_conversation', { channel_id: ch.wa.id, recipient: '+4915123456789', text: 'x', subject: 'Hi' });
      assert.match(sub.content[0].text, /only email channels have a subject/);
    });

    test('Telegram: a chat that wrote before is reached again after its conversation closed; a chat that never wrote is refused', async () => {
      const r = await fetch(ch.tg.webhook_url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'start-secret' },
        body: JSON.stringify({ update_id: 9100, message: { message_id: 1, date: 1_700_000_000, chat: { id: 9001, type: 'private' }, from: { id: 9001, is_bot: false, first_name: 'Lin' }, text: 'hi bot' } }),
      });
      assert.equal(r.status, 200);
      const first = await until(async () => (await ok('list_conversations', { channel_id: ch.tg.id })).conversations[0], 'the Telegram conversation');
      await ok('close_conversation', { conversation_id: first.id });

      const started = await ok('start_conversation', { channel_id: ch.tg.id, recipient: '9001', text: 'We have news for you.' });
      assert.notEqual(started.conversation.id, first.id, 'a new conversation after the closed one');
      assert.equal(started.conversation.status, 'open');
      assert.equal(started.conversation.contact.name, 'Lin', 'the contact is known from before');
      const sent = await until(() => tg.sentMessages(9001)[0], 'the message at Telegram');
      assert.equal(sent.text, 'We have news for you.');
      const events = (await s.api('GET', `/v1/instances/${instanceId}/events?limit=500`)).body.events as any[];
      const opened = events.filter((e) => e.type === 'conversation.opened' && e.conversation_id === started.conversation.id);
      assert.deepEqual(opened.map((e) => e.data.reason), ['started']);

      const never = await call('start_conversation', { channel_id: ch.tg.id, recipient: '424242', text: 'hello?' });
      assert.equal(never.isError, true);
      assert.match(never.content[0].text, /a bot cannot message a chat first/);
      assert.match(never.content[0].text, /424242 never did/);
      assert.equal(tg.sentMessages(424242).length, 0);
    });

    test('web chat: a visitor with an open conversation is answered there; once it is closed, start_conversation says so', async () => {
      const v = (await s.api('POST', `/v1/webchat/${ch.web.id}/session`, {}, null)).body;
      const sent = await s.api('POST', `/v1/webchat/${ch.web.id}/messages`, { visitor_id: v.visitor_id, token: v.token, text: 'Anyone?', client_message_id: randomUUID() }, null);
      assert.ok(sent.status < 300, sent.text);
      const conv = await until(async () => (await ok('list_conversations', { channel_id: ch.web.id })).conversations[0], 'the web chat conversation');
      const r = await ok('start_conversation', { channel_id: ch.web.id, recipient: conv.key, text: 'Yes, **hello**!' });
      assert.equal(r.conversation.id, conv.id);
      await until(async () => ((await ok('get_messages', { conversation_id: conv.id })).messages as any[]).some((m) => m.direction === 'outbound' && m.status === 'delivered'), 'the answer delivered to the widget');
      await ok('close_conversation', { conversation_id: conv.id });
      const closed = await call('start_conversation', { channel_id: ch.web.id, recipient: conv.key, text: 'Still there?' });
      assert.equal(closed.isError, true);
      assert.match(closed.content[0].text, /conversation is closed; the visitor's next message opens a new one/);
    });
  });
}
