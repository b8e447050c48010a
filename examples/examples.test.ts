/**
 * Both examples answer real Switchboard traffic: a Telegram message reaches the example agent
 * (signed, verified by the SDK), the agent reads the history through the API and streams the
 * model's answer, and the fake Telegram receives it. Models are mocks: the AI SDK's own
 * MockLanguageModelV3, and the fake Chat Completions server for the OpenAI SDK.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { MockLanguageModelV3 } from 'ai/test';
import { simulateReadableStream } from 'ai';
import type { Handler } from '@switchboard/agent';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram.js';
import { startServer, type TestServer } from '../test/helpers/server.js';
import { until } from '../test/outbound/helpers.js';
import { aiSdkAgent } from './ai-sdk-agent.js';
import { openaiAgent } from './openai-agent.js';

/** A mock model streaming `text` in small deltas, as a provider would. */
function mockModel(answers: string[]): MockLanguageModelV3 {
  let n = 0;
  return new MockLanguageModelV3({
    doStream: async () => {
      const text = answers[Math.min(n++, answers.length - 1)];
      const deltas = text.match(/.{1,4}/gs) ?? [];
      return {
        stream: simulateReadableStream({
          chunks: [
            { type: 'stream-start', warnings: [] },
            { type: 'text-start', id: 't' },
            ...deltas.map((delta) => ({ type: 'text-delta' as const, id: 't', delta })),
            { type: 'text-end', id: 't' },
            { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage: { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } } },
          ] as never,
        }),
      };
    },
  });
}

describe('examples against a Switchboard test server', () => {
  let s: TestServer;
  let tg: FakeTelegram;
  let ai: FakeOpenAI;
  let updateId = 900;
  const servers: Server[] = [];

  before(async () => {
    tg = await startFakeTelegram();
    ai = await startFakeOpenAI();
    s = await startServer('sqlite', { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_TELEGRAM_API_URL: tg.url } });
  });
  after(async () => {
    for (const srv of servers) {
      srv.closeAllConnections();
      srv.close();
    }
    await s.close();
    await tg.close();
    await ai.close();
  });

  /** An instance whose agent_url is a local server running the handler `make` builds; returns a message sender. */
  async function setup(name: string, make: (opts: { secret: string; baseUrl: string; apiKey: string }) => Handler) {
    let handler: Handler | undefined;
    const srv = createServer((req: IncomingMessage, res: ServerResponse) => (handler ? handler.node(req, res) : res.writeHead(503).end()));
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const inst = await s.api('POST', '/v1/instances', { name, agent_url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/` });
    const key = await s.api('POST', '/v1/api-keys', { name, instance_ids: [inst.body.id] });
    handler = make({ secret: inst.body.signing_secret, baseUrl: s.url, apiKey: key.body.key });
    const conn = await s.api('POST', `/v1/instances/${inst.body.id}/connections`, { provider: 'telegram', secrets: { bot_token: tg.token } });
    const ch = await s.api('POST', `/v1/instances/${inst.body.id}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: `${name}_bot`, connection_id: conn.body.id, webhook_secret: 'example-secret' });
    assert.equal(ch.status, 201, ch.text);
    return async (chatId: number, text: string) => {
      const r = await fetch(ch.body.webhook_url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': 'example-secret' },
        body: JSON.stringify({ update_id: ++updateId, message: { message_id: updateId, date: 1_700_000_000, chat: { id: chatId, type: 'private' }, from: { id: chatId, is_bot: false, first_name: 'Ada' }, text } }),
      });
      assert.equal(r.status, 200);
    };
  }

  test('the AI SDK agent streams the model answer, with the history on the second turn, and hands off on request', async () => {
    const model = mockModel(['Hi **Ada**! What can I do for you?', 'It left the warehouse today.']);
    const say = await setup('aisdk', (opts) => aiSdkAgent(model, opts));
    await say(4401, 'hello');
    assert.equal((await until(() => tg.sentMessages(4401)[0], 'the first answer')).text, 'Hi <b>Ada</b>! What can I do for you?');
    await say(4401, 'where is my parcel?');
    assert.equal((await until(() => tg.sentMessages(4401)[1], 'the second answer')).text, 'It left the warehouse today.');
    const prompt = model.doStreamCalls[1].prompt.map((m) => [m.role, typeof m.content === 'string' ? m.content : m.content.map((p) => ('text' in p ? p.text : p.type)).join('')]);
    assert.deepEqual(prompt, [
      ['system', 'You are a friendly support agent. Answer briefly.'],
      ['user', 'hello'],
      ['assistant', 'Hi **Ada**! What can I do for you?'],
      ['user', 'where is my parcel?'],
    ]);
    await say(4401, 'I want to talk to a human');
    assert.equal((await until(() => tg.sentMessages(4401)[2], 'the handoff message')).text, 'Connecting you with a colleague.');
    assert.equal(model.doStreamCalls.length, 2, 'no model call for the handoff');
  });

  test('the OpenAI SDK agent streams the Chat Completions answer', async () => {
    ai.script = () => ({ text: 'Hello from GPT, *streamed*.', chunkSize: 3 });
    const say = await setup('openai', (opts) => openaiAgent(new OpenAI({ baseURL: ai.baseUrl, apiKey: ai.apiKey }), 'gpt-test', opts));
    await say(4402, 'hi there');
    assert.equal((await until(() => tg.sentMessages(4402)[0], 'the answer')).text, 'Hello from GPT, <i>streamed</i>.');
    assert.deepEqual(ai.requests[0].body.messages, [{ role: 'system', content: 'You are a friendly support agent. Answer briefly.' }, { role: 'user', content: 'hi there' }]);
    assert.equal(ai.requests[0].body.stream, true);
  });
});
