/** The widget endpoints over real HTTP, on every store: origins, visitor tokens, flood control, signed identities, the stream. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';
import { readSse } from './helpers.js';

const SECRET = 'site-secret-for-tests';
const sign = (id: string, secret = SECRET) => createHmac('sha256', secret).update(id).digest('hex');

for (const kind of storeKinds()) {
  describe(`web chat API on ${kind}`, () => {
    let s: TestServer;
    let instanceId: string;
    let channelId: string;
    const wc = (path: string) => `/v1/webchat/${channelId}${path}`;
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) => s.api('POST', wc(path), body, null, headers);

    before(async () => {
      s = await startServer(kind);
      instanceId = (await s.api('POST', '/v1/instances', { name: 'site' })).body.id;
      const c = await s.api('POST', `/v1/instances/${instanceId}/channels`, {
        channel_type: 'web_chat', provider: 'web', external_identifier: `site-${kind}`, webhook_secret: SECRET,
        config: { allowed_origins: ['https://shop.example'], title: 'Shop chat', greeting: 'Hello!' },
      });
      assert.equal(c.status, 201, c.text);
      channelId = c.body.id;
    });
    after(() => s.close());

    test('a new visitor gets an anonymous id and its HMAC token; a message goes through the inbox into an event', async () => {
      const r = await post('/session', {});
      assert.equal(r.status, 200, r.text);
      assert.match(r.body.visitor_id, /^anon_/);
      assert.equal(r.body.token, sign(r.body.visitor_id));
      assert.equal(r.body.title, 'Shop chat');
      assert.equal(r.body.greeting, 'Hello!');
      assert.equal(r.body.conversation_id, null);
      assert.deepEqual(r.body.messages, []);

      const m = await post('/messages', { visitor_id: r.body.visitor_id, token: r.body.token, text: 'hi there', client_message_id: 'c1' });
      assert.equal(m.status, 202, m.text);
      assert.equal(m.body.duplicate, false);
      assert.equal(m.body.message.text, 'hi there');
      assert.equal(m.body.message.direction, 'in');
      assert.equal(m.body.message.client_message_id, 'c1');
      // The same client_message_id again is the same message, not a second one.
      const again = await post('/messages', { visitor_id: r.body.visitor_id, token: r.body.token, text: 'hi there', client_message_id: 'c1' });
      assert.equal(again.status, 202);
      assert.equal(again.body.duplicate, true);
      assert.equal(again.body.message.id, m.body.message.id);

      const ev = await s.api('GET', `/v1/instances/${instanceId}/events`);
      const mine = ev.body.events.filter((e: any) => e.conversation_id === m.body.conversation_id && e.type !== 'conversation.opened');
      assert.equal(mine.length, 1);
      assert.equal(mine[0].type, 'message.received');
      assert.equal(mine[0].data.text, 'hi there');
      assert.equal(mine[0].data.from.id, r.body.visitor_id);
      assert.equal(mine[0].channel.provider, 'web');

      // Resuming the session shows the history.
      const back = await post('/session', { visitor_id: r.body.visitor_id, token: r.body.token });
      assert.equal(back.status, 200);
      assert.equal(back.body.conversation_id, m.body.conversation_id);
      assert.deepEqual(back.body.messages.map((x: any) => x.text), ['hi there']);
      assert.ok(back.body.cursor);
    });

    test('a visitor cannot use or read another visitor conversation', async () => {
      const a = (await post('/session', {})).body;
      const b = (await post('/session', {})).body;
      await post('/messages', { visitor_id: a.visitor_id, token: a.token, text: 'secret of a', client_message_id: randomUUID() });
      const asA = await post('/session', { visitor_id: a.visitor_id, token: b.token });
      assert.equal(asA.status, 403);
      assert.ok(!asA.text.includes('secret of a'));
      const readA = await s.api('GET', wc(`/messages?visitor_id=${a.visitor_id}&token=${b.token}`), undefined, null);
      assert.equal(readA.status, 403);
      const streamA = await fetch(s.url + wc(`/stream?visitor_id=${a.visitor_id}&token=${b.token}`));
      assert.equal(streamA.status, 403);
      await streamA.body?.cancel();
      const writeA = await post('/messages', { visitor_id: a.visitor_id, token: b.token, text: 'x', client_message_id: randomUUID() });
      assert.equal(writeA.status, 403);
      const noToken = await post('/session', { visitor_id: a.visitor_id });
      assert.equal(noToken.status, 403);
      // b sees only its own (empty) history.
      const asB = await s.api('GET', wc(`/messages?visitor_id=${b.visitor_id}&token=${b.token}`), undefined, null);
      assert.equal(asB.status, 200);
      assert.deepEqual(asB.body.messages, []);
    });

    test('a host-signed visitor id continues its conversation; a wrong signature is refused', async () => {
      const id = `user-42-${kind}`;
      const first = await post('/session', { visitor_id: id, visitor_signature: sign(id) });
      assert.equal(first.status, 200, first.text);
      assert.equal(first.body.anonymous, false);
      assert.equal(first.body.token, sign(id));
      await post('/messages', { visitor_id: id, token: first.body.token, text: 'from my laptop', client_message_id: randomUUID() });
      // Another device of the same user: the host signs again and the history is there.
      const second = await post('/session', { visitor_id: id, visitor_signature: sign(id).toUpperCase() });
      assert.equal(second.status, 200);
      assert.deepEqual(second.body.messages.map((m: any) => m.text), ['from my laptop']);
      const forged = await post('/session', { visitor_id: id, visitor_signature: sign(id, 'not-the-secret') });
      assert.equal(forged.status, 403);
      assert.ok(!forged.text.includes('from my laptop'));
      const ev = await s.api('GET', `/v1/instances/${instanceId}/events?limit=500`);
      assert.ok(ev.body.events.some((e: any) => e.data.from?.id === id));
    });

    test('origins: allowed_origins and our own origin pass, other sites are refused (preflight too)', async () => {
      const ok = await post('/session', {}, { origin: 'https://shop.example' });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('access-control-allow-origin'), 'https://shop.example');
      const own = await post('/session', {}, { origin: new URL(s.url).origin });
      assert.equal(own.status, 200);
      const evil = await post('/session', {}, { origin: 'https://evil.example' });
      assert.equal(evil.status, 403);
      assert.equal(evil.headers.get('access-control-allow-origin'), null);
      const pre = await fetch(s.url + wc('/messages'), { method: 'OPTIONS', headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers.get('access-control-allow-origin'), 'https://shop.example');
      assert.match(pre.headers.get('access-control-allow-headers') ?? '', /content-type/);
      const badPre = await fetch(s.url + wc('/messages'), { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
      assert.equal(badPre.status, 403);
      assert.equal(badPre.headers.get('access-control-allow-origin'), null);
      const v = (await post('/session', {})).body;
      const evilSend = await post('/messages', { visitor_id: v.visitor_id, token: v.token, text: 'x', client_message_id: randomUUID() }, { origin: 'https://evil.example' });
      assert.equal(evilSend.status, 403);
    });

    test('a channel without allowed_origins accepts its own origin only', async () => {
      const c = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'web_chat', provider: 'web', external_identifier: `bare-${kind}` });
      const r1 = await s.api('POST', `/v1/webchat/${c.body.id}/session`, {}, null, { origin: 'https://shop.example' });
      assert.equal(r1.status, 403);
      const r2 = await s.api('POST', `/v1/webchat/${c.body.id}/session`, {}, null, { origin: new URL(s.url).origin });
      assert.equal(r2.status, 200);
    });

    test('flood control: the 6th message within 10 s is 429 with Retry-After', async () => {
      const v = (await post('/session', {})).body;
      const send = () => post('/messages', { visitor_id: v.visitor_id, token: v.token, text: 'spam', client_message_id: randomUUID() });
      // Burst 5, one more every 2 s: on a slow machine the five sends can take long enough to earn
      // a token back, so count what the bucket allowed against the time the sends took.
      const started = Date.now();
      let accepted = 0;
      let r = await send();
      while (r.status === 202 && accepted < 20) {
        accepted++;
        r = await send();
      }
      assert.equal(r.status, 429);
      assert.ok(accepted >= 5, `the burst of 5 is allowed (${accepted})`);
      assert.ok(accepted <= 5 + Math.ceil((Date.now() - started) / 2000), `no more than the burst plus what refilled (${accepted} in ${Date.now() - started} ms)`);
      const ra = Number(r.headers.get('retry-after'));
      assert.ok(ra >= 1 && ra <= 10, `retry-after ${ra}`);
      // Another visitor is not affected.
      const w = (await post('/session', {})).body;
      assert.equal((await post('/messages', { visitor_id: w.visitor_id, token: w.token, text: 'hi', client_message_id: randomUUID() })).status, 202);
    });

    test('validation, unknown and non-web channels, disabled chats', async () => {
      const v = (await post('/session', {})).body;
      const bad = await post('/messages', { visitor_id: v.visitor_id, token: v.token, text: '', client_message_id: 'x' });
      assert.equal(bad.status, 422);
      assert.deepEqual(bad.body.detail[0].loc, ['body', 'text']);
      assert.equal((await s.api('POST', `/v1/webchat/${randomUUID()}/session`, {}, null)).status, 404);
      assert.equal((await s.api('POST', '/v1/webchat/not-a-uuid/session', {}, null)).status, 422);
      const tg = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: `bot_${kind}` });
      assert.equal((await s.api('POST', `/v1/webchat/${tg.body.id}/session`, {}, null)).status, 404);
      const off = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'web_chat', provider: 'web', external_identifier: `off-${kind}`, enabled: false });
      assert.equal((await s.api('POST', `/v1/webchat/${off.body.id}/session`, {}, null)).status, 403);
    });

    test('the stream sends history, then live messages and deltas from the hub, and resumes from a cursor', async () => {
      const v = (await post('/session', {})).body;
      const m1 = await post('/messages', { visitor_id: v.visitor_id, token: v.token, text: 'first', client_message_id: randomUUID() });
      const conv = m1.body.conversation_id;
      const sse = await readSse(`${s.url}${wc(`/stream?visitor_id=${v.visitor_id}&token=${v.token}`)}`);
      try {
        const hist = await sse.next('message');
        assert.equal(hist.data.text, 'first');
        assert.equal(hist.id, hist.data.updated_at);
        // An agent answer, as the outbound pipeline publishes it: deltas, then the stored row.
        const hub = s.services.widgets;
        const answerId = randomUUID();
        await hub.publishDelta(conv, answerId, 'Hel');
        await hub.publishDelta(conv, answerId, 'lo');
        const d1 = await sse.next('delta');
        const d2 = await sse.next('delta');
        assert.deepEqual([d1.data, d2.data], [{ message_id: answerId, offset: 0, text: 'Hel' }, { message_id: answerId, offset: 3, text: 'lo' }]);
        const now = new Date().toISOString();
        await s.services.repos.inbox.insertMessage(s.services.repos.inbox.db, {
          id: answerId, instance_id: instanceId, channel_id: channelId, conversation_id: conv, direction: 'out', provider_message_id: null,
          status: 'delivered', text: 'Hello', content: '{}', error: null, idempotency_key: null, created_at: now, updated_at: now,
        });
        await hub.publishMessage(conv, answerId);
        const fin = await sse.next('message');
        assert.equal(fin.data.id, answerId);
        assert.equal(fin.data.text, 'Hello');
        assert.equal(fin.data.direction, 'out');
        // Other visitors' conversations do not leak into this stream.
        const other = (await post('/session', {})).body;
        await post('/messages', { visitor_id: other.visitor_id, token: other.token, text: 'not yours', client_message_id: randomUUID() });
        await post('/messages', { visitor_id: v.visitor_id, token: v.token, text: 'second', client_message_id: randomUUID() });
        const next = await sse.next('message');
        assert.equal(next.data.text, 'second');
      } finally {
        sse.close();
      }
      // Resuming from a cursor re-sends what changed since (overlap allowed, the widget keys by id).
      const all = await s.api('GET', wc(`/messages?visitor_id=${v.visitor_id}&token=${v.token}`), undefined, null);
      assert.deepEqual(all.body.messages.map((m: any) => m.text), ['first', 'Hello', 'second']);
      const future = new Date(Date.now() + 60_000).toISOString();
      const none = await s.api('GET', wc(`/messages?visitor_id=${v.visitor_id}&token=${v.token}&after=${future}`), undefined, null);
      assert.deepEqual(none.body.messages, []);
    });

    test('the stream refuses a visitor without a conversation yet (the widget opens it after the first message)', async () => {
      const v = (await post('/session', {})).body;
      const r = await fetch(`${s.url}${wc(`/stream?visitor_id=${v.visitor_id}&token=${v.token}`)}`);
      assert.equal(r.status, 404);
      await r.body?.cancel();
    });

    test('static pages: widget.js for any site, the dashboard with a strict CSP, the demo page', async () => {
      const w = await fetch(`${s.url}/widget.js`);
      assert.equal(w.status, 200);
      assert.match(w.headers.get('content-type') ?? '', /javascript/);
      assert.equal(w.headers.get('access-control-allow-origin'), '*');
      const body = await w.text();
      assert.ok(body.length < 30_000);
      const etag = w.headers.get('etag')!;
      assert.equal((await fetch(`${s.url}/widget.js`, { headers: { 'if-none-match': etag } })).status, 304);
      const d = await fetch(`${s.url}/`);
      assert.equal(d.status, 200);
      assert.match(d.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      assert.match(await d.text(), /dashboard\/app\.js/);
      assert.equal((await fetch(`${s.url}/dashboard/app.js`)).status, 200);
      assert.equal((await fetch(`${s.url}/dashboard/..%2Fwidget.js`)).status, 404);
      const demo = await fetch(`${s.url}/demo?channel=${channelId}`);
      assert.equal(demo.status, 200);
      assert.match(await demo.text(), new RegExp(`data-channel="${channelId}"`));
    });
  });
}
