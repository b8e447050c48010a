/**
 * An MCP session opened on node A keeps working when its requests reach node B (two servers on
 * one PostgreSQL database, one secret key): B re-creates the session from its id and answers the
 * SDK client's tool calls — reading a conversation, sending an answer the fake Telegram receives.
 * An id B cannot verify for the presenting key (another key's session, a forged id) is
 * "Session not found" (404), as the MCP specification has clients re-initialise on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startFakeTelegram, type FakeTelegram } from '../../fakes/telegram.js';
import { type TestServer, startTwoNodes, type TwoNodes } from '../helpers/server.js';
import { PG_URL } from '../helpers/stores.js';
import { until } from '../outbound/helpers.js';

describe('an MCP session moves between nodes (PostgreSQL)', { skip: PG_URL ? false : 'TEST_DATABASE_URL is not set' }, () => {
  let a: TestServer;
  let b: TestServer;
  let tg: FakeTelegram;
  let nodes: TwoNodes | undefined;
  let key: string;
  let otherKey: string;
  let instanceId: string;
  const clients: Client[] = [];

  const transportTo = (base: string, k: string, sessionId?: string) =>
    new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { ...(sessionId ? { sessionId } : {}), requestInit: { headers: { Authorization: `Bearer ${k}` } } });
  const post = async (base: string, k: string, sessionId: string) => {
    const r = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${k}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }),
    });
    return { status: r.status, body: await r.text() };
  };

  before(async () => {
    tg = await startFakeTelegram();
    nodes = await startTwoNodes({ env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_TELEGRAM_API_URL: tg.url } });
    ({ a, b } = nodes);
    instanceId = (await a.api('POST', '/v1/instances', { name: 'moving sessions' })).body.id;
    const conn = await a.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'telegram', secrets: { bot_token: tg.token } });
    const ch = await a.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: 'moving_bot', connection_id: conn.body.id, webhook_secret: 'moving-secret' });
    assert.equal(ch.status, 201, ch.text);
    const r = await fetch(ch.body.webhook_url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'moving-secret' },
      body: JSON.stringify({ update_id: 3100, message: { message_id: 1, date: 1_700_000_000, chat: { id: 3101, type: 'private' }, from: { id: 3101, is_bot: false, first_name: 'Noor' }, text: 'Is anyone there?' } }),
    });
    assert.equal(r.status, 200);
    key = (await a.api('POST', '/v1/api-keys', { name: 'agent', instance_ids: [instanceId] })).body.key;
    otherKey = (await a.api('POST', '/v1/api-keys', { name: 'other', instance_ids: [instanceId] })).body.key;
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await nodes?.close();
    await tg?.close();
  });

  test('a session initialised on node A answers tool calls on node B; the answer reaches Telegram', async () => {
    const onA = new Client({ name: 'agent', version: '1.0.0' });
    clients.push(onA);
    const tA = transportTo(a.url, key);
    await onA.connect(tA);
    const sessionId = tA.sessionId!;
    assert.ok(sessionId);

    // The same session, its next requests sent to node B (as a load balancer might).
    const onB = new Client({ name: 'agent', version: '1.0.0' });
    clients.push(onB);
    const tB = transportTo(b.url, key, sessionId);
    await onB.connect(tB); // a known session id: the SDK client does not initialise again
    assert.equal(tB.sessionId, sessionId);
    const conv = await until(async () => {
      const list: any = await onB.callTool({ name: 'list_conversations', arguments: {} });
      assert.equal(list.isError, undefined, list.content?.[0]?.text);
      return list.structuredContent.conversations[0];
    }, 'the conversation through node B');
    const msgs: any = await onB.callTool({ name: 'get_messages', arguments: { conversation_id: conv.id } });
    assert.deepEqual(msgs.structuredContent.messages.map((m: any) => m.text), ['Is anyone there?']);
    const sent: any = await onB.callTool({ name: 'send_message', arguments: { conversation_id: conv.id, text: 'Yes, **here**.' } });
    assert.equal(sent.isError, undefined, sent.content?.[0]?.text);
    const out = await until(() => tg.sentMessages(3101)[0], 'the answer at Telegram');
    assert.equal(out.text, 'Yes, <b>here</b>.');
    // Node A still serves it too.
    assert.equal((await onA.listTools()).tools.some((t) => t.name === 'send_message'), true);
  });

  test("another key's session id, or a forged one, is 'Session not found' (404) on either node", async () => {
    const t = transportTo(a.url, key);
    const c = new Client({ name: 'agent', version: '1.0.0' });
    clients.push(c);
    await c.connect(t);
    const sessionId = t.sessionId!;
    for (const base of [a.url, b.url]) {
      const other = await post(base, otherKey, sessionId);
      assert.equal(other.status, 404);
      assert.match(other.body, /Session not found/);
      assert.equal((await post(base, key, `${randomUUID()}.${randomBytes(32).toString('base64url')}`)).status, 404);
      assert.equal((await post(base, key, randomUUID())).status, 404);
    }
    // The key's own requests, several at once on a node that has not seen the session: all answered.
    const answers = await Promise.all([1, 2, 3].map(() => post(b.url, key, sessionId)));
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 200]);
    assert.ok(answers.every((r) => r.body.includes('send_message')));
  });
});
