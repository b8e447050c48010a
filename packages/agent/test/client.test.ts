import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SwitchboardClient, SwitchboardError, toModelMessages, type HistoryMessage } from '../src/index.js';

interface Seen { method: string; url: string; headers: IncomingMessage['headers']; body: string }
const seen: Seen[] = [];
let failSends = 0;
let base = '';
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
    const json = (status: number, v: unknown) => (res.writeHead(status, { 'content-type': 'application/json' }), res.end(JSON.stringify(v)));
    if (req.headers.authorization !== 'Bearer sb_key') return json(401, { detail: 'Invalid API key' });
    if (req.url!.startsWith('/v1/instances/i1/conversations/c1/messages') && req.method === 'GET') return json(200, { messages: history.slice().reverse(), count: history.length });
    if (req.url === '/v1/instances/i1/conversations/c1/messages' && req.method === 'POST') {
      if (failSends-- > 0) return json(503, { detail: 'busy' });
      return json(202, { id: 'm9', conversation_id: 'c1', status: 'queued', text: JSON.parse(body).text });
    }
    if (req.url === '/v1/instances/i1/conversations/c2/handoff') return json(409, { detail: 'This conversation is closed.' });
    if (req.url === '/v1/instances/i1/media/md1/content') return (res.writeHead(200, { 'content-type': 'image/png' }), res.end(Buffer.from([1, 2, 3])));
    if (req.url!.startsWith('/v1/instances/i1/media') && req.method === 'POST') return json(201, { id: 'md2', kind: 'document', mime_type: req.headers['content-type'], size: body.length, file_name: new URL(req.url!, 'http://x').searchParams.get('file_name') });
    json(404, { detail: 'Not found' });
  });
});

const msg = (id: string, kind: HistoryMessage['author']['kind'], text: string, extra: Partial<HistoryMessage> = {}): HistoryMessage => ({
  id, conversation_id: 'c1', direction: kind === 'contact' ? 'inbound' : 'outbound', author: { kind, ...(kind === 'operator' ? { name: 'Sam' } : {}) }, text, attachments: [], in_reply_to: null, status: 'sent', created_at: '2026-01-01T00:00:00Z', sent_at: null, ...extra,
});
const history: HistoryMessage[] = [
  msg('1', 'contact', 'My order is late', { attachments: [{ id: 'md1', kind: 'image', mime_type: 'image/png', size: 3, sha256: 'x', status: 'ready', url: 'https://sb/media/md1?sig=1' }] }),
  msg('2', 'agent', 'Let me check.'),
  msg('3', 'system', 'handed off'),
  msg('4', 'operator', 'I refunded it.'),
  msg('5', 'agent', 'never sent', { status: 'suppressed' }),
  msg('6', 'contact', 'Thanks!'),
];

let sb: SwitchboardClient;
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  sb = new SwitchboardClient({ baseUrl: base, apiKey: 'sb_key', instanceId: 'i1' });
});
after(() => server.close());

test('history comes back oldest first as model messages: operator named, system and suppressed left out, images as parts', async () => {
  const messages = await sb.history('c1', { limit: 20 });
  assert.match(seen.at(-1)!.url, /order=desc&limit=20/);
  assert.deepEqual(messages, [
    { role: 'user', content: [{ type: 'text', text: 'My order is late' }, { type: 'image', image: 'https://sb/media/md1?sig=1', mediaType: 'image/png' }] },
    { role: 'assistant', content: 'Let me check.' },
    { role: 'assistant', content: '[Sam, a human operator] I refunded it.' },
    { role: 'user', content: 'Thanks!' },
  ]);
  assert.deepEqual(toModelMessages(history.slice(0, 1), 'openai')[0].content, [{ type: 'text', text: 'My order is late' }, { type: 'image_url', image_url: { url: 'https://sb/media/md1?sig=1' } }]);
});

test('send retries a 503 with the same idempotency key; a given key is used as is', async () => {
  failSends = 2;
  const before = seen.length;
  const m = await sb.send('c1', { text: 'On its way' });
  assert.equal(m.id, 'm9');
  const tries = seen.slice(before);
  assert.equal(tries.length, 3);
  assert.ok(tries[0].headers['idempotency-key']);
  assert.ok(tries.every((t) => t.headers['idempotency-key'] === tries[0].headers['idempotency-key']));
  await sb.send('c1', { text: 'again' }, { idempotencyKey: 'order-42' });
  assert.equal(seen.at(-1)!.headers['idempotency-key'], 'order-42');
});

test("API errors carry the API's detail", async () => {
  await assert.rejects(sb.handoff('c2', { reason: 'x' }), (e: unknown) => e instanceof SwitchboardError && e.status === 409 && e.detail === 'This conversation is closed.');
  const wrongKey = new SwitchboardClient({ baseUrl: base, apiKey: 'nope', instanceId: 'i1' });
  await assert.rejects(wrongKey.getConversation('c1'), (e: unknown) => e instanceof SwitchboardError && e.status === 401);
});

test('media download and upload', async () => {
  const d = await sb.downloadMedia('md1');
  assert.deepEqual([...d.bytes], [1, 2, 3]);
  assert.equal(d.mimeType, 'image/png');
  const up = await sb.uploadMedia(new TextEncoder().encode('%PDF-1'), { mimeType: 'application/pdf', fileName: 'a b.pdf' });
  assert.equal(up.mime_type, 'application/pdf');
  assert.equal(up.file_name, 'a b.pdf');
  assert.equal(seen.at(-1)!.body, '%PDF-1');
});
