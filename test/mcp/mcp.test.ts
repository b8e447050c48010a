/**
 * The MCP server at /mcp, driven by the official SDK's own client over Streamable HTTP: it lists
 * the tools, reads a Telegram conversation, sends an answer the fake Telegram receives, waits for
 * new messages, announces them to a resource subscriber, returns media bytes; a scoped key sees
 * only its instances; refusals are tool errors carrying the API's detail.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startFakeTelegram, type FakeTelegram } from '../../fakes/telegram.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';
import { until } from '../outbound/helpers.js';

const TOOLS = ['close_conversation', 'get_conversation', 'get_media', 'get_messages', 'handoff', 'list_channels', 'list_conversations', 'list_instances', 'resume', 'send_message', 'start_conversation', 'wait_for_messages'];

for (const kind of storeKinds()) {
  describe(`MCP server on ${kind}`, () => {
    let s: TestServer;
    let tg: FakeTelegram;
    let a: string;
    let b: string;
    let keyA: string;
    let convA: string;
    let convB: string;
    let client: Client;
    const webhooks: Record<string, string> = {};
    let updateId = 500;

    async function inbound(instance: string, chatId: number, text: string) {
      const r = await fetch(webhooks[instance], {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'mcp-secret' },
        body: JSON.stringify({ update_id: ++updateId, message: { message_id: updateId, date: 1_700_000_000, chat: { id: chatId, type: 'private' }, from: { id: chatId, is_bot: false, first_name: 'Ada' }, text } }),
      });
      assert.equal(r.status, 200);
    }

    async function connect(key: string): Promise<Client> {
      const c = new Client({ name: 'switchboard-test', version: '1.0.0' });
      await c.connect(new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }));
      return c;
    }

    async function call(c: Client, name: string, args: Record<string, unknown> = {}): Promise<any> {
      return c.callTool({ name, arguments: args });
    }

    before(async () => {
      tg = await startFakeTelegram();
      s = await startServer(kind, { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_TELEGRAM_API_URL: tg.url } });
      for (const name of ['a', 'b']) {
        const inst = await s.api('POST', '/v1/instances', { name: `mcp ${name}` });
        const conn = await s.api('POST', `/v1/instances/${inst.body.id}/connections`, { provider: 'telegram', secrets: { bot_token: tg.token } });
        const ch = await s.api('POST', `/v1/instances/${inst.body.id}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: `mcp_${name}_${kind}_bot`, connection_id: conn.body.id, webhook_secret: 'mcp-secret' });
        assert.equal(ch.status, 201, ch.text);
        webhooks[inst.body.id] = ch.body.webhook_url;
        if (name === 'a') a = inst.body.id;
        else b = inst.body.id;
      }
      keyA = (await s.api('POST', '/v1/api-keys', { name: 'tenant a', instance_ids: [a] })).body.key;
      await inbound(a, 8101, 'Where is my parcel?');
      await inbound(b, 8202, 'secret of tenant b');
      const conversations = async (i: string) => (await s.api('GET', `/v1/instances/${i}/conversations`)).body.conversations;
      convA = (await until(async () => (await conversations(a))[0], 'conversation a')).id;
      convB = (await until(async () => (await conversations(b))[0], 'conversation b')).id;
      client = await connect(keyA);
    });
    after(async () => {
      await client?.close();
      await s.close();
      await tg.close();
    });

    test('without a valid API key /mcp answers 401', async () => {
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
      const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
      assert.equal((await fetch(`${s.url}/mcp`, { method: 'POST', headers, body })).status, 401);
      assert.equal((await fetch(`${s.url}/mcp`, { method: 'POST', headers: { ...headers, authorization: 'Bearer sb_wrong' }, body })).status, 401);
    });

    test('lists every tool, with JSON-schema inputs', async () => {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), TOOLS);
      const send = tools.find((t) => t.name === 'send_message')!;
      assert.equal(send.inputSchema.type, 'object');
      assert.deepEqual((send.inputSchema.required as string[]).sort(), ['conversation_id']);
    });

    test('a scoped key sees only its instances', async () => {
      const inst = await call(client, 'list_instances');
      assert.deepEqual(inst.structuredContent.instances.map((i: any) => i.id), [a]);
      const other = await call(client, 'get_conversation', { conversation_id: convB });
      assert.equal(other.isError, true);
      assert.equal(other.content[0].text, 'Conversation not found');
      const channels = await call(client, 'list_channels', { instance_id: b });
      assert.equal(channels.isError, true);
      assert.equal(channels.content[0].text, 'Instance not found');
      const send = await call(client, 'send_message', { conversation_id: convB, text: 'hijack' });
      assert.equal(send.isError, true);
      assert.equal(tg.sentMessages(8202).length, 0);
      const listed = await call(client, 'list_conversations');
      assert.deepEqual(listed.structuredContent.conversations.map((c: any) => c.id), [convA]);
    });

    test('reads the Telegram conversation and sends an answer the fake Telegram receives (once per idempotency key)', async () => {
      const conv = await call(client, 'get_conversation', { conversation_id: convA });
      assert.equal(conv.structuredContent.status, 'open');
      assert.equal(conv.structuredContent.mode, 'agent');
      const msgs = await call(client, 'get_messages', { conversation_id: convA });
      assert.deepEqual(msgs.structuredContent.messages.map((m: any) => [m.direction, m.author.kind, m.text]), [['inbound', 'contact', 'Where is my parcel?']]);
      const sent = await call(client, 'send_message', { conversation_id: convA, text: 'It ships **today**.', idempotency_key: 'mcp-1' });
      assert.equal(sent.isError, undefined, sent.content?.[0]?.text);
      const again = await call(client, 'send_message', { conversation_id: convA, text: 'It ships **today**.', idempotency_key: 'mcp-1' });
      assert.equal(again.structuredContent.message.id, sent.structuredContent.message.id);
      const m = await until(() => tg.sentMessages(8101)[0], 'the answer on Telegram');
      assert.equal(m.text, 'It ships <b>today</b>.');
      // One message was stored for the key, and it went out (once: it is sent when it is 'sent').
      const out = await until(async () => {
        const r = await call(client, 'get_messages', { conversation_id: convA });
        const mine = r.structuredContent.messages.filter((x: any) => x.direction === 'outbound');
        return mine.every((x: any) => x.status === 'sent') && mine;
      }, 'the answer marked sent');
      assert.equal(out.length, 1);
      assert.equal(tg.sentMessages(8101).length, 1);
    });

    test('bad input is a tool error with the detail', async () => {
      const r = await call(client, 'send_message', { conversation_id: convA });
      assert.equal(r.isError, true);
      assert.equal(r.content[0].text, 'text or attachments is required');
      const start = await call(client, 'start_conversation', { channel_id: (await s.api('GET', `/v1/instances/${a}/channels`)).body.channels[0].id, recipient: '999', text: 'hi' });
      assert.equal(start.isError, true);
      assert.match(start.content[0].text, /a bot cannot message a chat first/);
    });

    test('wait_for_messages returns the next message after the cursor', async () => {
      const now = await call(client, 'wait_for_messages', { timeout_seconds: 0 });
      assert.equal(now.structuredContent.count, 0);
      const waiting = call(client, 'wait_for_messages', { after: now.structuredContent.next_cursor, timeout_seconds: 20 });
      await inbound(a, 8101, 'Any news?');
      const got = (await waiting).structuredContent;
      assert.equal(got.count, 1);
      assert.equal(got.messages[0].text, 'Any news?');
      assert.equal(got.messages[0].conversation_id, convA);
      assert.equal(got.messages[0].raw, undefined, 'the provider payload is left out');
      assert.ok(Number(got.next_cursor) > Number(now.structuredContent.next_cursor));
    });

    test('a subscribed conversation resource is announced when a message arrives, and reads back', async () => {
      const uri = `switchboard://conversations/${convA}`;
      const updates: string[] = [];
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri));
      await client.subscribeResource({ uri });
      await inbound(a, 8101, 'Hello again');
      await until(() => updates.includes(uri), 'the resources/updated notification');
      const read = await client.readResource({ uri });
      const body = JSON.parse(String((read.contents[0] as { text: string }).text));
      assert.equal(body.conversation.id, convA);
      assert.equal(body.messages.at(-1).text, 'Hello again');
      await assert.rejects(client.readResource({ uri: `switchboard://conversations/${convB}` }), /Conversation not found/);
    });

    test('get_media returns the bytes as image, audio or resource content', async () => {
      const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
      const up = await fetch(`${s.url}/v1/instances/${a}/media?file_name=dot.png`, { method: 'POST', headers: { authorization: `Bearer ${keyA}`, 'content-type': 'image/png' }, body: png });
      assert.equal(up.status, 201, await up.clone().text());
      const item = (await up.json()) as { id: string };
      const r = await call(client, 'get_media', { media_id: item.id });
      assert.equal(r.isError, undefined, r.content?.[0]?.text);
      assert.equal(r.content[0].type, 'image');
      assert.equal(r.content[0].mimeType, 'image/png');
      assert.deepEqual(Buffer.from(r.content[0].data, 'base64'), png);

      // Audio as audio content; anything else as an embedded resource with its mime type.
      const upload = async (name: string, type: string, bytes: Buffer) => {
        const res = await fetch(`${s.url}/v1/instances/${a}/media?file_name=${name}`, { method: 'POST', headers: { authorization: `Bearer ${keyA}`, 'content-type': type }, body: new Uint8Array(bytes) });
        assert.equal(res.status, 201, await res.clone().text());
        return ((await res.json()) as { id: string }).id;
      };
      const ogg = Buffer.from('OggS\0\x02fake voice note');
      const voice = await call(client, 'get_media', { media_id: await upload('note.ogg', 'audio/ogg', ogg) });
      assert.equal(voice.content[0].type, 'audio');
      assert.equal(voice.content[0].mimeType, 'audio/ogg');
      assert.deepEqual(Buffer.from(voice.content[0].data, 'base64'), ogg);
      const pdf = Buffer.from('%PDF-1.4 terms');
      const doc = await call(client, 'get_media', { media_id: await upload('terms.pdf', 'application/pdf', pdf) });
      assert.equal(doc.content[0].type, 'resource');
      assert.equal(doc.content[0].resource.mimeType, 'application/pdf');
      assert.deepEqual(Buffer.from(doc.content[0].resource.blob, 'base64'), pdf);
      assert.equal(JSON.parse(doc.content[1].text).file_name, 'terms.pdf', 'the media item comes along as text');
      const other = await call(client, 'get_media', { media_id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b' });
      assert.equal(other.isError, true);
      assert.equal(other.content[0].text, 'Media not found');
    });

    test('handoff, resume and close_conversation change the conversation; list_conversations filters on them', async () => {
      const h = await call(client, 'handoff', { conversation_id: convA, reason: 'billing question' });
      assert.equal(h.isError, undefined, h.content?.[0]?.text);
      assert.equal(h.structuredContent.mode, 'human');
      const humans = await call(client, 'list_conversations', { mode: 'human' });
      assert.deepEqual(humans.structuredContent.conversations.map((c: any) => c.id), [convA]);
      const blocked = await call(client, 'send_message', { conversation_id: convA, text: 'agent speaking' });
      assert.equal(blocked.isError, true);
      assert.match(blocked.content[0].text, /human mode/);
      const r = await call(client, 'resume', { conversation_id: convA });
      assert.equal(r.structuredContent.mode, 'agent');
      const c = await call(client, 'close_conversation', { conversation_id: convA });
      assert.equal(c.structuredContent.status, 'closed');
      assert.equal((await call(client, 'list_conversations', { status: 'open' })).structuredContent.count, 0);
      const again = await call(client, 'close_conversation', { conversation_id: convA });
      assert.equal(again.structuredContent.status, 'closed', 'closing a closed conversation is a no-op');
    });

    test('a session belongs to the key that opened it', async () => {
      const sid = (client.transport as StreamableHTTPClientTransport).sessionId!;
      const r = await fetch(`${s.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${s.adminKey}`, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' }, body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }) });
      assert.equal(r.status, 404);
    });
  });
}
