/**
 * `updated_since` is part of the conversation query (REST `GET .../conversations` and MCP
 * `list_conversations`): with more conversations than the page size, every page is full until the
 * matching ones run out, the pages together hold exactly the matching conversations, and the last
 * page says so (`next_cursor: null`). A time that is not ISO-8601 is a 422 / a tool error.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';

const BASE = Date.parse('2026-03-01T10:00:00.000Z');
const at = (minute: number) => new Date(BASE + minute * 60_000).toISOString();
const TOTAL = 30;
const SINCE_MINUTE = 18; // conversations 18..29 match: 12 of 30

for (const kind of storeKinds()) {
  describe(`conversation lists filtered by updated_since on ${kind}`, () => {
    let s: TestServer;
    let client: Client;
    let instanceId: string;
    const expected: string[] = [];

    before(async () => {
      s = await startServer(kind);
      instanceId = (await s.api('POST', '/v1/instances', { name: 'many conversations' })).body.id;
      const channel = (await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: `list_${kind}_bot` })).body;
      // Conversations with known activity times, written as the inbound pipeline writes them.
      const inbox = s.services.repos.inbox;
      const ids: string[] = [];
      for (let i = 0; i < TOTAL; i++) {
        const c = await inbox.transaction((trx) => inbox.upsertConversation(trx, { instanceId, channelId: channel.id, key: String(70_000 + i), participant: { id: String(70_000 + i) }, messageAt: at(i), now: at(i) }));
        ids.push(c.id);
      }
      // Most recently active first.
      for (let i = TOTAL - 1; i >= SINCE_MINUTE; i--) expected.push(ids[i]);
      const key = (await s.api('POST', '/v1/api-keys', { name: 'lists', instance_ids: [instanceId] })).body.key;
      client = new Client({ name: 'list-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }));
    });
    after(async () => {
      await client?.close();
      await s.close();
    });

    test('REST: pages of 5 are full until the matching conversations run out (5, 5, 2), and hold exactly them', async () => {
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      do {
        const q: string = `updated_since=${encodeURIComponent(at(SINCE_MINUTE))}&limit=5${cursor ? `&cursor=${cursor}` : ''}`;
        const r = await s.api('GET', `/v1/instances/${instanceId}/conversations?${q}`);
        assert.equal(r.status, 200, r.text);
        sizes.push(r.body.count);
        seen.push(...r.body.conversations.map((c: any) => c.id));
        cursor = r.body.next_cursor;
      } while (cursor);
      assert.deepEqual(sizes, [5, 5, 2]);
      assert.deepEqual(seen, expected);
      // Other spellings of the same instant: an offset, no milliseconds.
      const offset = await s.api('GET', `/v1/instances/${instanceId}/conversations?updated_since=${encodeURIComponent('2026-03-01T11:18:00+01:00')}&limit=100`);
      assert.deepEqual(offset.body.conversations.map((c: any) => c.id), expected);
      const all = await s.api('GET', `/v1/instances/${instanceId}/conversations?limit=100`);
      assert.equal(all.body.count, TOTAL);
      // Documented in the OpenAPI document.
      const doc = (await s.api('GET', '/openapi.json')).body;
      const param = doc.paths['/v1/instances/{instance_id}/conversations'].get.parameters.find((p: any) => p.name === 'updated_since');
      assert.equal(param?.in, 'query');
      assert.equal(param.schema.format, 'date-time');
    });

    test('REST: a time that is not ISO-8601 is a 422 at query.updated_since', async () => {
      for (const bad of ['yesterday', '2026-13-01', '1709287200']) {
        const r = await s.api('GET', `/v1/instances/${instanceId}/conversations?updated_since=${bad}`);
        assert.equal(r.status, 422, bad);
        assert.deepEqual(r.body.detail[0].loc, ['query', 'updated_since']);
        assert.equal(r.body.detail[0].type, 'datetime_parsing');
      }
    });

    test('MCP: list_conversations pages the same way with cursor / next_cursor', async () => {
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      do {
        const r: any = await client.callTool({ name: 'list_conversations', arguments: { updated_since: at(SINCE_MINUTE), limit: 5, ...(cursor ? { cursor } : {}) } });
        assert.equal(r.isError, undefined, r.content?.[0]?.text);
        sizes.push(r.structuredContent.count);
        seen.push(...r.structuredContent.conversations.map((c: any) => c.id));
        cursor = r.structuredContent.next_cursor;
      } while (cursor);
      assert.deepEqual(sizes, [5, 5, 2]);
      assert.deepEqual(seen, expected);
      const bad: any = await client.callTool({ name: 'list_conversations', arguments: { updated_since: 'yesterday' } });
      assert.equal(bad.isError, true);
      const badCursor: any = await client.callTool({ name: 'list_conversations', arguments: { cursor: 'nope' } });
      assert.equal(badCursor.isError, true);
      assert.match(badCursor.content[0].text, /not a cursor returned by this API/);
    });
  });
}
