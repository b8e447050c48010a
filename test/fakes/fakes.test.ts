import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startAllFakes } from '../../fakes/index.js';
import { telegramApi } from '../../src/adapters/telegram/api.js';

describe('startAllFakes', () => {
  it('starts every fake on loopback and closes them', async () => {
    const fakes = await startAllFakes();
    try {
      for (const url of Object.values(fakes.baseUrls)) assert.match(url, /^http:\/\/127\.0\.0\.1:\d+/);
      assert.ok(fakes.baseUrls.meta_cloud.endsWith('/v24.0'));
      const res = await fetch(`${fakes.telegram.url}/bot${fakes.telegram.token}/getMe`);
      assert.equal(res.status, 200);
      assert.equal(fakes.telegram.requests.length, 1);
    } finally {
      await fakes.close();
    }
  });

  it('records requests with parsed bodies and applies failNext only to matching paths', async () => {
    const fakes = await startAllFakes();
    try {
      const tg = fakes.telegram;
      tg.failNext({ status: 500, match: 'sendMessage' });
      const me = await fetch(`${tg.url}/bot${tg.token}/getMe`);
      assert.equal(me.status, 200, 'getMe does not match the failure');
      const form = new URLSearchParams({ chat_id: '5', text: 'from a form' });
      const failed = await fetch(`${tg.url}/bot${tg.token}/sendMessage`, { method: 'POST', body: form });
      assert.equal(failed.status, 500);
      assert.deepEqual(await failed.json(), { ok: false, error_code: 500, description: 'Internal Server Error' });
      const ok = await fetch(`${tg.url}/bot${tg.token}/sendMessage`, { method: 'POST', body: form });
      assert.equal(ok.status, 200);
      const rec = tg.requests.at(-1);
      assert.deepEqual(rec?.body, { chat_id: '5', text: 'from a form' });
      assert.deepEqual(tg.requests.at(-2)?.injectedFailure, { status: 500, match: 'sendMessage' });
    } finally {
      await fakes.close();
    }
  });

  it('telegram fake delivers updates to the webhook with the secret token header', async () => {
    const got: { secret?: string; body: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        got.push({ secret: req.headers['x-telegram-bot-api-secret-token'] as string | undefined, body });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const fakes = await startAllFakes();
    try {
      const { port } = receiver.address() as AddressInfo;
      await telegramApi({ botToken: fakes.telegram.token, baseUrl: fakes.telegram.url }).setWebhook({ url: `http://127.0.0.1:${port}/hook`, secret_token: 's3cret' });
      const status = await fakes.telegram.deliverUpdate({ message: { message_id: 1, chat: { id: 5, type: 'private' }, date: 0, text: 'hi' } });
      assert.equal(status, 200);
      assert.equal(got[0].secret, 's3cret');
      const update = JSON.parse(got[0].body) as { update_id: number; message: { text: string } };
      assert.equal(update.message.text, 'hi');
      assert.ok(update.update_id > 0);
    } finally {
      await fakes.close();
      await new Promise<void>((r) => receiver.close(() => r()));
    }
  });
});
