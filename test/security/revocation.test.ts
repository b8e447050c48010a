/**
 * Revocation is immediate everywhere (issue 10, item 4): deleting an API key ends every event
 * stream opened with it within 5 s — on the node that deleted it (SQLite and PostgreSQL) and on
 * another node sharing the PostgreSQL database (LISTEN/NOTIFY). No event written after the
 * deletion reaches the stream. Streams of other keys stay open.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer, startTwoNodes, type TwoNodes } from '../helpers/server.js';
import { PG_URL, storeKinds } from '../helpers/stores.js';

const REVOKE_WITHIN_MS = 5_000;

interface OpenStream {
  /** Everything received so far. */
  text(): string;
  /** Resolves with the time the server ended the stream, or 'open' if it did not within the deadline. */
  ended(deadlineMs: number): Promise<number | 'open'>;
  cancel(): Promise<void>;
}

async function openStream(base: string, instanceId: string, key: string): Promise<OpenStream> {
  const ac = new AbortController();
  const res = await fetch(`${base}/v1/instances/${instanceId}/events/stream`, { headers: { 'x-api-key': key }, signal: ac.signal });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  let buf = '';
  let endedAt: number | undefined;
  const done = (async () => {
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        buf += Buffer.from(r.value).toString();
      }
      endedAt = Date.now();
    } catch {
      // aborted by the test
    }
  })();
  while (!buf.includes(': connected')) await new Promise((r) => setTimeout(r, 10));
  return {
    text: () => buf,
    async ended(deadlineMs) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise((r) => (timer = setTimeout(r, deadlineMs)))]);
      clearTimeout(timer);
      return endedAt ?? 'open';
    },
    async cancel() {
      ac.abort();
      await done;
    },
  };
}

async function scopedKey(s: TestServer, instanceId: string): Promise<{ id: string; key: string }> {
  const k = await s.api('POST', '/v1/api-keys', { name: 'stream', instance_ids: [instanceId] });
  assert.equal(k.status, 201, k.text);
  return k.body;
}

async function tgEvent(s: TestServer, webhookUrl: string, secret: string, n: number): Promise<void> {
  const r = await fetch(webhookUrl, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
    body: JSON.stringify({ update_id: 777000 + n, message: { message_id: n, date: 1714560000, chat: { id: 5, type: 'private' }, from: { id: 5, is_bot: false, first_name: 'R' }, text: `after ${n}` } }),
  });
  assert.equal(r.status, 200);
}

for (const kind of storeKinds()) {
  describe(`deleting a key ends its streams on ${kind}`, () => {
    let s: TestServer;
    let instanceId: string;
    let channel: { webhook_url: string };
    const secret = 'revocation-secret';

    before(async () => {
      s = await startServer(kind);
      instanceId = (await s.api('POST', '/v1/instances', { name: 'streams' })).body.id;
      channel = (await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: 'revoke_bot', webhook_secret: secret })).body;
    });
    after(() => s.close());

    test(`within ${REVOKE_WITHIN_MS / 1000} s, and nothing after the deletion is streamed; other keys' streams stay open`, async () => {
      const doomed = await scopedKey(s, instanceId);
      const kept = await scopedKey(s, instanceId);
      const a = await openStream(s.url, instanceId, doomed.key);
      const b = await openStream(s.url, instanceId, kept.key);
      const t0 = Date.now();
      assert.equal((await s.api('DELETE', `/v1/api-keys/${doomed.id}`)).status, 204);
      const at = await a.ended(REVOKE_WITHIN_MS);
      assert.notEqual(at, 'open', 'the revoked key\'s stream was still open after 5 s');
      assert.ok((at as number) - t0 < REVOKE_WITHIN_MS);
      await tgEvent(s, channel.webhook_url, secret, 1);
      while (!b.text().includes('after 1')) await new Promise((r) => setTimeout(r, 10));
      assert.doesNotMatch(a.text(), /after 1/);
      assert.equal(await b.ended(50), 'open', 'another key\'s stream is untouched');
      await b.cancel();
      // The revoked key cannot open a new one either.
      const again = await fetch(`${s.url}/v1/instances/${instanceId}/events/stream`, { headers: { 'x-api-key': doomed.key } });
      assert.equal(again.status, 401);
    });
  });
}

describe('deleting a key on one node ends its streams on another (PostgreSQL)', { skip: PG_URL ? false : 'TEST_DATABASE_URL is not set' }, () => {
  let a: TestServer;
  let b: TestServer;
  let nodes: TwoNodes | undefined;
  before(async () => {
    nodes = await startTwoNodes();
    ({ a, b } = nodes);
  });
  after(async () => {
    await nodes?.close();
  });

  test(`the stream held by node B ends within ${REVOKE_WITHIN_MS / 1000} s of the deletion on node A`, async () => {
    const instanceId = (await a.api('POST', '/v1/instances', { name: 'two nodes' })).body.id;
    const k = await scopedKey(a, instanceId);
    const onB = await openStream(b.url, instanceId, k.key);
    const t0 = Date.now();
    assert.equal((await a.api('DELETE', `/v1/api-keys/${k.id}`)).status, 204);
    const at = await onB.ended(REVOKE_WITHIN_MS);
    assert.notEqual(at, 'open', 'node B kept the revoked key\'s stream open');
    assert.ok((at as number) - t0 < REVOKE_WITHIN_MS);
  });
});
