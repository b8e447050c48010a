/**
 * MCP `start_conversation` on email channels, driven by the official SDK client: Switchboard
 * writes first to an address through the fake Resend and the fake Gmail (what the fake received:
 * to, subject, text/HTML body, Message-ID), and the person's reply — signed as each provider signs
 * (Svix for Resend, a Google OIDC token for Gmail's Pub/Sub push) and threaded with
 * In-Reply-To/References naming our first email — lands in the same conversation. Later sends
 * thread onto it; a retried start with its idempotency key opens no second thread; bad recipients
 * are tool errors with the detail.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Webhook as SvixWebhook } from 'svix';
import { parseMail } from '../../fakes/mail-parse.js';
import { startFakeResend, type FakeResend } from '../../fakes/resend.js';
import { gmailKit, send as wire } from '../inbound/helpers.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';
import { until } from '../outbound/helpers.js';

type Kit = Awaited<ReturnType<typeof gmailKit>>;
const ADDRESS = 'support@shop.example';

for (const kind of storeKinds()) {
  describe(`MCP start_conversation on email channels (${kind})`, () => {
    let s: TestServer;
    let rs: FakeResend;
    /** A Resend that gives every email a Message-ID of its own. */
    let rs2: FakeResend;
    let ownIds: { channel: string; webhook: string };
    const whsec2 = 'whsec_' + randomBytes(24).toString('base64');
    let kit: Kit;
    let client: Client;
    let instanceId: string;
    let resendChannel: string;
    let resendWebhook: string;
    const whsec = 'whsec_' + randomBytes(24).toString('base64');

    const call = async (name: string, args: Record<string, unknown>): Promise<any> => client.callTool({ name, arguments: args });
    const ok = async (name: string, args: Record<string, unknown>): Promise<any> => {
      const r = await call(name, args);
      assert.equal(r.isError, undefined, r.content?.[0]?.text);
      return r.structuredContent;
    };
    const messagesOf = async (conversationId: string) => (await ok('get_messages', { conversation_id: conversationId })).messages as any[];
    const conversationsOn = async (channelId: string) => (await ok('list_conversations', { instance_id: instanceId, channel_id: channelId, limit: 200 })).conversations as any[];

    /** An email.received event for `email`, signed with the Svix SDK as Resend signs it. */
    async function resendInbound(email: Parameters<FakeResend['receiveEmail']>[0], fake = rs, url = resendWebhook, secret = whsec): Promise<void> {
      await signedEvent(fake.receiveEmail(email).event, url, secret);
    }

    /** Posts a Resend event signed with the Svix SDK as Resend signs it. */
    async function signedEvent(event: unknown, url: string, secret: string): Promise<void> {
      const body = JSON.stringify(event);
      const id = `msg_${randomBytes(12).toString('hex')}`;
      const at = new Date();
      const r = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'svix-id': id, 'svix-timestamp': String(Math.floor(at.getTime() / 1000)), 'svix-signature': new SvixWebhook(secret).sign(id, at, body) },
        body,
      });
      assert.equal(r.status, 200, await r.text());
    }

    before(async () => {
      rs = await startFakeResend();
      rs2 = await startFakeResend({ assignMessageIds: true });
      s = await startServer(kind, { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_RESEND_API_URL: rs.url }, services: { sendScheduleMs: [50, 50, 50] } });
      instanceId = (await s.api('POST', '/v1/instances', { name: 'email starts' })).body.id;
      const conn = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'resend', secrets: { api_key: rs.apiKey, webhook_secret: whsec } });
      assert.equal(conn.status, 201, conn.text);
      const ch = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'email', provider: 'resend', external_identifier: ADDRESS, connection_id: conn.body.id });
      assert.equal(ch.status, 201, ch.text);
      resendChannel = ch.body.id;
      resendWebhook = ch.body.webhook_url;
      const conn2 = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'resend', secrets: { api_key: rs2.apiKey, webhook_secret: whsec2 }, settings: { api_base_url: rs2.url } });
      assert.equal(conn2.status, 201, conn2.text);
      const ch2 = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'email', provider: 'resend', external_identifier: 'hello@other-shop.example', connection_id: conn2.body.id });
      assert.equal(ch2.status, 201, ch2.text);
      ownIds = { channel: ch2.body.id, webhook: ch2.body.webhook_url };
      kit = await gmailKit({ s, instanceId });
      const key = (await s.api('POST', '/v1/api-keys', { name: 'mcp email', instance_ids: [instanceId] })).body.key;
      client = new Client({ name: 'email-start-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }));
    });
    after(async () => {
      await client?.close();
      await s.close();
      await rs.close();
      await rs2.close();
      await kit.close();
    });

    test('Resend: a new thread to a canonical address; the Svix-signed reply lands in the same conversation; later sends thread onto it', async () => {
      const started = await ok('start_conversation', { channel_id: resendChannel, recipient: '  Ada Lovelace <Ada@Example.com> ', subject: 'Your order 42', text: 'Hello **Ada**, your order has shipped.' });
      const conv = started.conversation;
      assert.equal(conv.contact.id, 'ada@example.com', 'the bare, case-folded address');
      assert.equal(conv.status, 'open');
      assert.equal(started.message.direction, 'outbound');

      const first = await until(() => rs.sentEmails('ada@example.com')[0], 'the first email at Resend');
      assert.deepEqual(first.to, ['ada@example.com']);
      assert.equal(first.from, ADDRESS);
      assert.equal(first.subject, 'Your order 42');
      assert.match(first.text ?? '', /^Hello Ada, your order has shipped\./);
      assert.match(first.html ?? '', /<strong>Ada<\/strong>/);
      const mid = first.headers['Message-ID'];
      assert.match(mid, /^<sb\.[0-9a-f-]+@shop\.example>$/, 'our own Message-ID on the first email');
      assert.equal(first.headers['In-Reply-To'], undefined, 'a new thread answers nothing');
      assert.equal(conv.key, mid.toLowerCase(), 'the conversation is keyed by the thread root');

      // A second message before any answer continues our thread.
      await ok('send_message', { conversation_id: conv.id, text: 'PS: the tracking link follows.' });
      const second = await until(() => rs.sentEmails('ada@example.com')[1], 'the second email');
      assert.equal(second.subject, 'Re: Your order 42');
      assert.equal(second.headers['In-Reply-To'], mid);
      assert.equal(second.headers['References'], mid);
      assert.notEqual(second.headers['Message-ID'], mid, 'only the first email carries the thread id');

      await resendInbound({ from: 'Ada Lovelace <ada@example.com>', to: [ADDRESS], subject: 'Re: Your order 42', text: 'Thanks, when will it arrive?', message_id: '<reply-1@example.com>', headers: { 'in-reply-to': mid, references: mid } });
      const msgs = await until(async () => {
        const m = await messagesOf(conv.id);
        return m.some((x) => x.direction === 'inbound') && m;
      }, 'the reply in the started conversation');
      assert.deepEqual(msgs.map((m) => [m.direction, m.text.trim()]), [['outbound', 'Hello **Ada**, your order has shipped.'], ['outbound', 'PS: the tracking link follows.'], ['inbound', 'Thanks, when will it arrive?']]);
      assert.deepEqual((await conversationsOn(resendChannel)).map((c) => c.id), [conv.id], 'no second conversation');

      await ok('send_message', { conversation_id: conv.id, text: 'Tomorrow.' });
      const third = await until(() => rs.sentEmails('ada@example.com')[2], 'the answer to the reply');
      assert.equal(third.headers['In-Reply-To'], '<reply-1@example.com>');
      assert.equal(third.headers['References'], `${mid} <reply-1@example.com>`);
      assert.equal(third.subject, 'Re: Your order 42');
    });

    test('Resend: without a subject the open thread continues; a retried start (same idempotency key) opens no second thread', async () => {
      const again = await ok('start_conversation', { channel_id: resendChannel, recipient: 'ada@example.com', text: 'One more thing.' });
      const [only] = await conversationsOn(resendChannel);
      assert.equal(again.conversation.id, only.id, 'the person\'s open thread');
      const answered = await until(() => rs.sentEmails('ada@example.com')[3], 'the email into the open thread');
      assert.equal(answered.headers['In-Reply-To'], '<reply-1@example.com>');

      const args = { channel_id: resendChannel, recipient: 'bob@example.com', subject: 'Welcome', text: 'Welcome aboard, Bob.', idempotency_key: 'welcome-bob' };
      const a = await ok('start_conversation', args);
      const b = await ok('start_conversation', args);
      assert.equal(b.conversation.id, a.conversation.id);
      assert.equal(b.message.id, a.message.id);
      const toBob = await until(() => rs.sentEmails('bob@example.com')[0], 'the welcome email');
      assert.equal(toBob.subject, 'Welcome');
      assert.equal((await conversationsOn(resendChannel)).filter((c) => c.contact.id === 'bob@example.com').length, 1);
      assert.equal(rs.sentEmails('bob@example.com').length, 1);

      // A subject starts a new thread even when one is open.
      const fresh = await ok('start_conversation', { channel_id: resendChannel, recipient: 'bob@example.com', subject: 'Your invoice', text: 'Attached soon.' });
      assert.notEqual(fresh.conversation.id, a.conversation.id);
      const invoice = await until(() => rs.sentEmails('bob@example.com')[1], 'the new-thread email');
      assert.equal(invoice.subject, 'Your invoice');
      assert.equal(invoice.headers['In-Reply-To'], undefined);
    });

    test('a recipient that is not an address, a missing text, a template or a foreign channel are tool errors with the detail', async () => {
      for (const recipient of ['not-an-address', 'a@b', 'Ada <ada@example.com>, bob@example.com', 'ada@exa mple.com', '+15550001111']) {
        const r = await call('start_conversation', { channel_id: resendChannel, recipient, text: 'hi' });
        assert.equal(r.isError, true, recipient);
        assert.equal(r.content[0].text, 'recipient must be an email address, e.g. ada@example.com');
      }
      const own = await call('start_conversation', { channel_id: resendChannel, recipient: ` Support <${ADDRESS.toUpperCase()}>`, text: 'hi' });
      assert.equal(own.content[0].text, "recipient is this channel's own address");
      const noText = await call('start_conversation', { channel_id: resendChannel, recipient: 'cy@example.com' });
      assert.equal(noText.isError, true);
      assert.match(noText.content[0].text, /text is required/);
      const tpl = await call('start_conversation', { channel_id: resendChannel, recipient: 'cy@example.com', text: 'x', template: { name: 'hello', language: 'en' } });
      assert.match(tpl.content[0].text, /only WhatsApp channels send templates/);
      const badSubject = await call('start_conversation', { channel_id: resendChannel, recipient: 'cy@example.com', text: 'x', subject: 'a\r\nBcc: evil@example.com' });
      assert.equal(badSubject.isError, true);
      assert.match(badSubject.content[0].text, /one line/);
      const other = (await s.api('POST', '/v1/instances', { name: 'not mine' })).body.id;
      const foreign = (await s.api('POST', `/v1/instances/${other}/channels`, { channel_type: 'email', provider: 'resend', external_identifier: 'other@shop.example' })).body.id;
      const r = await call('start_conversation', { channel_id: foreign, recipient: 'cy@example.com', text: 'x' });
      assert.equal(r.content[0].text, 'Channel not found');
      assert.equal(rs.sentEmails('cy@example.com').length, 0);
    });

    test("Resend giving the first email a Message-ID of its own: email.sent reports it, the conversation takes it, the reply naming it lands there", async () => {
      const started = await ok('start_conversation', { channel_id: ownIds.channel, recipient: 'dee@example.com', subject: 'Hello Dee', text: 'Welcome.' });
      const conv = started.conversation;
      const first = await until(() => rs2.sentEmails('dee@example.com')[0], 'the first email');
      assert.match(first.headers['Message-ID'], /^<sb\./, 'ours was asked for');
      assert.notEqual(first.message_id, first.headers['Message-ID'], 'and replaced by the provider');
      await until(async () => (await messagesOf(conv.id))[0]?.status === 'sent', 'the first email marked sent');
      // Resend's email.sent (svix-signed) carries the Message-ID the email really has.
      const now = new Date().toISOString();
      await signedEvent({ type: 'email.sent', created_at: now, data: { email_id: first.id, from: first.from, to: first.to, subject: first.subject, message_id: first.message_id, created_at: now } }, ownIds.webhook, whsec2);
      await until(async () => (await ok('get_conversation', { conversation_id: conv.id })).key === first.message_id.toLowerCase(), 'the conversation keyed by the reported Message-ID');
      await ok('send_message', { conversation_id: conv.id, text: 'PS.' });
      const second = await until(() => rs2.sentEmails('dee@example.com')[1], 'the second email');
      assert.equal(second.headers['In-Reply-To'], first.message_id, 'later emails answer the real Message-ID');
      await resendInbound({ from: 'dee@example.com', to: ['hello@other-shop.example'], subject: 'Re: Hello Dee', text: 'Hi!', message_id: '<dee-1@example.com>', headers: { 'in-reply-to': first.message_id, references: first.message_id } }, rs2, ownIds.webhook, whsec2);
      const msgs = await until(async () => {
        const m = await messagesOf(conv.id);
        return m.some((x) => x.direction === 'inbound') && m;
      }, 'the reply in the started conversation');
      assert.deepEqual(msgs.map((m) => m.direction), ['outbound', 'outbound', 'inbound']);
      assert.deepEqual((await conversationsOn(ownIds.channel)).map((c) => c.id), [conv.id]);
    });

    test('Gmail: a new thread from the mailbox; the reply in that Gmail thread (pushed with a Google-signed token) lands in the same conversation', async () => {
      const started = await ok('start_conversation', { channel_id: kit.channelId, recipient: 'Grace@Example.com', text: '# Hi Grace\n\nYour **appointment** is confirmed.' });
      const conv = started.conversation;
      const sent = await until(() => kit.fake.sentMessages().find((m) => parseMail(m.rfc2822).headers.to?.includes('grace@example.com')), 'the email at Gmail');
      const mail = parseMail(sent.rfc2822);
      assert.equal(mail.headers.subject, 'Hi Grace', 'the first line of the text is the default subject');
      const domain = kit.address.split('@')[1].replace(/\./g, '\\.');
      assert.match(mail.headers['message-id'], new RegExp(`^<sb\\.[0-9a-f-]+@${domain}>$`));
      assert.equal(mail.headers['in-reply-to'], undefined);
      assert.match(mail.headers.from, new RegExp(kit.address));
      assert.match(mail.parts.find((p) => p.contentType === 'text/html')?.body ?? '', /<strong>appointment<\/strong>/);
      const req = kit.fake.requests.filter((q) => q.path.endsWith('/messages/send')).at(-1)!;
      assert.equal((req.body as any).threadId, undefined, 'a new Gmail thread');
      const mid = mail.headers['message-id'];

      // The conversation takes the thread id Gmail gave the email.
      const keyed = await until(async () => {
        const c = await ok('get_conversation', { conversation_id: conv.id });
        return c.key === sent.threadId && c;
      }, 'the conversation keyed by the Gmail thread');
      assert.equal(keyed.id, conv.id);

      const reply = kit.fake.addMessage({
        rfc2822: `From: Grace Hopper <grace@example.com>\r\nTo: ${kit.address}\r\nSubject: Re: Hi Grace\r\nMessage-ID: <grace-1@example.com>\r\nIn-Reply-To: ${mid}\r\nReferences: ${mid}\r\n\r\nSee you then.`,
        threadId: sent.threadId,
      });
      assert.equal(reply.threadId, sent.threadId, 'Gmail keeps the reply in the thread');
      const push = JSON.stringify({ message: { data: Buffer.from(JSON.stringify({ emailAddress: kit.address, historyId: Number(reply.historyId) })).toString('base64'), messageId: `ps-grace-${kind}`, publishTime: new Date().toISOString() }, subscription: 'projects/p/subscriptions/s' });
      const r = await wire(await kit.signRaw(Buffer.from(push), 'application/json'));
      assert.equal(r.status, 200, r.text);
      const msgs = await until(async () => {
        const m = await messagesOf(conv.id);
        return m.some((x) => x.direction === 'inbound') && m;
      }, 'the Gmail reply in the started conversation');
      assert.deepEqual(msgs.map((m) => m.direction), ['outbound', 'inbound']);
      assert.equal(msgs[1].text.trim(), 'See you then.');
      assert.deepEqual((await conversationsOn(kit.channelId)).map((c) => c.id), [conv.id]);

      await ok('send_message', { conversation_id: conv.id, text: 'Great.' });
      const answer = await until(() => kit.fake.sentMessages().filter((m) => parseMail(m.rfc2822).headers.to?.includes('grace@example.com'))[1], 'the answer in the thread');
      assert.equal(answer.threadId, sent.threadId);
      assert.equal(parseMail(answer.rfc2822).headers['in-reply-to'], '<grace-1@example.com>');
      assert.equal(parseMail(answer.rfc2822).headers.subject, 'Re: Hi Grace');
    });
  });
}
