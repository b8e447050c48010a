import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { metaCloudAdapter as meta } from '../../../src/adapters/meta_cloud/index.js';
import { PayloadError } from '../../../src/adapters/contract.js';
import { ctx, json, JUNK_BODIES, req } from '../../adapters/helpers.js';

const APP_SECRET = 'meta-app-secret';
const sign = (body: string | Buffer, secret = APP_SECRET) => 'sha256=' + createHmac('sha256', secret).update(body).digest('hex');
const signed = (body: string) => req(body, { 'X-Hub-Signature-256': sign(body), 'content-type': 'application/json' });

const metadata = { display_phone_number: '15550001111', phone_number_id: '106540352242922' };
const wrap = (value: object, field = 'messages') => ({
  object: 'whatsapp_business_account',
  entry: [{ id: '102290129340398', changes: [{ field, value: { messaging_product: 'whatsapp', metadata, ...value } }] }],
});
const contacts = [{ profile: { name: 'Sheena Nelson' }, wa_id: '16505551234' }];
const msg = (extra: object) => ({ from: '16505551234', id: 'wamid.HBgLMTY1MDM4Nzk0MzkV', timestamp: '1749416383', ...extra });

describe('meta_cloud verify', () => {
  it('accepts a correct signature over the raw bytes (not re-serialised JSON)', async () => {
    const body = '{"object":"whatsapp_business_account",  "entry":[], "x":"\\u00e9"}';
    assert.deepEqual(await meta.verify(signed(body), ctx({ verifySecret: APP_SECRET })), { ok: true });
  });
  it('fails closed: wrong secret, missing header, tampered body, no secret', async () => {
    const body = '{"a":1}';
    const c = ctx({ verifySecret: APP_SECRET });
    assert.equal((await meta.verify(req(body, { 'X-Hub-Signature-256': sign(body, 'other') }), c)).ok, false);
    assert.equal((await meta.verify(req(body), c)).ok, false);
    assert.equal((await meta.verify(req('{"a":2}', { 'X-Hub-Signature-256': sign(body) }), c)).ok, false);
    assert.equal((await meta.verify(req(body, { 'X-Hub-Signature-256': 'sha1=abc' }), c)).ok, false);
    assert.equal((await meta.verify(signed(body), ctx())).ok, false);
  });
});

describe('meta_cloud handshake', () => {
  const get = (q: string) => req('', {}, { method: 'GET', publicUrl: `https://gw.example.com/webhooks/meta?${q}` });
  it('echoes hub.challenge for the right verify token', () => {
    const r = meta.handshake!(get('hub.mode=subscribe&hub.verify_token=vt-1&hub.challenge=1158201444'), ctx({ config: { verify_token: 'vt-1' } }));
    assert.deepEqual(r, { status: 200, contentType: 'text/plain', body: '1158201444' });
  });
  it('refuses wrong tokens, wrong modes and channels without a verify token', () => {
    const c = ctx({ config: { verify_token: 'vt-1' } });
    assert.equal(meta.handshake!(get('hub.mode=subscribe&hub.verify_token=vt-2&hub.challenge=1'), c).status, 403);
    assert.equal(meta.handshake!(get('hub.mode=unsubscribe&hub.verify_token=vt-1&hub.challenge=1'), c).status, 403);
    assert.equal(meta.handshake!(get('hub.mode=subscribe&hub.challenge=1'), c).status, 403);
    assert.equal(meta.handshake!(get('hub.mode=subscribe&hub.verify_token=&hub.challenge=1'), ctx({ config: { verify_token: '' } })).status, 403);
    assert.equal(meta.handshake!(get('hub.mode=subscribe&hub.verify_token=undefined&hub.challenge=1'), ctx()).status, 403);
  });
});

