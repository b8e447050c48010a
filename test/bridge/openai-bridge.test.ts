/**
 * The OpenAI-compatible bridge end to end: a Telegram message to an instance whose agent_url is
 * `openai+http://<fake>/v1` is answered with the fake model's streamed text; the second turn
 * carries the history; failures of the model API are retried on the delivery schedule and
 * dead-lettered with the API's reason, never dropped. The fake checks requests as OpenAI does.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeOpenAI, type FakeOpenAI } from '../../fakes/openai.js';
import { startFakeTelegram, type FakeTelegram } from '../../fakes/telegram.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';
import { until } from '../outbound/helpers.js';

for (const kind of storeKinds()) {
  describe(`OpenAI bridge on ${kind}`, () => {
    let s: TestServer;
    let tg: FakeTelegram;
    let ai: FakeOpenAI;
    let instanceId: string;
    let webhookUrl: string;
    const SECRET = 'bridge-secret';
    let updateId = 100;

    async function inbound(chatId: number, text: string) {
      const r = await fetch(webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        body: JSON.stringify({ update_id: ++updateId, message: { message_id: updateId, date: 1_700_000_000, chat: { id: chatId, type: 'private' }, from: { id: chatId, is_bot: false, first_name: 'Ada' }, text } }),
      });
      assert.equal(r.status, 200);
    }

    before(async () => {
      tg = await startFakeTelegram();
      ai = await startFakeOpenAI();
      s = await startServer(kind, { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_TELEGRAM_API_URL: tg.url }, services: { scheduleMs: [50, 50] } });
      const inst = await s.api('POST', '/v1/instances', {
        name: 'model', agent_url: `openai+${ai.baseUrl}`,
        agent_config: { model: 'gpt-test', system_prompt: 'You are the support agent of Acme.', temperature: 0.2, max_history_messages: 10, api_key: ai.apiKey },
      });
      assert.equal(inst.status, 201, inst.text);
      instanceId = inst.body.id;
      const conn = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'telegram', secrets: { bot_token: tg.token } });
      const ch = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: `bridge_${kind}_bot`, connection_id: conn.body.id, webhook_secret: SECRET });
      assert.equal(ch.status, 201, ch.text);
      webhookUrl = ch.body.webhook_url;
    });
    after(async () => {
      await s.close();
      await tg.close();
      await ai.close();
    });

    test('agent_config is returned without its api_key, which is stored encrypted and never logged', async () => {
      const got = await s.api('GET', `/v1/instances/${instanceId}`);
      assert.deepEqual(got.body.agent_config, { model: 'gpt-test', system_prompt: 'You are the support agent of Acme.', temperature: 0.2, max_history_messages: 10 });
      assert.ok(!got.text.includes(ai.apiKey));
      const row = await s.services.repos.instances.get(instanceId);
      assert.ok(row?.agent_api_key_enc && !row.agent_api_key_enc.includes(ai.apiKey));
      assert.ok(!(row?.agent_config ?? '').includes(ai.apiKey));
      assert.ok(!s.logs.join('').includes(ai.apiKey));
    });

    test('a Telegram message is answered with the streamed text; the second turn carries the history', async () => {
      ai.script = (_b, n) => ({ text: n === 1 ? 'Hello **Ada**, how can I help?' : 'Your order ships tomorrow.', chunkSize: 3, chunkDelayMs: 5 });
      await inbound(7001, 'hello');
      const first = await until(() => tg.sentMessages(7001)[0], 'the first answer');
      assert.equal(first.text, 'Hello <b>Ada</b>, how can I help?');
      const req1 = ai.requests[0];
      assert.equal(req1.headers.authorization, `Bearer ${ai.apiKey}`);
      assert.equal(req1.body.model, 'gpt-test');
      assert.equal(req1.body.stream, true);
      assert.equal(req1.body.temperature, 0.2);
      assert.deepEqual(req1.body.tools.map((t: any) => t.function.name), ['handoff', 'close_conversation']);
      assert.deepEqual(req1.body.messages, [{ role: 'system', content: 'You are the support agent of Acme.' }, { role: 'user', content: 'hello' }]);

      await inbound(7001, 'where is my order?');
      const second = await until(() => tg.sentMessages(7001)[1], 'the second answer');
      assert.equal(second.text, 'Your order ships tomorrow.');
      assert.deepEqual(ai.requests[1].body.messages, [
        { role: 'system', content: 'You are the support agent of Acme.' },
        { role: 'user', content: 'hello' },
        { role: 'assistant', content: 'Hello **Ada**, how can I help?' },
        { role: 'user', content: 'where is my order?' },
      ]);
      assert.equal(ai.refused.length, 0, JSON.stringify(ai.refused));
    });

    test("a photo the person sent reaches the model as an image part", async () => {
      ai.script = () => ({ text: 'Nice picture.' });
      const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
      const fileId = tg.addFile(png, 'photo.png');
      const before = ai.requests.length;
      const r = await fetch(webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        body: JSON.stringify({ update_id: ++updateId, message: { message_id: updateId, date: 1_700_000_000, chat: { id: 7004, type: 'private' }, from: { id: 7004, is_bot: false, first_name: 'Ada' }, caption: 'look', photo: [{ file_id: fileId, file_unique_id: 'u1', width: 1, height: 1, file_size: png.length }] } }),
      });
      assert.equal(r.status, 200);
      await until(() => tg.sentMessages(7004)[0], 'the answer to the photo');
      const user = ai.requests[before].body.messages.at(-1);
      assert.equal(user.role, 'user');
      assert.ok(Array.isArray(user.content), JSON.stringify(user));
      const image = user.content.find((p: any) => p.type === 'image_url');
      assert.ok(image, JSON.stringify(user.content));
      const bytes = Buffer.from(await (await fetch(image.image_url.url)).arrayBuffer());
      assert.deepEqual(bytes, png, 'the image link serves the photo');
    });

    test('the model calling handoff hands the conversation to a person, and the model is no longer called', async () => {
      const before = ai.requests.length;
      ai.script = () => ({ text: 'Let me get a colleague.', toolCalls: [{ name: 'handoff', arguments: { reason: 'asks for a refund' } }] });
      await inbound(7005, 'I want a refund');
      await until(() => tg.sentMessages(7005)[0], 'the text said before the handoff');
      assert.equal(tg.sentMessages(7005)[0].text, 'Let me get a colleague.');
      const conv = await until(async () => {
        const list = (await s.api('GET', `/v1/instances/${instanceId}/conversations`)).body.conversations;
        const c = list.find((x: any) => x.contact?.id === '7005');
        return c?.mode === 'human' ? c : undefined;
      }, 'the conversation in human mode');
      assert.equal(conv.mode, 'human');
      await inbound(7005, 'hello?');
      await until(async () => (await s.api('GET', `/v1/instances/${instanceId}/conversations/${conv.id}/messages`)).body.messages.some((m: any) => m.text === 'hello?'), 'the next message stored');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(ai.requests.length, before + 1, 'no model call while a person drives');
    });

    test('the model calling close_conversation closes it', async () => {
      ai.script = () => ({ text: 'Glad I could help. Bye!', toolCalls: [{ name: 'close_conversation', arguments: {} }] });
      await inbound(7006, 'thanks, that is all');
      await until(() => tg.sentMessages(7006)[0], 'the goodbye');
      await until(async () => {
        const list = (await s.api('GET', `/v1/instances/${instanceId}/conversations?status=closed`)).body.conversations;
        return list.find((x: any) => x.contact?.id === '7006');
      }, 'the closed conversation');
    });

    test('a model API failure before the first token is retried; the answer still arrives once', async () => {
      const before = ai.requests.length;
      ai.script = (_b, n) => (n === before + 1 ? { status: 500 } : { text: 'Back again.' });
      await inbound(7002, 'are you there?');
      const answer = await until(() => tg.sentMessages(7002)[0], 'the answer after a retry');
      assert.equal(answer.text, 'Back again.');
      assert.equal(ai.requests.length, before + 2);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(tg.sentMessages(7002).length, 1);
    });

    test('a refused API key ends in a dead delivery naming the reason (never a silent drop)', async () => {
      const patched = await s.api('PATCH', `/v1/instances/${instanceId}`, { agent_config: { api_key: 'sk-wrong' } });
      assert.equal(patched.status, 200, patched.text);
      assert.equal(patched.body.agent_config.model, 'gpt-test', 'a PATCH of the key keeps the other settings');
      try {
        await inbound(7003, 'hi');
        const dead = await until(async () => (await s.api('GET', `/v1/instances/${instanceId}/deliveries/dead`)).body.deliveries[0], 'the dead delivery');
        assert.match(dead.last_error, /model API answered HTTP 401: Incorrect API key provided/);
        assert.equal(tg.sentMessages(7003).length, 0);
        assert.ok(ai.refused.some((r) => r.status === 401));
      } finally {
        await s.api('PATCH', `/v1/instances/${instanceId}`, { agent_config: { api_key: ai.apiKey } });
      }
    });
  });
}

describe('agent_config validation', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer('sqlite', { startWorkers: false });
  });
  after(() => s.close());

  test('openai+http is refused unless private URLs are allowed; openai+https is accepted', async () => {
    const cfg = { model: 'm', system_prompt: 'p', api_key: 'k' };
    const r = await s.api('POST', '/v1/instances', { name: 'x', agent_url: 'openai+http://127.0.0.1:9/v1', agent_config: cfg });
    assert.equal(r.status, 422);
    assert.deepEqual(r.body.detail[0].loc, ['body', 'agent_url']);
    assert.match(r.body.detail[0].msg, /openai\+http:\/\/ is only for a model server on a loopback or private address/);
    const ok = await s.api('POST', '/v1/instances', { name: 'x', agent_url: 'openai+https://api.openai.com/v1', agent_config: cfg });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.agent_config.model, 'm');
    assert.equal(ok.body.agent_config.api_key, undefined);
  });

  test('missing settings, a bad temperature and a bad URL are 422s naming each field; nothing is stored', async () => {
    const before = (await s.api('GET', '/v1/instances')).body.count;
    const noConfig = await s.api('POST', '/v1/instances', { name: 'x', agent_url: 'openai+https://api.example.com/v1' });
    assert.equal(noConfig.status, 422);
    assert.deepEqual(noConfig.body.detail[0].loc, ['body', 'agent_config']);
    const partial = await s.api('POST', '/v1/instances', { name: 'x', agent_url: 'openai+https://api.example.com/v1', agent_config: { model: 'm' } });
    assert.equal(partial.status, 422);
    assert.deepEqual(partial.body.detail.map((d: any) => d.loc.join('.')).sort(), ['body.agent_config.api_key', 'body.agent_config.system_prompt']);
    const temp = await s.api('POST', '/v1/instances', { name: 'x', agent_config: { model: 'm', system_prompt: 'p', api_key: 'k', temperature: 3 } });
    assert.equal(temp.status, 422);
    assert.deepEqual(temp.body.detail[0], { type: 'less_than_equal', loc: ['body', 'agent_config', 'temperature'], msg: 'Input should be less than or equal to 2', input: 3, ctx: { le: 2 } });
    const url = await s.api('POST', '/v1/instances', { name: 'x', agent_url: 'openai+ftp://x/v1', agent_config: { model: 'm', system_prompt: 'p', api_key: 'k' } });
    assert.equal(url.status, 422);
    assert.equal(url.body.detail[0].type, 'url_scheme');
    assert.equal((await s.api('GET', '/v1/instances')).body.count, before);
  });

  test('PATCH to an openai+ URL without settings is refused; agent_config null clears them', async () => {
    const inst = await s.api('POST', '/v1/instances', { name: 'y', agent_url: 'https://agent.example.com/hook' });
    const r = await s.api('PATCH', `/v1/instances/${inst.body.id}`, { agent_url: 'openai+https://api.example.com/v1' });
    assert.equal(r.status, 422);
    assert.equal((await s.api('GET', `/v1/instances/${inst.body.id}`)).body.agent_url, 'https://agent.example.com/hook');
    const set = await s.api('PATCH', `/v1/instances/${inst.body.id}`, { agent_url: 'openai+https://api.example.com/v1', agent_config: { model: 'm', system_prompt: 'p', api_key: 'k' } });
    assert.equal(set.status, 200, set.text);
    const clear = await s.api('PATCH', `/v1/instances/${inst.body.id}`, { agent_url: 'https://agent.example.com/hook', agent_config: null });
    assert.equal(clear.status, 200, clear.text);
    assert.equal(clear.body.agent_config, null);
  });

  test('the stored model key only goes to its own host: moving agent_url to another host needs the key again', async () => {
    const inst = await s.api('POST', '/v1/instances', { name: 'k', agent_url: 'openai+https://api.example.com/v1', agent_config: { model: 'm', system_prompt: 'p', api_key: 'sk-original' } });
    assert.equal(inst.status, 201, inst.text);
    const id = inst.body.id;
    const moved = await s.api('PATCH', `/v1/instances/${id}`, { agent_url: 'openai+https://collector.example.net/v1' });
    assert.equal(moved.status, 422, moved.text);
    assert.deepEqual(moved.body.detail[0].loc, ['body', 'agent_config', 'api_key']);
    assert.equal((await s.api('GET', `/v1/instances/${id}`)).body.agent_url, 'openai+https://api.example.com/v1', 'nothing changed');
    // Through a plain webhook URL and back is the same move.
    assert.equal((await s.api('PATCH', `/v1/instances/${id}`, { agent_url: 'https://agent.example.com/hook' })).status, 200);
    assert.equal((await s.api('PATCH', `/v1/instances/${id}`, { agent_url: 'openai+https://collector.example.net/v1' })).status, 422);
    // The same host (another path) keeps the key; a new host with a new key is fine.
    assert.equal((await s.api('PATCH', `/v1/instances/${id}`, { agent_url: 'openai+https://api.example.com/v1' })).status, 422, 'back from the plain URL: the key is asked for again too');
    const withKey = await s.api('PATCH', `/v1/instances/${id}`, { agent_url: 'openai+https://collector.example.net/v1', agent_config: { api_key: 'sk-theirs' } });
    assert.equal(withKey.status, 200, withKey.text);
    const samePath = await s.api('PATCH', `/v1/instances/${id}`, { agent_url: 'openai+https://collector.example.net/v2' });
    assert.equal(samePath.status, 200, samePath.text);
    assert.equal(JSON.stringify(samePath.body).includes('sk-'), false, 'the key is never returned');
  });
});
