/**
 * Resend (email) round trip through real HTTP: a Svix-signed email.received in, the agent's
 * Markdown answer out as a text + HTML email that threads (In-Reply-To, References, "Re:" subject);
 * Idempotency-Key on our API and on Resend's; 429 with retry-after honoured; a refused key (401)
 * puts the channel in error and the next success clears it; email.delivered / email.bounced update
 * the message and reach the agent; a timeout is retried with the same Resend Idempotency-Key and
 * the email exists once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Webhook as SvixWebhook } from 'svix';
import { startFakeResend, type FakeResend } from '../../../fakes/resend.js';
import { startFakeAgent, type FakeAgent } from '../../inbound/fake-agent.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { storeKinds } from '../../helpers/stores.js';
import { channelView, longMarkdown, messageReaches, messageView, norm, receivedConversation, replySent, send, sleep, statusEvent, until } from '../../outbound/helpers.js';

const ADDRESS = 'support@sb.test';

for (const kind of storeKinds()) {
  describe(`resend (email) outbound on ${kind}`, () => {
    let s: TestServer;
    let rs: FakeResend;
    let agent: FakeAgent;
    let instanceId: string;
    let channel: any;
    const whsec = 'whsec_' + randomBytes(24).toString('base64');
    let n = 0;

    /** POSTs a Resend event signed by the svix SDK to the channel's webhook URL. */
    async function deliver(event: unknown): Promise<number> {
      const body = JSON.stringify(event);
      const id = `msg_${randomBytes(12).toString('hex')}`;
      const at = new Date();
      const res = await fetch(channel.webhook_url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'svix-id': id, 'svix-timestamp': String(Math.floor(at.getTime() / 1000)), 'svix-signature': new SvixWebhook(whsec).sign(id, at, body) },
        body,
      });
      await res.arrayBuffer();
      return res.status;
    }

    /** A new inbound email from a new customer, answering an earlier thread; returns its ids and conversation. */
    async function inbound(subject: string, text = 'hello') {
      const i = ++n;
      const from = `c${i}@example.com`;
      const messageId = `<q${i}.${randomBytes(3).toString('hex')}@example.com>`;
      const root = `<root${i}@example.com>`;
      const { event } = rs.receiveEmail({ from: `Customer ${i} <${from}>`, to: [ADDRESS], subject, text, message_id: messageId, headers: { references: root, 'in-reply-to': root } });
      assert.equal(await deliver(event), 200);
      const conv = await receivedConversation(agent, (d) => d.email?.message_id === messageId, `the inbound email ${messageId}`);
      return { from, messageId, root, conv };
    }

    before(async () => {
      rs = await startFakeResend();
      agent = await startFakeAgent();
      s = await startServer(kind, { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_RESEND_API_URL: rs.url }, services: { sendScheduleMs: [50, 50, 50] } });
      const inst = await s.api('POST', '/v1/instances', { name: 'email', agent_url: agent.url });
      instanceId = inst.body.id;
      agent.secret = inst.body.signing_secret;
      const conn = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'resend', secrets: { api_key: rs.apiKey, webhook_secret: whsec } });
      assert.equal(conn.status, 201, conn.text);
      const ch = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'email', provider: 'resend', external_identifier: ADDRESS, connection_id: conn.body.id });
      assert.equal(ch.status, 201, ch.text);
      channel = ch.body;
    });
    after(async () => {
      await s.close();
      await rs.close();
      await agent.close();
    });

    test("the agent's Markdown reply goes out as text + HTML, threaded with In-Reply-To, References and a Re: subject; delivered reaches the agent", async () => {
      agent.script = (d) => (d.body.type === 'message.received' && d.body.data.email?.subject === 'Order 42' ? { json: { reply: { text: 'Hello **Ada**,\n\nyour order <b>42</b> & co:\n\n- shipped\n- [track it](https://shop.test/t/42)' } } } : { json: {} });
      const { from, messageId, root, conv } = await inbound('Order 42');
      const sentEv = await replySent(agent, conv);
      const out = rs.sentEmails(from);
      assert.equal(out.length, 1);
      const e = out[0];
      assert.equal(e.subject, 'Re: Order 42');
      assert.equal(e.from, ADDRESS);
      assert.deepEqual(e.to, [from]);
      assert.equal(e.headers['In-Reply-To'], messageId);
      assert.equal(e.headers['References'], `${root} ${messageId}`);
      // Plain-text part: Markdown markers gone, links spelled out.
      assert.match(e.text!, /^Hello Ada,/);
      assert.match(e.text!, /track it \(https:\/\/shop\.test\/t\/42\)/);
      assert.doesNotMatch(e.text!, /\*\*/);
      // HTML part: real markup, the agent's "<b>" escaped rather than trusted.
      assert.match(e.html!, /<strong>Ada<\/strong>/);
      assert.match(e.html!, /&lt;b&gt;42&lt;\/b&gt; &amp; co/);
      assert.match(e.html!, /<a [^>]*href="https:\/\/shop\.test\/t\/42"/);
      assert.match(e.html!, /<li[^>]*>shipped<\/li>/);
      const messageId2 = sentEv.body.data.message_id;
      assert.equal((await messageView(s, instanceId, messageId2)).provider_message_id, e.id);
      assert.equal(e.idempotencyKey, `${messageId2}:0`, 'each send carries a stable Idempotency-Key');

      assert.equal(await deliver({ type: 'email.sent', created_at: new Date().toISOString(), data: { email_id: e.id, from: ADDRESS, to: [from], subject: e.subject, created_at: new Date().toISOString() } }), 200);
      assert.equal(await deliver({ type: 'email.delivered', created_at: new Date().toISOString(), data: { email_id: e.id, from: ADDRESS, to: [from], subject: e.subject, created_at: new Date().toISOString() } }), 200);
      await messageReaches(s, instanceId, messageId2, 'delivered');
      const ev = await statusEvent(agent, messageId2, 'delivered');
      assert.equal(ev.verified, true);
      assert.equal(ev.body.conversation_id, conv);
    });

    test('a bounce (email.bounced) fails the message and tells the agent why', async () => {
      const { from, conv } = await inbound('Bounce me');
      const r = await send(s, instanceId, conv, { text: 'to nowhere' });
      await messageReaches(s, instanceId, r.body.id, 'sent');
      const e = rs.sentEmails(from).find((x) => x.text === 'to nowhere')!;
      assert.equal(e.subject, 'Re: Bounce me');
      assert.equal(await deliver({ type: 'email.bounced', created_at: new Date().toISOString(), data: { email_id: e.id, from: ADDRESS, to: [from], subject: e.subject, bounce: { message: 'Mailbox does not exist', type: 'Permanent' } } }), 200);
      const m = await messageReaches(s, instanceId, r.body.id, 'failed');
      assert.match(m.error.message, /Mailbox does not exist/);
      await statusEvent(agent, r.body.id, 'failed');
    });

    test('a long answer is one email (email is not split), with an explicit subject when given', async () => {
      const { from, conv } = await inbound('Everything');
      const text = longMarkdown(12, 300);
      const r = await send(s, instanceId, conv, { text, subject: 'The full story' });
      await messageReaches(s, instanceId, r.body.id, 'sent');
      const out = rs.sentEmails(from);
      assert.equal(out.length, 1);
      assert.equal(out[0].subject, 'The full story');
      assert.equal(norm(out[0].text!), norm(text));
    });

    test('Idempotency-Key: the same key never sends twice', async () => {
      const { from, conv } = await inbound('Once');
      const a = await send(s, instanceId, conv, { text: 'once only' }, 'rs-k-1');
      const b = await send(s, instanceId, conv, { text: 'once only' }, 'rs-k-1');
      assert.equal(a.body.id, b.body.id);
      assert.equal(b.headers.get('idempotent-replayed'), 'true');
      await messageReaches(s, instanceId, a.body.id, 'sent');
      await send(s, instanceId, conv, { text: 'once only' }, 'rs-k-1');
      await sleep(300);
      assert.equal(rs.sentEmails(from).filter((e) => e.text === 'once only').length, 1);
    });

    test('429 with retry-after is honoured: the email waits and then goes out once', async () => {
      const { from, conv } = await inbound('Slow down');
      await sleep(1100); // the API key's bucket (2/s) refills from the earlier sends
      rs.failNext({ status: 429, retryAfter: 2, match: '/emails' });
      const r = await send(s, instanceId, conv, { text: 'patience' });
      await messageReaches(s, instanceId, r.body.id, 'sent');
      const attempts = rs.requests.filter((q) => q.path === '/emails' && (q.body as any)?.text === 'patience');
      assert.equal(attempts.length, 2, 'one refused attempt, one accepted');
      const gap = attempts[1].receivedAt - attempts[0].receivedAt;
      assert.ok(gap >= 1900, `the retry waited for retry-after: 2 (${gap} ms)`);
      assert.ok(gap < 6000, `but not much longer (${gap} ms)`);
      assert.equal(attempts[0].headers['idempotency-key'], attempts[1].headers['idempotency-key']);
      assert.equal(rs.sentEmails(from).filter((e) => e.text === 'patience').length, 1);
    });

    test('a refused API key (401) sets the channel to error and tells the agent; the next success clears it', async () => {
      const { from, conv } = await inbound('Auth');
      rs.failNext({ status: 401, match: '/emails' });
      const bad = await send(s, instanceId, conv, { text: 'will fail' });
      const failed = await messageReaches(s, instanceId, bad.body.id, 'failed');
      assert.equal(failed.error.kind, 'auth');
      const ch = await channelView(s, instanceId, channel.id);
      assert.equal(ch.status, 'error');
      assert.match(ch.error_message, /^Resend refused the channel's credentials \(missing_api_key\): .*Update the connection's secrets/);
      assert.ok(!ch.error_message.includes(rs.apiKey));
      const ev = await until(() => agent.accepted().find((d) => d.body.type === 'channel.error' && d.body.channel_id === channel.id), 'the channel.error event');
      assert.equal(ev.body.data.error_message, ch.error_message);

      const good = await send(s, instanceId, conv, { text: 'works again' });
      await messageReaches(s, instanceId, good.body.id, 'sent');
      assert.equal(rs.sentEmails(from).filter((e) => e.text === 'works again').length, 1);
      await until(async () => {
        const c = await channelView(s, instanceId, channel.id);
        return c.status === 'active' && c.error_message === null;
      }, 'recovery');
      await until(() => agent.accepted().find((d) => d.body.type === 'channel.recovered' && d.body.channel_id === channel.id), 'the channel.recovered event');
    });

    test('a timeout is retried with the same Idempotency-Key (Resend deduplicates): the email exists once', async () => {
      const { from, conv } = await inbound('Timeout');
      s.services.contexts.timeoutMs = 400;
      try {
        rs.failNext({ timeoutMs: 1200, match: '/emails' }); // held, then processed late
        const r = await send(s, instanceId, conv, { text: 'exactly once' });
        const m = await messageReaches(s, instanceId, r.body.id, 'sent');
        await sleep(1500); // let the held request finish too
        const attempts = rs.requests.filter((q) => q.path === '/emails' && (q.body as any)?.text === 'exactly once');
        assert.ok(attempts.length >= 2, `retried after the timeout (${attempts.length} attempts)`);
        assert.equal(new Set(attempts.map((a) => a.headers['idempotency-key'])).size, 1, 'every attempt with the same key');
        const emails = rs.sentEmails(from).filter((e) => e.text === 'exactly once');
        assert.equal(emails.length, 1, 'the email exists once');
        assert.equal(m.provider_message_id, emails[0].id);
      } finally {
        s.services.contexts.timeoutMs = 15_000;
      }
    });
  });
}
