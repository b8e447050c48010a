import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHandler, type AgentFunction } from '../src/index.js';
import { messageEvent, SECRET, signed } from './sign.js';

const post = (body: string, headers = signed(body)) => new Request('http://agent/', { method: 'POST', headers, body });

/** The deltas of an SSE answer as Switchboard reads them. */
async function deltas(res: Response): Promise<string[]> {
  const text = await res.text();
  assert.ok(text.endsWith('data: [DONE]\n\n'), text);
  return text.split('\n\n').filter((b) => b.startsWith('data: {')).map((b) => (JSON.parse(b.slice(6)) as { delta: string }).delta);
}

test('reply.text answers the reply JSON; handoff and close carry their flags', async () => {
  const h = createHandler(({ event, reply }) => (event.type === 'message.received' && event.data.text === 'human' ? reply.handoff({ reason: 'asked for a person', text: 'One moment' }) : event.type === 'message.received' && event.data.text === 'bye' ? reply.close({ text: 'Bye!' }) : reply.text('**Hi** Ada')), { secret: SECRET });
  const a = await h.fetch(post(messageEvent('hello')));
  assert.equal(a.status, 200);
  assert.deepEqual(await a.json(), { reply: { text: '**Hi** Ada' } });
  assert.deepEqual(await (await h.fetch(post(messageEvent('human')))).json(), { reply: { text: 'One moment', handoff: { reason: 'asked for a person' } } });
  assert.deepEqual(await (await h.fetch(post(messageEvent('bye')))).json(), { reply: { text: 'Bye!', close: true } });
});

test('reply.stream takes strings, ReadableStreams, OpenAI chunks and AI SDK parts', async () => {
  const sources: Record<string, () => AsyncIterable<unknown> | ReadableStream<unknown>> = {
    strings: async function* () { yield 'Hel'; yield 'lo'; },
    readable: () => new ReadableStream({ start(c) { c.enqueue('Hel'); c.enqueue('lo'); c.close(); } }),
    openai: async function* () { yield { choices: [{ delta: { role: 'assistant' } }] }; yield { choices: [{ delta: { content: 'Hel' } }] }; yield { choices: [{ delta: { content: 'lo' } }] }; },
    aisdk: async function* () { yield { type: 'start' }; yield { type: 'text-delta', text: 'Hel' }; yield { type: 'tool-call', toolName: 'x' }; yield { type: 'text-delta', text: 'lo' }; },
    bytes: async function* () { const b = new TextEncoder().encode('Hel👋lo'); yield b.slice(0, 5); yield b.slice(5); },
  };
  for (const [name, make] of Object.entries(sources)) {
    const h = createHandler(({ reply }) => reply.stream(make() as never), { secret: SECRET });
    const res = await h.fetch(post(messageEvent()));
    assert.equal(res.headers.get('content-type'), 'text/event-stream', name);
    assert.equal((await deltas(res)).join(''), name === 'bytes' ? 'Hel👋lo' : 'Hello', name);
  }
});

test('reply.stream with handoff / close: one control frame first, then the deltas and [DONE]', async () => {
  const h = createHandler(({ reply }) => reply.stream((async function* () { yield 'Bye'; })(), { close: true, handoff: { reason: 'wants a person' } }), { secret: SECRET });
  const text = await (await h.fetch(post(messageEvent()))).text();
  assert.equal(text, 'data: {"handoff":{"reason":"wants a person"},"close":true}\n\ndata: {"delta":"Bye"}\n\ndata: [DONE]\n\n');
  const plain = createHandler(({ reply }) => reply.stream((async function* () { yield 'Hi'; })()), { secret: SECRET });
  assert.equal(await (await plain.fetch(post(messageEvent()))).text(), 'data: {"delta":"Hi"}\n\ndata: [DONE]\n\n');
});

test('an unsigned request is 401 and never reaches the function; a throwing function is 500', async () => {
  let calls = 0;
  const errors: unknown[] = [];
  const fn: AgentFunction = () => {
    calls++;
    throw new Error('model down');
  };
  const h = createHandler(fn, { secret: SECRET, onError: (e) => errors.push(e) });
  const body = messageEvent();
  const bad = await h.fetch(new Request('http://a/', { method: 'POST', headers: { 'content-type': 'application/json' }, body }));
  assert.equal(bad.status, 401);
  assert.equal(calls, 0);
  assert.equal((await h.fetch(post(body))).status, 500);
  assert.equal(calls, 1);
  assert.equal((errors[0] as Error).message, 'model down');
});

test('the Node listener streams, and breaks the connection when the stream fails midway', async () => {
  const h = createHandler(({ event, reply }) => reply.stream((async function* () {
    yield 'part one. ';
    if (event.type === 'message.received' && event.data.text === 'fail') throw new Error('stream died');
    yield 'part two.';
  })()), { secret: SECRET, onError: () => undefined });
  const server = createServer(h.node);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const ok = messageEvent('ok');
    const res = await fetch(url, { method: 'POST', headers: signed(ok), body: ok });
    assert.equal((await deltas(res)).join(''), 'part one. part two.');
    const fail = messageEvent('fail');
    // Not a clean end (the headers may not even have left): Switchboard must not take it as complete.
    await assert.rejects(async () => (await fetch(url, { method: 'POST', headers: signed(fail), body: fail })).text());
    const unsigned = await fetch(url, { method: 'POST', body: ok });
    assert.equal(unsigned.status, 401);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
