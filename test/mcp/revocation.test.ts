/**
 * Revocation reaches MCP (issue 10, item 4): deleting an API key ends, within 5 s, the MCP
 * sessions opened with it — the long-lived GET event stream and an open `wait_for_messages`
 * long-poll — on the node that deleted it and on another node sharing the PostgreSQL database;
 * every later request with that session answers 401. Another key's session stays open.
 * The sessions are the official SDK client's; a fetch wrapper watches when the server ends them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startServer, type TestServer, startTwoNodes, type TwoNodes } from '../helpers/server.js';
import { PG_URL, storeKinds } from '../helpers/stores.js';

const REVOKE_WITHIN_MS = 5_000;

interface Watched {
  method: string;
  body: string;
  /** Resolves with the time the server ended this response body. */
  ended: Promise<number>;
}

/** An SDK client whose HTTP responses are watched: each body's end is recorded. */
async function watchedClient(base: string, key: string): Promise<{ client: Client; sessionId: string; responses: Watched[]; close(): Promise<void> }> {
  const responses: Watched[] = [];
  const spy: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    if (!res.body) return res;
    let end!: (at: number) => void;
    const ended = new Promise<number>((r) => (end = r));
    const body = res.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ flush: () => end(Date.now()) }));
    responses.push({ method: init?.method ?? 'GET', body: typeof init?.body === 'string' ? init.body : '', ended });
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
  const client = new Client({ name: 'revocation-test', version: '1.0.0' });
  client.onerror = () => undefined; // its reconnect attempts after the revocation are refused (401)
  const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { fetch: spy, requestInit: { headers: { Authorization: `Bearer ${key}` } }, reconnectionOptions: { maxRetries: 0, initialReconnectionDelay: 1000, maxReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1 } });
  await client.connect(transport);
  // The client opens its GET stream once initialised.
  while (!responses.some((r) => r.method === 'GET')) await new Promise((r) => setTimeout(r, 10));
  return { client, sessionId: transport.sessionId!, responses, close: () => client.close().catch(() => undefined) };
}

/** The time `p` resolved, or 'open' if it had not within the deadline. */
async function within(p: Promise<number>, ms: number): Promise<number | 'open'> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([p, new Promise<'open'>((resolve) => (timer = setTimeout(() => resolve('open'), ms)))]);
  clearTimeout(timer);
  return r;
}

async function rawPost(base: string, key: string, sessionId: string): Promise<number> {
  const r = await fetch(`${base}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${key}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' }),
  });
  await r.arrayBuffer();
  return r.status;
}

async function scopedKey(s: TestServer, instanceId: string): Promise<{ id: string; key: string }> {
  const k = await s.api('POST', '/v1/api-keys', { name: 'mcp session', instance_ids: [instanceId] });
  assert.equal(k.status, 201, k.text);
  return k.body;
}

for (const kind of storeKinds()) {
  describe(`deleting a key ends its MCP sessions on ${kind}`, () => {
    let s: TestServer;
    let instanceId: string;
    before(async () => {
      s = await startServer(kind);
      instanceId = (await s.api('POST', '/v1/instances', { name: 'mcp revocation' })).body.id;
    });
    after(() => s.close());

    test(`the GET stream and a waiting wait_for_messages end within ${REVOKE_WITHIN_MS / 1000} s; the session then answers 401; another key's session stays`, async () => {
      const doomed = await scopedKey(s, instanceId);
      const kept = await scopedKey(s, instanceId);
      const a = await watchedClient(s.url, doomed.key);
      const b = await watchedClient(s.url, kept.key);
      const waiting = a.client.callTool({ name: 'wait_for_messages', arguments: { timeout_seconds: 60 } }).catch((err: unknown) => err);
      while (!a.responses.some((r) => r.body.includes('wait_for_messages'))) await new Promise((r) => setTimeout(r, 10));
      const stream = a.responses.find((r) => r.method === 'GET')!;
      const poll = a.responses.find((r) => r.body.includes('wait_for_messages'))!;

      const t0 = Date.now();
      assert.equal((await s.api('DELETE', `/v1/api-keys/${doomed.id}`)).status, 204);
      const streamEnd = await within(stream.ended, REVOKE_WITHIN_MS);
      assert.notEqual(streamEnd, 'open', 'the GET stream was still open after 5 s');
      assert.ok((streamEnd as number) - t0 < REVOKE_WITHIN_MS);
      const pollEnd = await within(poll.ended, REVOKE_WITHIN_MS);
      assert.notEqual(pollEnd, 'open', 'the wait_for_messages request was still open after 5 s');
      assert.ok((pollEnd as number) - t0 < REVOKE_WITHIN_MS);
      assert.equal(await rawPost(s.url, doomed.key, a.sessionId), 401);

      // The other key's session is untouched: its GET stream is open and it still works.
      assert.equal(await within(b.responses.find((r) => r.method === 'GET')!.ended, 50), 'open');
      assert.ok((await b.client.listTools()).tools.length > 0);
      await a.close();
      await waiting;
      await b.close();
    });
  });
}

describe('deleting a key on one node ends its MCP session on another (PostgreSQL)', { skip: PG_URL ? false : 'TEST_DATABASE_URL is not set' }, () => {
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

  test(`the session held by node B ends within ${REVOKE_WITHIN_MS / 1000} s of the deletion on node A`, async () => {
    const instanceId = (await a.api('POST', '/v1/instances', { name: 'two nodes' })).body.id;
    const k = await scopedKey(a, instanceId);
    const onB = await watchedClient(b.url, k.key);
    const t0 = Date.now();
    assert.equal((await a.api('DELETE', `/v1/api-keys/${k.id}`)).status, 204);
    const at = await within(onB.responses.find((r) => r.method === 'GET')!.ended, REVOKE_WITHIN_MS);
    assert.notEqual(at, 'open', 'node B kept the revoked key\'s MCP stream open');
    assert.ok((at as number) - t0 < REVOKE_WITHIN_MS);
    assert.equal(await rawPost(b.url, k.key, onB.sessionId), 401);
    await onB.close();
  });
});
