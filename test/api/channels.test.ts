/** The seed's Channels routes through real HTTP, on every store: fields, defaults, errors, tenancy. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';

const SEED_FIELDS = ['channel_type', 'config', 'connection_id', 'created_at', 'enabled', 'error_message', 'external_identifier', 'id', 'instance_id', 'last_event_at', 'provider', 'status', 'updated_at'];
const CHANNEL_TYPES_MSG = "Input should be 'telegram', 'whatsapp', 'voice', 'sms', 'email' or 'web_chat'";

for (const kind of storeKinds()) {
  describe(`channels API on ${kind}`, () => {
    let s: TestServer;
    let instanceId: string;
    const base = () => `/v1/instances/${instanceId}/channels`;

    before(async () => {
      s = await startServer(kind);
      const r = await s.api('POST', '/v1/instances', { name: 'support bot' });
      assert.equal(r.status, 201);
      instanceId = r.body.id;
    });
    after(() => s.close());

    test('create answers 201 with exactly the seed fields (+ webhook_url) and the defaults', async () => {
      const r = await s.api('POST', base(), { channel_type: 'telegram', provider: 'telegram', external_identifier: 'acme_bot', webhook_secret: 'sekret-token_1' });
      assert.equal(r.status, 201);
      assert.deepEqual(Object.keys(r.body).sort(), [...SEED_FIELDS, 'webhook_url'].sort());
      assert.equal(r.body.enabled, true);
      assert.deepEqual(r.body.config, {});
      assert.equal(r.body.connection_id, null);
      assert.equal(r.body.error_message, null);
      assert.equal(r.body.last_event_at, null);
      assert.equal(r.body.instance_id, instanceId);
      assert.equal(r.body.status, 'pending');
      assert.match(r.body.id, /^[0-9a-f-]{36}$/);
      assert.ok(!Number.isNaN(Date.parse(r.body.created_at)));
      assert.equal(r.body.webhook_url, `${s.url}/v1/webhooks/${r.body.id}`);
      assert.ok(!('webhook_secret' in r.body) && !('credential_id' in r.body));
      assert.ok(!r.text.includes('sekret-token_1'));
    });

    test('list answers {channels, count}; update and delete work; delete is 204 with an empty body', async () => {
      const c = await s.api('POST', base(), { channel_type: 'sms', provider: 'twilio', external_identifier: '+15550001111', config: { streaming: 'sentences' }, enabled: false });
      assert.equal(c.status, 201);
      assert.equal(c.body.status, 'disabled');
      const l = await s.api('GET', base());
      assert.equal(l.status, 200);
      assert.equal(l.body.count, l.body.channels.length);
      assert.ok(l.body.channels.some((x: any) => x.id === c.body.id && x.config.streaming === 'sentences'));

      const u = await s.api('PATCH', `${base()}/${c.body.id}`, { enabled: true, config: { streaming: 'final' }, error_message: 'was broken' });
      assert.equal(u.status, 200);
      assert.equal(u.body.enabled, true);
      assert.equal(u.body.status, 'pending');
      assert.deepEqual(u.body.config, { streaming: 'final' });
      assert.equal(u.body.error_message, 'was broken');
      assert.ok(u.body.updated_at >= c.body.updated_at);
      const u2 = await s.api('PATCH', `${base()}/${c.body.id}`, { error_message: null, status: 'active' });
      assert.equal(u2.body.error_message, null);
      assert.equal(u2.body.status, 'active');
      const empty = await s.api('PATCH', `${base()}/${c.body.id}`, {});
      assert.equal(empty.status, 200);
      assert.equal(empty.body.status, 'active');
      // The list (cached, with its JSON, between writes) shows every edit at once, in the same bytes twice.
      const l2 = await s.api('GET', base());
      const l3 = await s.api('GET', base());
      assert.equal(l2.text, l3.text);
      assert.match(l2.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(l2.body.channels.find((x: any) => x.id === c.body.id).config, { streaming: 'final' });
      assert.equal(l2.body.channels.find((x: any) => x.id === c.body.id).status, 'active');

      const d = await s.api('DELETE', `${base()}/${c.body.id}`);
      assert.equal(d.status, 204);
      assert.equal(d.text, '');
      assert.ok(!(await s.api('GET', base())).body.channels.some((x: any) => x.id === c.body.id), 'gone from the list');
      const again = await s.api('DELETE', `${base()}/${c.body.id}`);
      assert.equal(again.status, 404);
      assert.deepEqual(again.body, { detail: 'Channel not found' });
    });

    test('every invalid field is reported at once, as Pydantic v2 words it', async () => {
      const r = await s.api('POST', base(), { channel_type: 'fax', provider: 'x'.repeat(51), external_identifier: 'y'.repeat(256), enabled: 'maybe', config: [1], connection_id: 'nope' });
      assert.equal(r.status, 422);
      assert.deepEqual(r.body.detail.map((d: any) => [d.type, d.loc.join('.')]), [
        ['literal_error', 'body.channel_type'],
        ['dict_type', 'body.config'],
        ['uuid_parsing', 'body.connection_id'],
        ['bool_parsing', 'body.enabled'],
        ['string_too_long', 'body.external_identifier'],
        ['string_too_long', 'body.provider'],
      ]);
      const [lit, dict, uuid, boolp, long255, long50] = r.body.detail;
      assert.equal(lit.msg, CHANNEL_TYPES_MSG);
      assert.deepEqual(lit.ctx, { expected: "'telegram', 'whatsapp', 'voice', 'sms', 'email' or 'web_chat'" });
      assert.equal(dict.msg, 'Input should be a valid dictionary');
      assert.equal(uuid.msg, 'Input should be a valid UUID, invalid character: found `n` at 1');
      assert.equal(boolp.msg, 'Input should be a valid boolean, unable to interpret input');
      assert.equal(long255.msg, 'String should have at most 255 characters');
      assert.deepEqual(long255.ctx, { max_length: 255 });
      assert.equal(long50.msg, 'String should have at most 50 characters');
    });

    test('missing required fields, wrong types', async () => {
      const r = await s.api('POST', base(), { enabled: [], provider: 7 });
      assert.equal(r.status, 422);
      assert.deepEqual(r.body.detail.map((d: any) => [d.type, d.loc, d.msg]), [
        ['missing', ['body', 'channel_type'], 'Field required'],
        ['bool_type', ['body', 'enabled'], 'Input should be a valid boolean'],
        ['missing', ['body', 'external_identifier'], 'Field required'],
        ['string_type', ['body', 'provider'], 'Input should be a valid string'],
      ]);
    });

    test('lax booleans are accepted like Pydantic accepts them', async () => {
      for (const [i, v] of (['yes', 'OFF', 'T', 'n', 1, 0] as const).entries()) {
        const r = await s.api('POST', base(), { channel_type: 'email', provider: 'resend', external_identifier: `lax${i}@example.com`, enabled: v });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        assert.equal(r.body.enabled, ['yes', 'T', 1].includes(v as never));
      }
    });

    test('malformed JSON -> json_invalid at ["body", offset]; no body -> missing; non-object -> model_attributes_type', async () => {
      const bad = await s.api('POST', base(), '{"channel_type": }');
      assert.equal(bad.status, 422);
      assert.deepEqual(bad.body.detail, [{ type: 'json_invalid', loc: ['body', 17], msg: 'JSON decode error', input: {}, ctx: { error: 'Expecting value' } }]);
      const trunc = await s.api('POST', base(), '{"a": 1');
      assert.deepEqual(trunc.body.detail[0].loc, ['body', 7]);
      assert.equal(trunc.body.detail[0].ctx.error, "Expecting ',' delimiter");

      const none = await s.api('POST', base());
      assert.equal(none.status, 422);
      assert.deepEqual(none.body.detail.map((d: any) => [d.type, d.loc, d.msg]), [['missing', ['body'], 'Field required']]);

      const arr = await s.api('POST', base(), [1, 2]);
      assert.equal(arr.status, 422);
      assert.deepEqual(arr.body.detail.map((d: any) => [d.type, d.loc, d.msg]), [['model_attributes_type', ['body'], 'Input should be a valid dictionary or object to extract fields from']]);

      const form = await s.api('POST', base(), 'channel_type=sms', undefined, { 'content-type': 'application/x-www-form-urlencoded' });
      assert.equal(form.status, 422);
      assert.equal(form.body.detail[0].type, 'model_attributes_type');

      const junk = await fetch(s.url + base(), { method: 'POST', headers: { 'x-api-key': s.adminKey, 'content-type': 'application/json' }, body: Buffer.from([0xff, 0xfe, 0x00, 0x81]) });
      assert.equal(junk.status, 400);
      assert.deepEqual(await junk.json(), { detail: 'There was an error parsing the body' });
    });

    test('path ids that are not UUIDs -> uuid_parsing at ["path", name], reported with body errors', async () => {
      const r = await s.api('PATCH', `/v1/instances/123/channels/${'a'.repeat(31)}g`, { enabled: 'x' });
      assert.equal(r.status, 422);
      assert.deepEqual(r.body.detail.map((d: any) => [d.type, d.loc, d.msg]), [
        ['uuid_parsing', ['path', 'instance_id'], 'Input should be a valid UUID, invalid length: expected length 32 for simple format, found 3'],
        ['uuid_parsing', ['path', 'endpoint_id'], 'Input should be a valid UUID, invalid character: found `g` at 32'],
        ['bool_parsing', ['body', 'enabled'], 'Input should be a valid boolean, unable to interpret input'],
      ]);
      const groups = await s.api('GET', '/v1/instances/0f8fad5b-d9cb-469f-a165-70867728950/channels');
      assert.equal(groups.body.detail[0].ctx.error, 'invalid group length in group 4: expected 12, found 11');
    });

    test('an oversized body answers 413 with a detail', async () => {
      const r = await s.api('POST', base(), { channel_type: 'sms', provider: 'twilio', external_identifier: 'x', config: { blob: 'x'.repeat(2 * 1024 * 1024) } });
      assert.equal(r.status, 413);
      assert.equal(typeof r.body.detail, 'string');
    });

    test('a known provider is checked against the channel types it serves; unknown providers are free text', async () => {
      const r = await s.api('POST', base(), { channel_type: 'sms', provider: 'telegram', external_identifier: 'mismatch' });
      assert.equal(r.status, 422);
      assert.equal(r.body.detail[0].type, 'value_error');
      assert.deepEqual(r.body.detail[0].loc, ['body', 'provider']);
      assert.match(r.body.detail[0].msg, /^Value error, provider 'telegram' serves telegram channels, not 'sms'/);
      const free = await s.api('POST', base(), { channel_type: 'sms', provider: 'vonage', external_identifier: '+4915112345678' });
      assert.equal(free.status, 201);
    });

    test('one provider identity belongs to one channel (case-insensitive): 409', async () => {
      const a = await s.api('POST', base(), { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: 'WA-Number-1' });
      assert.equal(a.status, 201);
      const b = await s.api('POST', base(), { channel_type: 'whatsapp', provider: 'META_CLOUD'.toLowerCase(), external_identifier: 'wa-number-1' });
      assert.equal(b.status, 409);
      assert.match(b.body.detail, /already exists/);
      const other = await s.api('POST', base(), { channel_type: 'whatsapp', provider: 'meta_cloud', external_identifier: 'wa-number-2' });
      const clash = await s.api('PATCH', `${base()}/${other.body.id}`, { external_identifier: 'WA-NUMBER-1' });
      assert.equal(clash.status, 409);
    });

    test('connection_id / credential_id must exist, be visible and match the provider; nothing is stored otherwise', async () => {
      const before = (await s.api('GET', base())).body.count;
      const ghost = '6f1c0a3e-0000-4000-8000-000000000000';
      const r = await s.api('POST', base(), { channel_type: 'telegram', provider: 'telegram', external_identifier: 'fk_bot', connection_id: ghost, credential_id: ghost });
      assert.equal(r.status, 422);
      assert.deepEqual(r.body.detail.map((d: any) => d.loc), [['body', 'connection_id'], ['body', 'credential_id']]);
      assert.equal((await s.api('GET', base())).body.count, before);

      const conn = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'telegram', secrets: { bot_token: '123:ABC' } });
      assert.equal(conn.status, 201);
      const ok = await s.api('POST', base(), { channel_type: 'telegram', provider: 'telegram', external_identifier: 'fk_bot', connection_id: conn.body.id });
      assert.equal(ok.status, 201);
      assert.equal(ok.body.connection_id, conn.body.id);
      const wrongProvider = await s.api('POST', base(), { channel_type: 'sms', provider: 'twilio', external_identifier: '+1555', connection_id: conn.body.id });
      assert.equal(wrongProvider.status, 422);
      assert.deepEqual(wrongProvider.body.detail[0].loc, ['body', 'connection_id']);

      // A connection of another instance is invisible here.
      const other = await s.api('POST', '/v1/instances', { name: 'other' });
      const foreign = await s.api('POST', `/v1/instances/${other.body.id}/connections`, { provider: 'telegram', secrets: { bot_token: '9:Z' } });
      const cross = await s.api('POST', base(), { channel_type: 'telegram', provider: 'telegram', external_identifier: 'cross_bot', connection_id: foreign.body.id });
      assert.equal(cross.status, 422);
      assert.match(cross.body.detail[0].msg, /does not exist/);

      const cred = await s.api('POST', '/v1/credentials', { provider: 'twilio', secrets: { account_sid: 'AC1', auth_token: 'tok' } });
      assert.equal(cred.status, 201);
      const viaCred = await s.api('POST', base(), { channel_type: 'voice', provider: 'twilio', external_identifier: '+15559990000', credential_id: cred.body.id });
      assert.equal(viaCred.status, 201);
      assert.ok(!('credential_id' in viaCred.body));
    });

    test('unknown instance or channel -> 404 on every route', async () => {
      const ghost = '0f8fad5b-d9cb-469f-a165-70867728950e';
      for (const [m, p, b] of [
        ['GET', `/v1/instances/${ghost}/channels`, undefined],
        ['POST', `/v1/instances/${ghost}/channels`, { channel_type: 'sms', provider: 'twilio', external_identifier: 'z' }],
        ['PATCH', `/v1/instances/${ghost}/channels/${ghost}`, {}],
        ['DELETE', `/v1/instances/${ghost}/channels/${ghost}`, undefined],
        ['PATCH', `${base()}/${ghost}`, {}],
        ['DELETE', `${base()}/${ghost}`, undefined],
      ] as const) {
        const r = await s.api(m, p, b);
        assert.equal(r.status, 404, `${m} ${p}`);
        assert.equal(typeof r.body.detail, 'string');
      }
    });
  });
}
