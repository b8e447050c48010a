import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verify, verifyBody, VerificationError } from '../src/index.js';
import { messageEvent, SECRET, signed } from './sign.js';

test('a Fetch Request with a valid signature yields the event', async () => {
  const body = messageEvent('hello');
  const event = await verify(new Request('http://agent/', { method: 'POST', headers: signed(body), body }), SECRET);
  assert.equal(event.type, 'message.received');
  assert.equal(event.type === 'message.received' && event.data.text, 'hello');
});

test('a tampered body, a wrong secret, a stale timestamp and a missing header are refused', async () => {
  const body = messageEvent('hello');
  const headers = signed(body);
  await assert.rejects(verify(new Request('http://a/', { method: 'POST', headers, body: body.replace('hello', 'HELLO') }), SECRET), VerificationError);
  await assert.rejects(verify(new Request('http://a/', { method: 'POST', headers: signed(body, { secret: 'whsec_' + Buffer.from('another secret of thirty-two b!!').toString('base64') }), body }), SECRET), VerificationError);
  await assert.rejects(verify(new Request('http://a/', { method: 'POST', headers: signed(body, { at: new Date(Date.now() - 10 * 60_000) }), body }), SECRET), /timestamp|too old/i);
  const { 'webhook-signature': _, ...unsigned } = headers;
  await assert.rejects(verify(new Request('http://a/', { method: 'POST', headers: unsigned, body }), SECRET), /missing webhook-signature/);
  await assert.rejects(verify(new Request('http://a/', { method: 'POST', headers, body }), ''), /no signing secret/);
  assert.throws(() => verifyBody('not json', signed('not json'), SECRET), /not JSON/);
});

test('a Node IncomingMessage is read and verified', async () => {
  const results: unknown[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    verify(req, SECRET).then(
      (e) => (results.push(e.id), res.end('ok')),
      (err: Error) => (results.push(err.name), res.end('no')),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const body = messageEvent('é 👋');
    await fetch(url, { method: 'POST', headers: signed(body), body });
    await fetch(url, { method: 'POST', headers: signed(body), body: body + ' ' });
    assert.deepEqual(results, ['evt_1', 'VerificationError']);
  } finally {
    server.close();
  }
});
