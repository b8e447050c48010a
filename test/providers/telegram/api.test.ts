import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeTelegram } from '../../../fakes/telegram.js';
import type { FakeTelegram } from '../../../fakes/telegram.js';
import { telegramApi } from '../../../src/adapters/telegram/api.js';
import { assertNoSecret, closedPortUrl, expectProviderError } from '../../provider-api/helpers.js';

describe('telegram api client against the fake', () => {
  let fake: FakeTelegram;
  const api = (over: { botToken?: string; timeoutMs?: number; baseUrl?: string } = {}) =>
    telegramApi({ botToken: over.botToken ?? fake.token, baseUrl: over.baseUrl ?? fake.url, timeoutMs: over.timeoutMs });

  before(async () => {
    fake = await startFakeTelegram();
  });
  after(() => fake.close());

  it('getMe and webhook lifecycle', async () => {
    const me = await api().getMe();
    assert.equal(me.is_bot, true);
    assert.equal(me.username, 'switchboard_test_bot');
    await api().setWebhook({ url: 'https://example.com/hook', secret_token: 'abc_DEF-123', allowed_updates: ['message'] });
    const info = await api().getWebhookInfo();
    assert.equal(info.url, 'https://example.com/hook');
    assert.deepEqual(info.allowed_updates, ['message']);
    assert.equal(fake.webhook()?.secret_token, 'abc_DEF-123');
    await api().deleteWebhook();
    assert.equal((await api().getWebhookInfo()).url, '');
  });

  it('rejects a bad secret_token and a non-https public webhook', async () => {
    const e1 = await expectProviderError(api().setWebhook({ url: 'https://example.com/h', secret_token: 'bad token!' }), 'permanent');
    assert.equal(e1.code, '400');
    await expectProviderError(api().setWebhook({ url: 'http://example.com/h' }), 'permanent');
    await expectProviderError(api().setWebhook({ url: 'https://example.com:9999/h' }), 'permanent');
    await api().setWebhook({ url: 'http://127.0.0.1:3000/h' });
  });

  it('sends, edits and numbers messages per chat', async () => {
    const a = await api().sendMessage({ chat_id: 501, text: '<b>hello</b> &amp; bye', parse_mode: 'HTML' });
    const b = await api().sendMessage({ chat_id: 501, text: 'second', reply_parameters: { message_id: a.message_id } });
    const c = await api().sendMessage({ chat_id: 502, text: 'other chat' });
    assert.equal(b.message_id, a.message_id + 1);
    assert.equal(c.message_id, 1);
    assert.equal(fake.sentMessages(501).length, 2);
    assert.equal(fake.sentMessages(501)[1].reply_to_message_id, a.message_id);

    const edited = await api().editMessageText({ chat_id: 501, message_id: a.message_id, text: 'changed' });
    assert.equal(edited.text, 'changed');
    assert.deepEqual(fake.sentMessages(501)[0].edits, ['<b>hello</b> &amp; bye']);
    const same = await expectProviderError(api().editMessageText({ chat_id: 501, message_id: a.message_id, text: 'changed' }), 'permanent');
    assert.match(same.message, /message is not modified/);
    await expectProviderError(api().editMessageText({ chat_id: 501, message_id: 999, text: 'x' }), 'not_found');
  });

  it('enforces the 4096 limit after entity parsing', async () => {
    await api().sendMessage({ chat_id: 7, text: 'a'.repeat(4096) });
    const long = await expectProviderError(api().sendMessage({ chat_id: 7, text: 'a'.repeat(4097) }), 'permanent');
    assert.equal(long.httpStatus, 400);
    assert.match(long.message, /too long/);
    // 4096 visible characters once "&amp;" counts as one.
    await api().sendMessage({ chat_id: 7, text: '&amp;'.repeat(4096), parse_mode: 'HTML' });
    await expectProviderError(api().sendMessage({ chat_id: 7, text: '' }), 'permanent');
  });

  it('rejects malformed HTML like Telegram', async () => {
    const e = await expectProviderError(api().sendMessage({ chat_id: 7, text: '<b>open', parse_mode: 'HTML' }), 'permanent');
    assert.match(e.message, /can't parse entities/);
    await expectProviderError(api().sendMessage({ chat_id: 7, text: 'a <div>x</div>', parse_mode: 'HTML' }), 'permanent');
    await expectProviderError(api().sendMessage({ chat_id: 7, text: '1 < 2', parse_mode: 'HTML' }), 'permanent');
  });

  it('drafts, chat actions, media by URL with caption limit, files', async () => {
    await api().sendMessageDraft({ chat_id: 42, draft_id: 9, text: 'thinking…' });
    assert.equal(fake.drafts(42)[0].text, 'thinking…');
    await expectProviderError(api().sendMessageDraft({ chat_id: 42, draft_id: 0, text: 'x' }), 'permanent');
    await api().sendChatAction({ chat_id: 42, action: 'typing' });
    assert.deepEqual(fake.chatActions().at(-1), { chat_id: '42', action: 'typing' });

    const photo = await api().sendPhoto({ chat_id: 42, url: 'https://example.com/a.png', caption: 'pic' });
    assert.equal(photo.caption, 'pic');
    await api().sendDocument({ chat_id: 42, url: 'https://example.com/a.pdf' });
    await expectProviderError(api().sendPhoto({ chat_id: 42, url: 'https://example.com/a.png', caption: 'c'.repeat(1025) }), 'permanent');

    const fileId = fake.addFile(new Uint8Array([1, 2, 3]), 'x.bin');
    const file = await api().getFile(fileId);
    assert.ok(file.file_path);
    assert.ok(api().fileDownloadUrl(file.file_path).startsWith(`${fake.url}/file/bot`));
    assert.deepEqual([...(await api().downloadFile(file.file_path))], [1, 2, 3]);
  });

  it('requires chat_id', async () => {
    const e = await expectProviderError(api().sendMessage({ chat_id: undefined as unknown as number, text: 'x' }), 'permanent');
    assert.match(e.message, /chat_id is empty/);
  });

  it('maps errors to ProviderError kinds', async () => {
    const auth = await expectProviderError(api({ botToken: '999:wrong-token-value' }).getMe(), 'auth');
    assert.equal(auth.code, '401');
    assertNoSecret(auth, '999:wrong-token-value');

    fake.failNext({ status: 429, retryAfter: 7 });
    const rl = await expectProviderError(api().sendMessage({ chat_id: 1, text: 'x' }), 'rate_limited');
    assert.equal(rl.retryAfterMs, 7000);

    fake.failNext({ status: 500 });
    await expectProviderError(api().sendMessage({ chat_id: 1, text: 'x' }), 'retryable');

    fake.blockChat(666);
    await expectProviderError(api().sendMessage({ chat_id: 666, text: 'x' }), 'permanent');

    const before = fake.sentMessages(3).length;
    fake.failNext({ timeoutMs: 300 });
    const to = await expectProviderError(api({ timeoutMs: 100 }).sendMessage({ chat_id: 3, text: 'late' }), 'unknown_outcome');
    assertNoSecret(to, fake.token);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(fake.sentMessages(3).length, before + 1, 'the timed-out send did happen');

    fake.failNext({ dropConnection: true });
    await expectProviderError(api().sendMessage({ chat_id: 3, text: 'dropped' }), 'unknown_outcome');

    // Reads are idempotent: the same ambiguous failure is safe to retry.
    fake.failNext({ timeoutMs: 300 });
    await expectProviderError(api({ timeoutMs: 100 }).getMe(), 'retryable');

    const refused = await expectProviderError(api({ baseUrl: await closedPortUrl() }).sendMessage({ chat_id: 1, text: 'x' }), 'retryable');
    assert.equal(refused.code, 'ECONNREFUSED');
  });
});
