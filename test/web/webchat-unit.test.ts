/** The web chat building blocks without HTTP: the hub (offsets, chunking, fan-out), flood control, the echo agent, the demo seed. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Notifier } from '../../src/queue/notifier.js';
import { toWebChatMessage, WebChatHub, type WebChatEvent } from '../../src/core/webchat-hub.js';
import { FloodGate } from '../../src/core/webchat.js';
import { echoAgent } from '../../src/demo/echo-agent.js';
import { seedDemo } from '../../src/demo/seed.js';
import type { EventEnvelope } from '../../src/core/event-envelope.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';
import { until } from '../outbound/helpers.js';

describe('WebChatHub', () => {
  test('deltas carry consecutive offsets, long ones are split under the NOTIFY limit, subscribers of other conversations hear nothing', async () => {
    const n = new Notifier();
    const published: string[] = [];
    const orig = n.publish.bind(n);
    n.publish = async (topic, payload) => {
      published.push(payload);
      return orig(topic, payload);
    };
    const hub = new WebChatHub(n, { message: async () => undefined });
    const got: WebChatEvent[] = [];
    const other: WebChatEvent[] = [];
    const off = hub.subscribe('c1', (e) => got.push(e));
    hub.subscribe('c2', (e) => other.push(e));
    await hub.publishDelta('c1', 'm1', 'ab');
    const long = '€'.repeat(5000) + '😀'.repeat(10);
    await hub.publishDelta('c1', 'm1', long);
    assert.ok(published.every((p) => Buffer.byteLength(p) < 8000));
    const deltas = got.filter((e) => e.type === 'delta') as Extract<WebChatEvent, { type: 'delta' }>[];
    assert.equal(deltas[0].offset, 0);
    let text = '';
    for (const d of deltas) {
      assert.equal(d.offset, text.length);
      text += d.text;
    }
    assert.equal(text, 'ab' + long);
    assert.deepEqual(hub.partials('c1'), [{ messageId: 'm1', text: 'ab' + long }]);
    await hub.publishTyping('c1');
    assert.equal(got[got.length - 1].type, 'typing');
    assert.equal(other.length, 0);
    off();
    assert.equal(hub.subscriberCount('c1'), 0);
    hub.close();
  });

  test('a published message is read once and handed to every subscriber of its conversation only', async () => {
    const n = new Notifier();
    let reads = 0;
    const row = { id: 'm', conversation_id: 'c', direction: 'out', text: 'hi', status: 'delivered', content: '{}', provider_message_id: null, created_at: 't', updated_at: 't' } as any;
    const hub = new WebChatHub(n, { message: async (id) => (reads++, id === 'm' ? row : undefined) });
    const a: WebChatEvent[] = [];
    const b: WebChatEvent[] = [];
    hub.subscribe('c', (e) => a.push(e));
    hub.subscribe('c', (e) => b.push(e));
    await hub.publishMessage('c', 'm');
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(reads, 1);
    assert.equal(a.length, 1);
    assert.deepEqual(a, b);
    assert.equal((a[0] as any).message.text, 'hi');
    // A message id that belongs to another conversation is not shown.
    await hub.publishMessage('other', 'm');
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(a.length, 1);
    hub.close();
  });
});

test('the hub never hands a widget an agent answer held back in human mode (suppressed)', async () => {
  const n = new Notifier();
  const rows: Record<string, any> = {
    held: { id: 'held', conversation_id: 'c', direction: 'out', text: 'draft', status: 'suppressed', content: '{}', provider_message_id: null, created_at: 't', updated_at: 't' },
    sent: { id: 'sent', conversation_id: 'c', direction: 'out', text: 'hi', status: 'sent', content: '{}', provider_message_id: null, created_at: 't', updated_at: 't' },
  };
  const hub = new WebChatHub(n, { message: async (id) => rows[id] });
  const got: WebChatEvent[] = [];
  hub.subscribe('c', (e) => got.push(e));
  await hub.publishMessage('c', 'held');
  await hub.publishMessage('c', 'sent');
  // Notifications are handled in order, so once the second is heard the first was decided.
  await until(() => got.length === 1 || undefined, 'the sent message');
  assert.deepEqual(got.map((e) => (e as any).message.id), ['sent']);
  hub.close();
});

test('toWebChatMessage: the author travels as kind and name only; rows without content or author still show', () => {
  const base = { id: 'm', conversation_id: 'c', instance_id: 'i', channel_id: 'ch', direction: 'out', text: 'hi', status: 'delivered', provider_message_id: null, error: null, idempotency_key: null, created_at: 't', updated_at: 't' };
  const op = toWebChatMessage({ ...base, content: '{}', author: JSON.stringify({ kind: 'operator', id: 'op_42', name: ' Sam ' }) } as any);
  assert.deepEqual(op.author, { kind: 'operator', name: 'Sam' }, 'no operator id reaches the visitor');
  assert.deepEqual(toWebChatMessage({ ...base, content: '{}', author: null } as any).author, { kind: 'agent' });
  assert.deepEqual(toWebChatMessage({ ...base, direction: 'in', provider_message_id: 'cm1', content: '{}' } as any).author, { kind: 'contact' });
  assert.deepEqual(toWebChatMessage({ ...base, content: '{}', author: '{"kind":"hacker","name":""}' } as any).author, { kind: 'agent' });
  // No content column, unreadable content, no text: a message all the same.
  for (const content of [undefined, null, '{not json', '{"widget_attachments": 3}']) {
    const m = toWebChatMessage({ ...base, text: null, content, author: 'nope' } as any);
    assert.equal(m.text, '');
    assert.equal(m.attachments, undefined);
    assert.deepEqual(m.author, { kind: 'agent' });
  }
});

test('FloodGate: a burst of 5, then one more every 2 s, with the wait until the next', () => {
  let now = 0;
  const g = new FloodGate(5, 2000, () => now);
  for (let i = 0; i < 5; i++) assert.equal(g.take('v').ok, true);
  const r = g.take('v');
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.retryAfterMs > 0 && r.retryAfterMs <= 2000);
  assert.equal(g.take('w').ok, true);
  now += 2000;
  assert.equal(g.take('v').ok, true);
  assert.equal(g.take('v').ok, false);
});

test('echoAgent streams a few tokens that join into the answer', async () => {
  const env = { type: 'message.received', data: { text: 'ping' } } as unknown as EventEnvelope;
  const tokens: string[] = [];
  for await (const t of echoAgent(env, { delayMs: 1 })) tokens.push(t);
  assert.ok(tokens.length > 3);
  assert.match(tokens.join(''), /^You said: “ping”\./);
  const none: string[] = [];
  for await (const t of echoAgent({ type: 'message.status', data: {} } as unknown as EventEnvelope, { delayMs: 1 })) none.push(t);
  assert.deepEqual(none, []);
});

for (const kind of storeKinds()) {
  describe(`seedDemo on ${kind}`, () => {
    let s: TestServer;
    before(async () => {
      s = await startServer(kind, { startWorkers: false });
    });
    after(() => s.close());

    test('creates the Demo instance and web chat channel once; later starts find it and allow the current PUBLIC_URL', async () => {
      const first = await seedDemo(s.services);
      assert.equal(first.pageUrl, `${s.url}/demo`);
      assert.equal(first.dashboardUrl, `${s.url}/`);
      const again = await seedDemo(s.services);
      assert.deepEqual(again, first);
      const list = await s.api('GET', '/v1/instances');
      assert.equal(list.body.instances.filter((i: any) => i.name === 'Demo').length, 1);
      const inst = await s.api('GET', `/v1/instances/${first.instanceId}`);
      assert.equal(inst.body.agent_url, 'builtin:echo');
      const ch = (await s.api('GET', `/v1/instances/${first.instanceId}/channels`)).body.channels;
      assert.equal(ch.length, 1);
      assert.equal(ch[0].channel_type, 'web_chat');
      assert.deepEqual(ch[0].config.allowed_origins, [new URL(s.url).origin]);
      // A new PUBLIC_URL (another port) is added, not duplicated.
      s.services.config.publicUrl = 'http://localhost:9999';
      await seedDemo(s.services);
      await seedDemo(s.services);
      const ch2 = (await s.api('GET', `/v1/instances/${first.instanceId}/channels`)).body.channels[0];
      assert.deepEqual(ch2.config.allowed_origins, [new URL(s.url).origin, 'http://localhost:9999']);
      // Two nodes seeding at once end up with one demo.
      const [x, y] = await Promise.all([seedDemo(s.services), seedDemo(s.services)]);
      assert.deepEqual(x, y);
      assert.equal((await s.api('GET', '/v1/instances')).body.instances.filter((i: any) => i.name === 'Demo').length, 1);
      // The sample page embeds it.
      const page = await fetch(`${s.url}/demo`);
      assert.match(await page.text(), new RegExp(`data-channel="${first.channelId}"`));
    });
  });
}
