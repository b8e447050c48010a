import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { telegramAdapter as tg } from '../../../src/adapters/telegram/index.js';
import { PayloadError } from '../../../src/adapters/contract.js';
import { ctx, json, JUNK_BODIES, NOW, req } from '../../adapters/helpers.js';

const SECRET = 'tg_secret-ABC_123';
const H = { 'X-Telegram-Bot-Api-Secret-Token': SECRET };
const from = { id: 111, is_bot: false, first_name: 'Ada', last_name: 'L', username: 'ada' };
const chat = { id: -1001234, type: 'supergroup', title: 'G' };

describe('telegram verify', () => {
  it('accepts the matching secret token', async () => {
    assert.deepEqual(await tg.verify(json({}, H), ctx({ verifySecret: SECRET })), { ok: true });
  });
  it('rejects a wrong token, a missing header and a missing secret (fail closed)', async () => {
    const wrong = await tg.verify(json({}, { 'X-Telegram-Bot-Api-Secret-Token': SECRET + 'x' }), ctx({ verifySecret: SECRET }));
    assert.equal(wrong.ok, false);
    assert.equal((await tg.verify(json({}), ctx({ verifySecret: SECRET }))).ok, false);
    assert.equal((await tg.verify(json({}, H), ctx())).ok, false);
    assert.equal((await tg.verify(json({}, H), ctx({ verifySecret: '' }))).ok, false);
  });
});

describe('telegram parse', () => {
  it('parses a text message', async () => {
    const [e] = await tg.parse(json({ update_id: 10000, message: { message_id: 1365, from, chat, date: 1441645532, text: 'hi', entities: [{ type: 'bold', offset: 0, length: 2 }] } }), ctx());
    assert.equal(e.kind, 'message');
    if (e.kind !== 'message') return;
    assert.equal(e.providerEventId, '10000');
    assert.equal(e.conversationKey, '-1001234');
    assert.equal(e.providerMessageId, '1365');
    assert.equal(e.text, 'hi');
    assert.equal(e.occurredAt, '2015-09-07T17:05:32.000Z');
    assert.deepEqual(e.from, { id: '111', name: 'Ada L', username: 'ada' });
  });

  it('takes the largest photo, keeps the caption and the reply target', async () => {
    const photo = [
      { file_id: 'small', file_unique_id: 'a', width: 90, height: 60, file_size: 1000 },
      { file_id: 'big', file_unique_id: 'c', width: 1280, height: 853, file_size: 90000 },
      { file_id: 'mid', file_unique_id: 'b', width: 320, height: 213 },
    ];
    const [e] = await tg.parse(json({ update_id: 2, message: { message_id: 5, from, chat, date: 1, photo, caption: 'look', reply_to_message: { message_id: 4, chat, date: 1 } } }), ctx());
    assert.ok(e.kind === 'message');
    assert.deepEqual(e.media, [{ kind: 'image', providerFileId: 'big', size: 90000, caption: 'look' }]);
    assert.equal(e.text, 'look');
    assert.equal(e.replyToProviderMessageId, '4');
  });

  it('maps every file kind, location and contact', async () => {
    const f = (x: string) => ({ file_id: x, file_unique_id: x + 'u' });
    const cases: [string, object, string][] = [
      ['document', { ...f('d'), file_name: 'a.pdf', mime_type: 'application/pdf' }, 'document'],
      ['audio', f('a'), 'audio'],
      ['voice', { ...f('v'), mime_type: 'audio/ogg' }, 'voice'],
      ['video', f('vi'), 'video'],
      ['sticker', f('s'), 'sticker'],
    ];
    for (const [field, value, kind] of cases) {
      const [e] = await tg.parse(json({ update_id: 3, message: { message_id: 6, from, chat, date: 1, [field]: value } }), ctx());
      assert.ok(e.kind === 'message');
      assert.equal(e.media?.[0].kind, kind, field);
    }
    const [anim] = await tg.parse(json({ update_id: 4, message: { message_id: 7, from, chat, date: 1, animation: f('gif'), document: f('gif') } }), ctx());
    assert.ok(anim.kind === 'message');
    assert.deepEqual(anim.media?.map((m) => m.kind), ['animation']);
    const [loc] = await tg.parse(json({ update_id: 5, message: { message_id: 8, from, chat, date: 1, location: { latitude: 52.5, longitude: 13.4 } } }), ctx());
    assert.ok(loc.kind === 'message');
    assert.deepEqual(loc.location, { latitude: 52.5, longitude: 13.4 });
    const [c] = await tg.parse(json({ update_id: 6, message: { message_id: 9, from, chat, date: 1, contact: { phone_number: '+4912345', first_name: 'Bo' } } }), ctx());
    assert.ok(c.kind === 'message');
    assert.deepEqual(c.contacts, [{ name: 'Bo', phones: ['+4912345'], emails: [] }]);
  });

  it('marks edited messages', async () => {
    const [e] = await tg.parse(json({ update_id: 7, edited_message: { message_id: 9, from, chat, date: 100, edit_date: 200, text: 'fixed' } }), ctx());
    assert.ok(e.kind === 'message');
    assert.equal(e.edited, true);
    assert.equal(e.occurredAt, new Date(200_000).toISOString());
  });

  it('turns a callback_query into an interactive message', async () => {
    const message = { message_id: 50, chat, date: 1, text: 'pick', reply_markup: { inline_keyboard: [[{ text: 'Yes', callback_data: 'y' }, { text: 'No', callback_data: 'n' }]] } };
    const [e] = await tg.parse(json({ update_id: 8, callback_query: { id: '4382bfdwdsb323b2d9', from, message, chat_instance: '1', data: 'n' } }), ctx());
    assert.ok(e.kind === 'message');
    assert.deepEqual(e.interactive, { id: 'n', title: 'No' });
    assert.equal(e.conversationKey, '-1001234');
    assert.equal(e.replyToProviderMessageId, '50');
    assert.equal(e.occurredAt, new Date(NOW).toISOString());
    const [inline] = await tg.parse(json({ update_id: 9, callback_query: { id: 'q', from, inline_message_id: 'im', chat_instance: '1', data: 'x' } }), ctx());
    assert.ok(inline.kind === 'message');
    assert.equal(inline.conversationKey, '111');
  });

  it('keeps other updates as unsupported', async () => {
    const [e] = await tg.parse(json({ update_id: 11, my_chat_member: { chat } }), ctx());
    assert.equal(e.kind, 'unsupported');
    assert.ok(e.kind === 'unsupported');
    assert.equal(e.providerType, 'my_chat_member');
    assert.equal(e.providerEventId, '11');
  });

  it('refuses malformed bodies with PayloadError', async () => {
    for (const b of JUNK_BODIES) await assert.rejects(tg.parse(req(b), ctx()), PayloadError);
    const bad = [
      {},
      { update_id: '' },
      { update_id: 1.5, message: {} },
      { update_id: 1, message: 'hello' },
      { update_id: 1, message: { message_id: 1, date: 1 } },
      { update_id: 1, message: { message_id: 1, chat: { id: {} }, date: 1 } },
      { update_id: 1, message: { message_id: 1, chat, from, date: 1, text: 5 } },
      { update_id: 1, message: { message_id: 1, chat, from, date: 1, photo: [null] } },
      { update_id: 1, message: { message_id: 1, chat, from, date: 1, location: { latitude: 'n' } } },
      { update_id: 1, callback_query: { id: 'q' } },
    ];
    for (const b of bad) await assert.rejects(tg.parse(json(b), ctx()), PayloadError, JSON.stringify(b));
  });
});
