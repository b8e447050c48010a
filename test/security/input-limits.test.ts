/**
 * No input reaches a 5xx (issue 10, item 6), on SQLite and, with TEST_DATABASE_URL, PostgreSQL:
 * JSON nested deeper than 64 levels answers 4xx without recursion (API, public web chat and
 * signed webhook routes); U+0000 is stored faithfully on both stores (an API field, a signed
 * Telegram update); integers beyond 2^53 are 422; and a property-based fuzz of the same routes
 * never sees a 5xx.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { jsonTooDeepAt } from '../../src/json-limits.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';
import { send, waitUntil } from '../inbound/helpers.js';

const deep = (n: number, inner = '1') => '['.repeat(n) + inner + ']'.repeat(n);
const deepObj = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

test('the depth scan ignores brackets in strings and does not recurse', () => {
  assert.equal(jsonTooDeepAt(deep(64)), -1);
  assert.equal(jsonTooDeepAt(deep(65)), 64);
  assert.equal(jsonTooDeepAt(JSON.stringify({ s: '['.repeat(1000) })), -1);
  assert.equal(jsonTooDeepAt(JSON.stringify({ s: '\\"[[[' })), -1);
  assert.ok(jsonTooDeepAt(deep(1_000_000)) > 0);
});

for (const kind of storeKinds()) {
  describe(`input limits on ${kind}`, () => {
    let s: TestServer;
    let instanceId: string;
    let tgUrl: string;
    let webId: string;
    const tgSecret = 'tg-secret-input-limits';

    before(async () => {
      s = await startServer(kind);
      instanceId = (await s.api('POST', '/v1/instances', { name: 'limits' })).body.id;
      const tg = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: 'limits_bot', webhook_secret: tgSecret });
      tgUrl = tg.body.webhook_url;
      webId = (await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'web_chat', provider: 'web', external_identifier: 'limits-site', config: { allowed_origins: ['*'] } })).body.id;
    });
    after(() => s.close());

    const tgPost = (body: string) => send({ url: tgUrl, headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': tgSecret }, body });

    test('JSON nested 100,000 levels: 422 on API routes, 4xx on public and webhook routes, never 5xx', async () => {
      for (const body of [deep(100_000), deepObj(20_000), deep(65)]) {
        const api = await s.api('POST', '/v1/instances', body);
        assert.equal(api.status, 422, api.text.slice(0, 200));
        assert.equal(api.body.detail[0].type, 'json_invalid');
        assert.match(api.body.detail[0].ctx.error, /Nesting deeper than 64 levels/);
        const ch = await s.api('POST', `/v1/instances/${instanceId}/channels`, body);
        assert.equal(ch.status, 422);
        const web = await s.api('POST', `/v1/webchat/${webId}/session`, body, null, { origin: 'https://site.example' });
        assert.ok(web.status >= 400 && web.status < 500, `web chat: ${web.status}`);
        const hook = await tgPost(body);
        assert.equal(hook.status, 400, `webhook: ${hook.status} ${hook.text.slice(0, 200)}`);
      }
      // An unsigned deep body is refused for its signature first.
      const unsigned = await send({ url: tgUrl, headers: { 'content-type': 'application/json' }, body: deep(100_000) });
      assert.equal(unsigned.status, 401);
      // 64 levels are still fine.
      const ok = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'web_chat', provider: 'web', external_identifier: 'deep-ok', config: { d: JSON.parse(deep(60)) } });
      assert.equal(ok.status, 201, ok.text);
    });

    test('U+0000 is stored faithfully on both stores: an API field and a signed Telegram update', async () => {
      const name = 'nul\u0000name \uE000 kept';
      const r = await s.api('POST', '/v1/instances', { name });
      assert.equal(r.status, 201, r.text);
      const got = await s.api('GET', `/v1/instances/${r.body.id}`);
      assert.equal(got.body.name, name);
      const ch = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'web_chat', provider: 'web', external_identifier: 'nul\u0000site' });
      assert.equal(ch.status, 201, ch.text);
      assert.equal(ch.body.external_identifier, 'nul\u0000site');
      const update = { update_id: 555001, message: { message_id: 1, from: { id: 42, is_bot: false, first_name: 'N\u0000ul' }, chat: { id: 42, type: 'private' }, date: 1714560000, text: 'before\u0000after' } };
      const w = await tgPost(JSON.stringify(update));
      assert.equal(w.status, 200, w.text);
      const ev = await waitUntil(async () => {
        const list = await s.api('GET', `/v1/instances/${instanceId}/events?after=0&limit=500`);
        return list.body.events.find((e: any) => e.type === 'message.received' && e.data.text?.startsWith('before'));
      }, 5000, 'the stored event');
      assert.equal(ev.data.text, 'before\u0000after');
      const msgs = await s.api('GET', `/v1/instances/${instanceId}/conversations/${ev.conversation_id}/messages`);
      assert.equal(msgs.status, 200, msgs.text);
      assert.ok(JSON.stringify(msgs.body).includes('before\\u0000after'), 'the message row keeps the NUL');
    });

    test('integers beyond ±(2^53−1) are 422 everywhere, not a database error: 2^53+1, 2^63, 2^63+1, 2^70', async () => {
      const TOO_BIG = ['9007199254740993', '9223372036854775808', '9223372036854775809', '1180591620717411303424', '99999999999999999999999'];
      for (const big of TOO_BIG) {
        const ev = await s.api('GET', `/v1/instances/${instanceId}/events?after=${big}`);
        assert.equal(ev.status, 422, `after=${big}: ${ev.text}`);
        assert.equal(ev.body.detail[0].type, 'less_than_equal');
        assert.deepEqual(ev.body.detail[0].loc, ['query', 'after']);
        const limit = await s.api('GET', `/v1/instances/${instanceId}/events?limit=${big}`);
        assert.equal(limit.status, 422, `limit=${big}: ${limit.text}`);
        const replay = await s.api('POST', `/v1/instances/${instanceId}/deliveries/${big}/replay`);
        assert.equal(replay.status, 422, `replay ${big}: ${replay.text}`);
        assert.deepEqual(replay.body.detail[0].loc, ['path', 'delivery_id']);
        const convs = await s.api('GET', `/v1/instances/${instanceId}/conversations?limit=${big}`);
        assert.equal(convs.status, 422, `conversations limit=${big}: ${convs.text}`);
        // In a JSON body too.
        const patch = await s.api('PATCH', `/v1/instances/${instanceId}`, `{"agent_idle_timeout_ms": ${big}}`);
        assert.equal(patch.status, 422, `body ${big}: ${patch.text}`);
        // Where a large number is not ours to bound (a provider's own ids, a signed link's expiry), never a 5xx.
        const hook = await tgPost(`{"update_id": ${big}, "message": {"message_id": ${big}, "date": 1714560000, "chat": {"id": ${big}, "type": "private"}, "from": {"id": 5, "first_name": "N"}, "text": "big ${big}"}}`);
        assert.ok(hook.status < 500, `webhook with ${big}: ${hook.status} ${hook.text}`);
        const link = await s.api('GET', `/v1/media/00000000-0000-4000-8000-000000000000?expires=${big}&signature=x`, undefined, null);
        assert.ok(link.status >= 400 && link.status < 500, `media link expires=${big}: ${link.status}`);
      }
      for (const small of ['-9007199254740993', '-9223372036854775809', '-1180591620717411303424', '-99999999999999999999']) {
        const neg = await s.api('GET', `/v1/instances/${instanceId}/events?after=${small}`);
        assert.equal(neg.status, 422, `after=${small}`);
      }
      // The bound itself is fine: 2^53−1 is the largest cursor.
      const edge = await s.api('GET', `/v1/instances/${instanceId}/events?after=9007199254740991`);
      assert.equal(edge.status, 200, edge.text);
      const stream = await fetch(`${s.url}/v1/instances/${instanceId}/events/stream`, { headers: { 'x-api-key': s.adminKey, 'last-event-id': '1180591620717411303424' } });
      assert.equal(stream.status, 200, 'an unusable Last-Event-ID falls back to ?after');
      await stream.body?.cancel();
    });

    test('fuzz: arbitrary JSON, strings with NUL, deep nesting and huge numbers never answer 5xx', async () => {
      const leaf = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 20 }),
        fc.constantFrom('\u0000', 'a\u0000b', '\uE000', '\uE000\uE001'),
        fc.double(), fc.bigInt().map((b) => b * 10n ** 20n), fc.boolean(), fc.constant(null),
      );
      const value = fc.letrec((tie) => ({
        v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), tie('v'), { maxKeys: 3 })),
      })).v;
      const toText = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `__BIG${x}__` : x)).replace(/"__BIG(-?\d+)__"/g, '$1');
      const body = fc.oneof(
        value.map(toText),
        fc.record({ name: leaf, agent_url: fc.option(leaf) }).map(toText),
        fc.record({ channel_type: fc.constantFrom('telegram', 'web_chat', 'sms'), provider: fc.constantFrom('telegram', 'web', 'twilio'), external_identifier: leaf, config: value }).map(toText),
        fc.integer({ min: 65, max: 3000 }).map((n) => deep(n)),
        fc.string({ unit: 'binary', maxLength: 40 }),
      );
      const update = fc.record({ update_id: fc.oneof(fc.integer({ min: 1 }), fc.bigInt().map((b) => b * 10n ** 20n)), message: fc.record({ message_id: fc.integer({ min: 1 }), chat: fc.record({ id: fc.integer(), type: fc.constant('private') }), date: fc.integer({ min: 0 }), text: leaf, from: fc.record({ id: fc.integer(), first_name: leaf }) }) }).map(toText);
      let n = 0;
      await fc.assert(
        fc.asyncProperty(body, update, fc.integer({ min: 0, max: 3 }), async (b, u, which) => {
          n++;
          const statuses: number[] = [];
          if (which === 0) statuses.push((await s.api('POST', '/v1/instances', b)).status);
          if (which === 1) statuses.push((await s.api('POST', `/v1/instances/${instanceId}/channels`, b)).status);
          if (which === 2) statuses.push((await s.api('POST', `/v1/webchat/${webId}/session`, b, null, { origin: 'https://site.example' })).status);
          statuses.push((await tgPost(which === 3 ? b : u)).status);
          for (const st of statuses) assert.ok(st < 500, `status ${st} for ${b.slice(0, 120)} / ${u.slice(0, 120)}`);
        }),
        { numRuns: 60, seed: 1010 },
      );
      assert.equal(n >= 60, true);
    });
  });
}