describe('meta_cloud parse', () => {
  it('parses a text message with the contact name, reply context and routing identity', async () => {
    const [e] = await meta.parse(json(wrap({ contacts, messages: [msg({ type: 'text', text: { body: 'hello' }, context: { from: '15550001111', id: 'wamid.prev' } })] })), ctx());
    assert.ok(e.kind === 'message');
    assert.equal(e.providerEventId, 'wamid.HBgLMTY1MDM4Nzk0MzkV');
    assert.equal(e.providerMessageId, 'wamid.HBgLMTY1MDM4Nzk0MzkV');
    assert.equal(e.conversationKey, '16505551234');
    assert.equal(e.channelIdentity, '106540352242922');
    assert.deepEqual(e.from, { id: '16505551234', phone: '16505551234', name: 'Sheena Nelson' });
    assert.equal(e.text, 'hello');
    assert.equal(e.replyToProviderMessageId, 'wamid.prev');
    assert.equal(e.occurredAt, new Date(1749416383 * 1000).toISOString());
  });

  it('splits a batch of entries, changes, messages and statuses into events', async () => {
    const value1 = { contacts, messages: [msg({ id: 'wamid.1', type: 'text', text: { body: 'a' } }), msg({ id: 'wamid.2', type: 'image', image: { id: 'MEDIA1', mime_type: 'image/jpeg', sha256: 'abc', caption: 'pic' } })] };
    const value2 = { statuses: [
      { id: 'wamid.out1', status: 'delivered', timestamp: '1749416400', recipient_id: '16505551234' },
      { id: 'wamid.out2', status: 'failed', timestamp: '1749416401', recipient_id: '16505551234', errors: [{ code: 131047, title: 'Re-engagement message', message: 'Re-engagement message', error_data: { details: 'Message failed to send because more than 24 hours have passed' } }] },
    ] };
    const body = {
      object: 'whatsapp_business_account',
      entry: [
        { id: 'W1', changes: [{ field: 'messages', value: { metadata, ...value1 } }] },
        { id: 'W2', changes: [{ field: 'messages', value: { metadata: { phone_number_id: '999' }, ...value2 } }, { field: 'account_update', value: { event: 'X' } }] },
      ],
    };
    const evs = await meta.parse(json(body), ctx());
    assert.deepEqual(evs.map((e) => e.kind), ['message', 'message', 'status', 'status', 'unsupported']);
    const [, img, delivered, failed, other] = evs;
    assert.ok(img.kind === 'message' && delivered.kind === 'status' && failed.kind === 'status' && other.kind === 'unsupported');
    assert.deepEqual(img.media, [{ kind: 'image', providerFileId: 'MEDIA1', mimeType: 'image/jpeg', sha256: 'abc', caption: 'pic' }]);
    assert.equal(img.text, 'pic');
    assert.equal(delivered.providerEventId, 'wamid.out1:delivered');
    assert.equal(delivered.providerMessageId, 'wamid.out1');
    assert.equal(delivered.channelIdentity, '999');
    assert.equal(delivered.conversationKey, '16505551234');
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error?.code, '131047');
    assert.match(failed.error?.message ?? '', /^Re-engagement message: Message failed/);
    assert.equal(other.providerType, 'account_update');
    // The same body parses to the same ids: a retried POST dedupes.
    const again = await meta.parse(json(body), ctx());
    assert.deepEqual(again.map((e) => e.providerEventId), evs.map((e) => e.providerEventId));
  });

  it('maps every message type', async () => {
    const one = async (m: object) => {
      const [e] = await meta.parse(json(wrap({ messages: [msg(m)] })), ctx());
      return e;
    };
    const audio = await one({ type: 'audio', audio: { id: 'A1', mime_type: 'audio/ogg; codecs=opus', voice: true } });
    assert.ok(audio.kind === 'message');
    assert.equal(audio.media?.[0].kind, 'voice');
    for (const t of ['video', 'document', 'sticker'] as const) {
      const e = await one({ type: t, [t]: { id: 'M-' + t, mime_type: 'x/y', filename: 'f.pdf' } });
      assert.ok(e.kind === 'message');
      assert.equal(e.media?.[0].kind, t);
      assert.equal(e.media?.[0].providerFileId, 'M-' + t);
    }
    const loc = await one({ type: 'location', location: { latitude: 37.48, longitude: -122.14, name: 'HQ', address: '1 Hacker Way' } });
    assert.ok(loc.kind === 'message');
    assert.deepEqual(loc.location, { latitude: 37.48, longitude: -122.14, name: 'HQ', address: '1 Hacker Way' });
    const card = await one({ type: 'contacts', contacts: [{ name: { formatted_name: 'Jo Doe', first_name: 'Jo' }, phones: [{ phone: '+1 555', wa_id: '1555', type: 'HOME' }], emails: [{ email: 'jo@x.io' }] }] });
    assert.ok(card.kind === 'message');
    assert.deepEqual(card.contacts, [{ name: 'Jo Doe', phones: ['+1 555'], emails: ['jo@x.io'] }]);
    const btn = await one({ type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: 'yes', title: 'Yes' } } });
    assert.ok(btn.kind === 'message');
    assert.deepEqual(btn.interactive, { id: 'yes', title: 'Yes' });
    const list = await one({ type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: 'r1', title: 'Row', description: 'd' } } });
    assert.ok(list.kind === 'message');
    assert.deepEqual(list.interactive, { id: 'r1', title: 'Row' });
    const tb = await one({ type: 'button', button: { payload: 'STOP', text: 'Stop promotions' }, context: { from: 'x', id: 'wamid.tpl' } });
    assert.ok(tb.kind === 'message');
    assert.deepEqual(tb.interactive, { id: 'STOP', title: 'Stop promotions' });
    assert.equal(tb.replyToProviderMessageId, 'wamid.tpl');
    const react = await one({ type: 'reaction', reaction: { message_id: 'wamid.target', emoji: '\u{1F44D}' } });
    assert.ok(react.kind === 'message');
    assert.deepEqual(react.reaction, { emoji: '\u{1F44D}', targetProviderMessageId: 'wamid.target' });
    const unknown = await one({ type: 'unsupported', errors: [{ code: 131051 }] });
    assert.ok(unknown.kind === 'unsupported');
    assert.equal(unknown.providerType, 'message.unsupported');
    assert.equal(unknown.providerEventId, 'wamid.HBgLMTY1MDM4Nzk0MzkV');
  });

  it('keeps other objects as unsupported', async () => {
    const [e] = await meta.parse(json({ object: 'page', entry: [] }), ctx());
    assert.ok(e.kind === 'unsupported');
    assert.equal(e.providerType, 'page');
  });

  it('refuses malformed bodies with PayloadError', async () => {
    for (const b of JUNK_BODIES) await assert.rejects(meta.parse(req(b), ctx()), PayloadError);
    const bad: object[] = [
      { object: 'whatsapp_business_account' },
      { object: 'whatsapp_business_account', entry: {} },
      { object: 'whatsapp_business_account', entry: [{ changes: [{ field: 'messages', value: { messages: [] } }] }] },
      wrap({ messages: [{ id: 'w', from: '1', type: 'text' }] }),
      wrap({ messages: [{ id: 'w', from: '1', type: 'text', text: { body: 5 } }] }),
      wrap({ messages: [{ from: '1', type: 'text', text: { body: 'x' } }] }),
      wrap({ messages: [{ id: 'w', from: '1', type: 'image', image: {} }] }),
      wrap({ messages: 'nope' }),
      wrap({ statuses: [{ id: 'w' }] }),
      wrap({ contacts: [{ profile: { name: 7 }, wa_id: '1' }] }),
    ];
    for (const b of bad) await assert.rejects(meta.parse(json(b), ctx()), PayloadError, JSON.stringify(b));
  });
});
