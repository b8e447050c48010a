/**
 * Conversations end to end through HTTP, on every store: the resource and its list (filters,
 * paging), history fit for an LLM (authors, in_reply_to, causal created_at, sent_at, cursors),
 * the lifecycle (close -> the next message opens a new conversation; reopen; the agent closing
 * from a reply), handoff/resume with an operator message in between (suppressed agent replies,
 * 409 for the agent's own sends, events marked mode "human"), the idle return to the agent,
 * snake_case public payloads, and Idempotency-Key reuse (same parameters: the original; other
 * parameters: 422). Telegram is the channel (a local fake Bot API); the agent is a fake agent.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeTelegram, type FakeTelegram } from '../../fakes/telegram.js';
import { startFakeAgent, type FakeAgent } from '../inbound/fake-agent.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';
import { until } from '../outbound/helpers.js';

for (const kind of storeKinds()) {
  describe(`conversations on ${kind}`, () => {
    let s: TestServer;
    let tg: FakeTelegram;
    let agent: FakeAgent;
    let instanceId: string;
    let channel: any;
    const SECRET = 'tg-secret_conv';
    let updateId = 5000;

    async function inbound(chatId: number, text: string, name = 'Ada') {
      const r = await fetch(channel.webhook_url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        body: JSON.stringify({ update_id: ++updateId, message: { message_id: updateId, date: 1_700_000_000, chat: { id: chatId, type: 'private' }, from: { id: chatId, is_bot: false, first_name: name }, text } }),
      });
      assert.equal(r.status, 200);
    }
    const base = () => `/v1/instances/${instanceId}/conversations`;
    const received = (text: string) => until(() => agent.accepted().find((d) => d.body.type === 'message.received' && d.body.data.text === text), `the event for "${text}"`);
    const history = async (cid: string, q = '') => {
      const r = await s.api('GET', `${base()}/${cid}/messages${q}`);
      assert.equal(r.status, 200, r.text);
      return r.body;
    };
    const events = async () => (await s.api('GET', `/v1/instances/${instanceId}/events?after=0&limit=500`)).body.events as any[];

    before(async () => {
      tg = await startFakeTelegram();
      agent = await startFakeAgent();
      agent.includeConversationEvents = true;
      s = await startServer(kind, { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_TELEGRAM_API_URL: tg.url, SWITCHBOARD_HANDOFF_SWEEP_MS: '100' }, services: { sendScheduleMs: [50, 50, 50] } });
      const inst = await s.api('POST', '/v1/instances', { name: 'conv', agent_url: agent.url });
      assert.equal(inst.status, 201, inst.text);
      assert.deepEqual(inst.body.handoff, { operator_takeover: true, idle_resume_seconds: 1800 }, 'handoff defaults');
      instanceId = inst.body.id;
      agent.secret = inst.body.signing_secret;
      const conn = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'telegram', secrets: { bot_token: tg.token } });
      channel = (await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: 'switchboard_test_bot', connection_id: conn.body.id, webhook_secret: SECRET })).body;
      agent.script = (d) => (d.body.type === 'message.received' && d.body.data.text.startsWith('q:') ? { json: { reply: { text: `a:${d.body.data.text.slice(2)}` } } } : { json: {} });
    });
    after(async () => {
      await s.close();
      await tg.close();
      await agent.close();
    });

    test('the conversation resource, its list (filters, paging) and an LLM-ready history', async () => {
      await inbound(801, 'q:one', 'Grace');
      const ev = await received('q:one');
      const cid = ev.body.conversation_id;
      assert.deepEqual(ev.body.conversation, { id: cid, status: 'open', mode: 'agent' }, 'the envelope carries the conversation');
      const opened = await until(() => agent.accepted().find((d) => d.body.type === 'conversation.opened' && d.body.conversation_id === cid), 'conversation.opened');
      assert.ok(Number(opened.body.cursor) < Number(ev.body.cursor));

      const one = await s.api('GET', `${base()}/${cid}`);
      assert.equal(one.status, 200, one.text);
      const c = one.body;
      for (const k of ['id', 'instance_id', 'channel_id', 'status', 'mode', 'assignee', 'contact', 'created_at', 'updated_at', 'last_message_at']) assert.ok(k in c, `conversation has ${k}`);
      assert.equal(c.id, cid);
      assert.equal(c.instance_id, instanceId);
      assert.equal(c.channel_id, channel.id);
      assert.equal(c.status, 'open');
      assert.equal(c.mode, 'agent');
      assert.equal(c.assignee, null);
      assert.equal(c.contact.id, '801');
      assert.equal(c.contact.name, 'Grace');
      assert.equal(c.key, '801');

      // The reply: sent, answering the inbound message, accepted after it.
      const h = await until(async () => {
        const b = await history(cid);
        return b.messages.length === 2 && b.messages[1].status === 'sent' ? b : undefined;
      }, 'the sent reply');
      const [q, a] = h.messages;
      assert.equal(q.direction, 'inbound');
      assert.deepEqual(q.author, { kind: 'contact', id: '801', name: 'Grace' });
      assert.equal(q.text, 'q:one');
      assert.deepEqual(q.attachments, []);
      assert.equal(q.in_reply_to, null);
      assert.equal(a.direction, 'outbound');
      assert.deepEqual(a.author, { kind: 'agent' });
      assert.equal(a.text, 'a:one');
      assert.equal(a.in_reply_to, q.id);
      assert.ok(a.created_at >= q.created_at);
      assert.ok(a.sent_at && a.sent_at >= a.created_at, 'sent_at is when the provider took it');
      assert.equal(h.has_more, false);
      // Snake case everywhere outside raw.
      assert.ok(!/[a-z][A-Z]/.test(Object.keys(q.content).join(' ')), `content keys: ${Object.keys(q.content)}`);
      assert.equal(q.content.provider_message_id !== undefined, true);
      const dataKeys = JSON.stringify(Object.keys(ev.body.data)) + JSON.stringify(Object.keys(ev.body.data.from));
      assert.ok(!/providerEventId|occurredAt|conversationKey|providerMessageId/.test(dataKeys), dataKeys);
      assert.ok(ev.body.data.provider_event_id && ev.body.data.occurred_at && ev.body.data.conversation_key);
      assert.match(JSON.stringify(ev.body.data.raw), /"first_name":"Grace"/, 'raw is verbatim');

      // More messages, then paging by message ids.
      for (const t of ['m3', 'm4', 'm5']) await inbound(801, t, 'Grace');
      await received('m5');
      const all = (await history(cid)).messages.map((m: any) => m.text);
      assert.deepEqual(all, ['q:one', 'a:one', 'm3', 'm4', 'm5']);
      const ids = (await history(cid)).messages.map((m: any) => m.id);
      const last2 = await history(cid, '?limit=2');
      assert.deepEqual(last2.messages.map((m: any) => m.text), ['m4', 'm5'], 'no cursor: the latest, oldest first');
      assert.equal(last2.has_more, true);
      assert.deepEqual((await history(cid, '?limit=2&order=desc')).messages.map((m: any) => m.text), ['m5', 'm4']);
      const back = await history(cid, `?limit=2&before=${ids[3]}`);
      assert.deepEqual(back.messages.map((m: any) => m.text), ['a:one', 'm3']);
      assert.equal(back.has_more, true);
      const fwd = await history(cid, `?limit=2&after=${ids[1]}`);
      assert.deepEqual(fwd.messages.map((m: any) => m.text), ['m3', 'm4']);
      assert.equal(fwd.has_more, true);
      assert.deepEqual((await history(cid, `?after=${ids[3]}`)).messages.map((m: any) => m.text), ['m5']);
      assert.deepEqual((await history(cid, `?after=${ids[0]}&before=${ids[4]}`)).messages.map((m: any) => m.text), ['a:one', 'm3', 'm4']);
      const bad = await s.api('GET', `${base()}/${cid}/messages?before=00000000-0000-4000-8000-000000000000&order=sideways`);
      assert.equal(bad.status, 422);
      assert.deepEqual(bad.body.detail.map((d: any) => d.loc.join('.')).sort(), ['query.order']);
      const notHere = await s.api('GET', `${base()}/${cid}/messages?before=00000000-0000-4000-8000-000000000000`);
      assert.equal(notHere.status, 422);
      assert.deepEqual(notHere.body.detail[0].loc, ['query', 'before']);

      // List: filters and keyset paging.
      await inbound(802, 'other');
      await received('other');
      const listed = (await s.api('GET', `${base()}?limit=1`)).body;
      assert.equal(listed.count, 1);
      assert.ok(listed.next_cursor);
      const page2 = (await s.api('GET', `${base()}?limit=1&cursor=${listed.next_cursor}`)).body;
      assert.equal(page2.count, 1);
      assert.notEqual(page2.conversations[0].id, listed.conversations[0].id);
      assert.deepEqual(new Set([listed.conversations[0].contact.id, page2.conversations[0].contact.id]), new Set(['801', '802']));
      assert.equal((await s.api('GET', `${base()}?channel_id=${channel.id}&status=open&mode=agent`)).body.count, 2);
      assert.equal((await s.api('GET', `${base()}?mode=human`)).body.count, 0);
      assert.equal((await s.api('GET', `${base()}?status=shut`)).status, 422);
      assert.equal((await s.api('GET', `${base()}?cursor=nope`)).status, 422);
      assert.equal((await s.api('GET', `${base()}/00000000-0000-4000-8000-000000000000`)).status, 404);
    });

    test('close, then the next message opens a new conversation; reopen; the agent closes from a reply', async () => {
      await inbound(811, 'hello');
      const first = (await received('hello')).body.conversation_id;
      const closed = await s.api('POST', `${base()}/${first}/close`);
      assert.equal(closed.status, 200, closed.text);
      assert.equal(closed.body.status, 'closed');
      assert.ok(closed.body.closed_at);
      assert.equal(closed.body.key, '811', 'the thread is kept');
      const closedEv = await until(() => agent.accepted().find((d) => d.body.type === 'conversation.closed' && d.body.conversation_id === first), 'conversation.closed');
      assert.deepEqual(closedEv.body.conversation, { id: first, status: 'closed', mode: 'agent' });
      assert.equal((await s.api('POST', `${base()}/${first}/close`)).body.status, 'closed', 'closing twice is a no-op');

      await inbound(811, 'again');
      const second = (await received('again')).body.conversation_id;
      assert.notEqual(second, first, 'a new conversation');
      assert.ok(agent.accepted().some((d) => d.body.type === 'conversation.opened' && d.body.conversation_id === second));
      assert.deepEqual((await history(first)).messages.map((m: any) => m.text), ['hello']);
      assert.deepEqual((await history(second)).messages.map((m: any) => m.text), ['again']);
      // The agent can still write into the closed one (same chat).
      const late = await s.api('POST', `${base()}/${first}/messages`, { text: 'about your old question' });
      assert.equal(late.status, 202, late.text);
      await until(() => tg.sentMessages(811).find((m) => m.text === 'about your old question'), 'the late message');

      // Reopen is refused while the newer conversation holds the thread, allowed once it is closed.
      assert.equal((await s.api('POST', `${base()}/${first}/reopen`)).status, 409);
      assert.equal((await s.api('POST', `${base()}/${second}/close`)).status, 200);
      const reopened = await s.api('POST', `${base()}/${first}/reopen`);
      assert.equal(reopened.status, 200, reopened.text);
      assert.equal(reopened.body.status, 'open');
      await until(() => agent.accepted().find((d) => d.body.type === 'conversation.opened' && d.body.conversation_id === first && d.body.data.reason === 'reopened'), 'the reopen event');
      await inbound(811, 'back in the old one');
      assert.equal((await received('back in the old one')).body.conversation_id, first);
      assert.equal((await s.api('GET', `${base()}?status=closed`)).body.conversations.some((c: any) => c.id === second), true);

      // The agent closes from its reply: the answer goes out, then the conversation is closed.
      const prev = agent.script;
      agent.script = (d) => (d.body.type === 'message.received' && d.body.data.text === 'bye' ? { json: { reply: { text: 'Goodbye!', close: true } } } : { json: {} });
      try {
        await inbound(811, 'bye');
        await until(async () => (await s.api('GET', `${base()}/${first}`)).body.status === 'closed', 'closed by the agent');
        await until(() => tg.sentMessages(811).find((m) => m.text === 'Goodbye!'), 'the goodbye').catch(async (err) => {
          throw new Error(`${err.message}: ${JSON.stringify((await history(first)).messages.slice(-2))} ${JSON.stringify(tg.sentMessages(811).map((m) => m.text))}`);
        });
      } finally {
        agent.script = prev;
      }
      await inbound(811, 'one more');
      const third = (await received('one more')).body.conversation_id;
      assert.ok(third !== first && third !== second);
    });

    test('handoff and resume round trip, with an operator message in between', async () => {
      await inbound(821, 'q:before');
      const cid = (await received('q:before')).body.conversation_id;
      await until(() => tg.sentMessages(821).find((m) => m.text === 'a:before'), 'the agent answer');

      const h = await s.api('POST', `${base()}/${cid}/handoff`, { reason: 'billing question', assignee: 'sam@example.com' });
      assert.equal(h.status, 200, h.text);
      assert.equal(h.body.mode, 'human');
      assert.equal(h.body.assignee, 'sam@example.com');
      assert.equal(h.body.mode_reason, 'billing question');
      const hev = await until(() => agent.accepted().find((d) => d.body.type === 'conversation.handoff' && d.body.conversation_id === cid), 'conversation.handoff');
      assert.equal(hev.body.data.reason, 'billing question');
      assert.deepEqual(hev.body.conversation, { id: cid, status: 'open', mode: 'human' });
      assert.equal((await s.api('GET', `${base()}?mode=human`)).body.conversations.some((c: any) => c.id === cid), true);

      // The agent's own send is refused, naming the mode; an operator's goes out.
      const refused = await s.api('POST', `${base()}/${cid}/messages`, { text: 'agent here' });
      assert.equal(refused.status, 409);
      assert.match(refused.body.detail, /human mode/);
      const op = await s.api('POST', `${base()}/${cid}/messages`, { text: 'Sam here, looking at it', author: { kind: 'operator', name: 'Sam' } });
      assert.equal(op.status, 202, op.text);
      assert.deepEqual(op.body.author, { kind: 'operator', name: 'Sam' });
      await until(() => tg.sentMessages(821).find((m) => m.text === 'Sam here, looking at it'), 'the operator message');

      // The person writes: the agent still gets it (copilot), marked human; its reply is kept, not sent.
      await inbound(821, 'q:during');
      const during = await received('q:during');
      assert.equal(during.body.conversation.mode, 'human');
      const suppressed = await until(async () => (await history(cid)).messages.find((m: any) => m.text === 'a:during'), 'the suppressed reply');
      assert.equal(suppressed.status, 'suppressed');
      assert.equal(suppressed.author.kind, 'agent');
      assert.equal(suppressed.sent_at, null);
      assert.ok(!tg.sentMessages(821).some((m) => m.text === 'a:during'), 'not sent to the person');

      const r = await s.api('POST', `${base()}/${cid}/resume`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.mode, 'agent');
      assert.equal(r.body.assignee, null);
      await until(() => agent.accepted().find((d) => d.body.type === 'conversation.resumed' && d.body.conversation_id === cid), 'conversation.resumed');
      await inbound(821, 'q:after');
      assert.equal((await received('q:after')).body.conversation.mode, 'agent');
      await until(() => tg.sentMessages(821).find((m) => m.text === 'a:after'), 'the agent answers again');
      // The fake records the send before Switchboard has read its answer and stored 'sent'.
      await until(async () => ['sent', 'delivered', 'read'].includes((await history(cid)).messages.find((m: any) => m.text === 'a:after')?.status), 'the answer marked sent');
      const texts = (await history(cid)).messages.map((m: any) => `${m.author.kind}:${m.text}:${m.status}`);
      assert.deepEqual(texts.map((t: string) => t.replace(/:(sent|delivered|read)$/, ':ok')), [
        'contact:q:before:received', 'agent:a:before:ok', 'operator:Sam here, looking at it:ok', 'contact:q:during:received', 'agent:a:during:suppressed', 'contact:q:after:received', 'agent:a:after:ok',
      ]);
    });

    test('an operator message in agent mode hands over (per-instance setting); the agent asks for a handoff in a reply; idle human conversations return to the agent', async () => {
      await inbound(831, 'first');
      const cid = (await received('first')).body.conversation_id;
      const op = await s.api('POST', `${base()}/${cid}/messages`, { text: 'An operator jumps in', author: { kind: 'operator', name: 'Kim' } });
      assert.equal(op.status, 202);
      const c = (await s.api('GET', `${base()}/${cid}`)).body;
      assert.equal(c.mode, 'human');
      assert.equal(c.assignee, 'Kim');
      assert.equal(c.mode_reason, 'operator_message');

      // Setting off: operators write without taking over.
      const off = await s.api('PATCH', `/v1/instances/${instanceId}`, { handoff: { operator_takeover: false } });
      assert.equal(off.status, 200, off.text);
      assert.deepEqual(off.body.handoff, { operator_takeover: false, idle_resume_seconds: 1800 });
      await inbound(832, 'second');
      const cid2 = (await received('second')).body.conversation_id;
      assert.equal((await s.api('POST', `${base()}/${cid2}/messages`, { text: 'fyi', author: { kind: 'operator', name: 'Kim' } })).status, 202);
      assert.equal((await s.api('GET', `${base()}/${cid2}`)).body.mode, 'agent');
      assert.equal((await s.api('PATCH', `/v1/instances/${instanceId}`, { handoff: { idle_resume_seconds: -1 } })).status, 422);

      // The agent asks for humans in its reply.
      const prev = agent.script;
      agent.script = (d) => (d.body.type === 'message.received' && d.body.data.text === 'I want a human' ? { json: { reply: { text: 'Connecting you.', handoff: { reason: 'asked for a person' } } } } : { json: {} });
      try {
        await inbound(833, 'I want a human');
        const cid3 = (await received('I want a human')).body.conversation_id;
        const c3 = await until(async () => {
          const v = (await s.api('GET', `${base()}/${cid3}`)).body;
          return v.mode === 'human' ? v : undefined;
        }, 'the handoff from the reply');
        assert.equal(c3.mode_reason, 'asked for a person');
        await until(() => tg.sentMessages(833).find((m) => m.text === 'Connecting you.'), 'the reply before the handoff');
      } finally {
        agent.script = prev;
      }

      // Idle: with a 1 s timeout, the sweep gives human conversations back to the agent.
      assert.equal((await s.api('PATCH', `/v1/instances/${instanceId}`, { handoff: { idle_resume_seconds: 1 } })).status, 200);
      const resumed = await until(() => agent.accepted().find((d) => d.body.type === 'conversation.resumed' && d.body.conversation_id === cid && d.body.data.reason === 'idle'), 'the idle resume', 15_000);
      assert.deepEqual(resumed.body.data.by, { kind: 'system' });
      assert.equal((await s.api('GET', `${base()}/${cid}`)).body.mode, 'agent');
      await s.api('PATCH', `/v1/instances/${instanceId}`, { handoff: { idle_resume_seconds: 1800, operator_takeover: true } });
    });

    test('Idempotency-Key: the same parameters return the original, other parameters answer 422; documented in OpenAPI', async () => {
      await inbound(841, 'idem');
      const cid = (await received('idem')).body.conversation_id;
      const post = (body: unknown, key: string) => s.api('POST', `${base()}/${cid}/messages`, body, undefined, { 'idempotency-key': key });
      const a = await post({ text: 'once' }, 'k-1');
      assert.equal(a.status, 202, a.text);
      const again = await post({ text: 'once' }, 'k-1');
      assert.equal(again.status, 202);
      assert.equal(again.body.id, a.body.id);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      const other = await post({ text: 'twice?' }, 'k-1');
      assert.equal(other.status, 422);
      assert.deepEqual(other.body.detail[0].loc, ['header', 'idempotency-key']);
      assert.match(other.body.detail[0].msg, /different parameters/);
      await until(() => tg.sentMessages(841).some((m) => m.text === 'once'), 'the message');
      assert.equal(tg.sentMessages(841).filter((m) => m.text === 'once' || m.text === 'twice?').length, 1);

      const doc = (await s.api('GET', '/openapi.json')).body;
      const op = doc.paths['/v1/instances/{instance_id}/conversations/{conversation_id}/messages'];
      assert.ok(op.post.parameters.some((p: any) => p.in === 'header' && p.name === 'idempotency-key'), 'Idempotency-Key is documented');
      const hist = op.get.responses['200'].content['application/json'].schema;
      const item = hist.properties.messages.items;
      for (const k of ['id', 'direction', 'author', 'text', 'attachments', 'in_reply_to', 'status', 'created_at', 'sent_at']) assert.ok(item.properties[k], `history item typed: ${k}`);
      assert.ok(doc.paths['/v1/instances/{instance_id}/conversations/{conversation_id}'].get);
      for (const a of ['close', 'reopen', 'handoff', 'resume']) assert.ok(doc.paths[`/v1/instances/{instance_id}/conversations/{conversation_id}/${a}`]?.post, a);
    });

    test('another tenant sees none of it (404)', async () => {
      await inbound(851, 'mine');
      const cid = (await received('mine')).body.conversation_id;
      const other = await s.api('POST', '/v1/instances', { name: 'other' });
      const k = await s.api('POST', '/v1/api-keys', { name: 'o', instance_ids: [other.body.id] });
      for (const [m, p] of [['GET', `${base()}/${cid}`], ['GET', `${base()}/${cid}/messages`], ['POST', `${base()}/${cid}/close`], ['POST', `${base()}/${cid}/handoff`]] as const) {
        assert.equal((await s.api(m, p, m === 'POST' ? {} : undefined, k.body.key)).status, 404, `${m} ${p}`);
      }
      assert.equal((await s.api('GET', `/v1/instances/${other.body.id}/conversations/${cid}`, undefined, k.body.key)).status, 404);
      assert.equal((await s.api('POST', `/v1/instances/${other.body.id}/conversations/${cid}/close`, undefined, k.body.key)).status, 404);
      const evs = await events();
      assert.ok(evs.every((e) => e.type.startsWith('conversation.') ? e.conversation && e.conversation.id === e.conversation_id : true));
    });
  });
}
