/**
 * Gmail round trip through real HTTP: a Pub/Sub push (Google-signed OIDC token) in, history and the
 * raw message fetched from the fake Gmail API, the agent's Markdown answer out as a raw RFC 2822
 * multipart/alternative reply posted into the thread (threadId, In-Reply-To, References, "Re:"
 * subject); Idempotency-Key; 429 honoured; a refused token puts the channel in error and the next
 * success clears it; a timeout leaves the message failed, never resent (Gmail has no idempotency).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMail } from '../../../fakes/mail-parse.js';
import { startFakeAgent, type FakeAgent } from '../../inbound/fake-agent.js';
import { gmailKit, send as wire } from '../../inbound/helpers.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { storeKinds } from '../../helpers/stores.js';
import { channelView, longMarkdown, messageReaches, messageView, norm, receivedConversation, replySent, send, sleep, statusEvent, until } from '../../outbound/helpers.js';

type Kit = Awaited<ReturnType<typeof gmailKit>>;

for (const kind of storeKinds()) {
  describe(`gmail outbound on ${kind}`, () => {
    let s: TestServer;
    let kit: Kit;
    let agent: FakeAgent;
    let instanceId: string;
    let conv = 0;

    /** A pushed inbound email opening a new thread; returns the conversation and the inbound email fields. */
    async function inbound() {
      const c = ++conv;
      const r = await wire(await kit.valid(c, c));
      assert.equal(r.status, 200, r.text);
      let email: any;
      const conversation = await receivedConversation(agent, (d) => {
        if (d.email?.subject === `Thread ${c}`) email = d.email;
        return d.email?.subject === `Thread ${c}`;
      }, `the inbound email of thread ${c}`);
      return { c, conv: conversation, email, to: `c${c}@example.com` };
    }

    const sentTo = (to: string) => kit.fake.sentMessages().filter((m) => parseMail(m.rfc2822).headers.to?.includes(to));
    const textOf = (m: { rfc2822: string }) => parseMail(m.rfc2822).parts.find((p) => p.contentType === 'text/plain')?.body ?? '';

    before(async () => {
      agent = await startFakeAgent();
      s = await startServer(kind, { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' }, services: { sendScheduleMs: [50, 50, 50] } });
      const inst = await s.api('POST', '/v1/instances', { name: 'gmail', agent_url: agent.url });
      instanceId = inst.body.id;
      agent.secret = inst.body.signing_secret;
      kit = await gmailKit({ s, instanceId });
    });
    after(async () => {
      await s.close();
      await kit.close();
      await agent.close();
    });

    test("the agent's Markdown reply goes into the Gmail thread: threadId, In-Reply-To, References, Re: subject, text + HTML parts", async () => {
      agent.script = (d) => (d.body.type === 'message.received' && d.body.data.email?.subject === 'Thread 1' ? { json: { reply: { text: 'Hello **Ada**, _thanks_ for writing.\n\n1. first\n2. second' } } } : { json: {} });
      const { conv: convId, email, to } = await inbound();
      assert.ok(email.thread_id, 'the inbound email carries its Gmail threadId');
      const sentEv = await replySent(agent, convId);
      const out = sentTo(to);
      assert.equal(out.length, 1);
      const req = kit.fake.requests.find((q) => q.path.endsWith('/messages/send'))!;
      assert.equal((req.body as any).threadId, email.thread_id, 'sent with the thread id');
      assert.equal(out[0].threadId, email.thread_id, 'and Gmail kept it in the thread (subject matched)');
      const mail = parseMail(out[0].rfc2822);
      assert.equal(mail.headers.subject, 'Re: Thread 1');
      assert.equal(mail.headers['in-reply-to'], email.message_id);
      assert.match(mail.headers.references, new RegExp(email.message_id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      assert.match(mail.headers.from, new RegExp(kit.address));
      assert.equal(mail.contentType, 'multipart/alternative');
      const text = mail.parts.find((p) => p.contentType === 'text/plain')!.body;
      const html = mail.parts.find((p) => p.contentType === 'text/html')!.body;
      assert.match(text, /^Hello Ada, thanks for writing\./);
      assert.doesNotMatch(text, /\*\*/);
      assert.match(html, /<strong>Ada<\/strong>/);
      assert.match(html, /<em>thanks<\/em>/);
      assert.match(html, /<ol[^>]*>/);
      const m = await messageView(s, instanceId, sentEv.body.data.message_id);
      assert.equal(m.status, 'sent');
      assert.equal(m.provider_message_id, out[0].id);
    });

    test('a long answer is one email (email is not split)', async () => {
      const { conv: convId, to } = await inbound();
      const body = longMarkdown(10, 300);
      const r = await send(s, instanceId, convId, { text: body });
      await messageReaches(s, instanceId, r.body.id, 'sent');
      const out = sentTo(to);
      assert.equal(out.length, 1);
      assert.equal(norm(textOf(out[0])), norm(body));
    });

    test('Idempotency-Key: the same key never sends twice', async () => {
      const { conv: convId, to } = await inbound();
      const a = await send(s, instanceId, convId, { text: 'once only' }, 'gm-k-1');
      const b = await send(s, instanceId, convId, { text: 'once only' }, 'gm-k-1');
      assert.equal(a.body.id, b.body.id);
      assert.equal(b.headers.get('idempotent-replayed'), 'true');
      await messageReaches(s, instanceId, a.body.id, 'sent');
      await send(s, instanceId, convId, { text: 'once only' }, 'gm-k-1');
      await sleep(300);
      assert.equal(sentTo(to).filter((m) => textOf(m).trim() === 'once only').length, 1);
    });

    test('429 (rateLimitExceeded) with Retry-After is honoured: the email waits and then goes out once', async () => {
      const { conv: convId, to } = await inbound();
      const before = kit.fake.requests.length;
      kit.fake.failNext({ status: 429, retryAfter: 1, match: '/messages/send' });
      const r = await send(s, instanceId, convId, { text: 'patience' });
      await messageReaches(s, instanceId, r.body.id, 'sent');
      const attempts = kit.fake.requests.slice(before).filter((q) => q.path.endsWith('/messages/send'));
      assert.equal(attempts.length, 2, 'one refused attempt, one accepted');
      const gap = attempts[1].receivedAt - attempts[0].receivedAt;
      assert.ok(gap >= 900, `the retry waited for Retry-After (${gap} ms)`);
      assert.ok(gap < 5000, `but not much longer (${gap} ms)`);
      assert.equal(sentTo(to).filter((m) => textOf(m).trim() === 'patience').length, 1);
    });

    test('a refused token (401 even after a refresh) sets the channel to error and tells the agent; the next success clears it', async () => {
      const { conv: convId, to } = await inbound();
      // The client refreshes its access token once on a 401; both attempts are refused.
      kit.fake.failNext({ status: 401, match: '/messages/send' });
      kit.fake.failNext({ status: 401, match: '/messages/send' });
      const bad = await send(s, instanceId, convId, { text: 'will fail' });
      const failed = await messageReaches(s, instanceId, bad.body.id, 'failed');
      assert.equal(failed.error.kind, 'auth');
      const ch = await channelView(s, instanceId, kit.channelId);
      assert.equal(ch.status, 'error');
      assert.match(ch.error_message, /^Gmail refused the channel's credentials \(authError\): .*Update the connection's secrets/);
      const ev = await until(() => agent.accepted().find((d) => d.body.type === 'channel.error' && d.body.channel_id === kit.channelId), 'the channel.error event');
      assert.equal(ev.body.data.error_message, ch.error_message);

      const good = await send(s, instanceId, convId, { text: 'works again' });
      await messageReaches(s, instanceId, good.body.id, 'sent');
      assert.equal(sentTo(to).filter((m) => textOf(m).trim() === 'works again').length, 1);
      assert.equal(sentTo(to).filter((m) => textOf(m).trim() === 'will fail').length, 0);
      await until(async () => {
        const c = await channelView(s, instanceId, kit.channelId);
        return c.status === 'active' && c.error_message === null;
      }, 'recovery');
    });

    test('a timeout (unknown outcome) leaves the message failed, "may or may not have delivered", and never sends it again', async () => {
      const { conv: convId, to } = await inbound();
      const before = kit.fake.requests.length;
      s.services.contexts.timeoutMs = 400;
      try {
        kit.fake.failNext({ timeoutMs: 1200, match: '/messages/send' }); // held, then processed: Gmail did send it
        const r = await send(s, instanceId, convId, { text: 'maybe' });
        const m = await messageReaches(s, instanceId, r.body.id, 'failed');
        assert.equal(m.error.kind, 'unknown_outcome');
        assert.match(m.error.message, /may or may not have delivered/);
        await statusEvent(agent, r.body.id, 'failed');
        await sleep(1500);
        assert.equal(kit.fake.requests.slice(before).filter((q) => q.path.endsWith('/messages/send')).length, 1, 'no second attempt');
        assert.equal(sentTo(to).filter((x) => textOf(x).trim() === 'maybe').length, 1, 'the late send is the only one');
      } finally {
        s.services.contexts.timeoutMs = 15_000;
      }
    });
  });
}
