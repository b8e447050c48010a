import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import twilio from 'twilio';
import { twilioAdapter as tw } from '../../../src/adapters/twilio/index.js';
import { PayloadError } from '../../../src/adapters/contract.js';
import { ctx, NOW, req } from '../../adapters/helpers.js';

const TOKEN = 'twilio-auth-token-0123456789';
const URL_ = 'https://gw.example.com/webhooks/twilio/ch_1?x=1';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

function formBody(params: Record<string, string | string[]>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const one of [v].flat()) q.append(k, one);
  return q.toString();
}

/** A form webhook signed by the official SDK for `signedUrl`, delivered at `publicUrl`. */
function signedForm(params: Record<string, string | string[]>, signedUrl = URL_, publicUrl = signedUrl, token = TOKEN) {
  const sig = twilio.getExpectedTwilioSignature(token, signedUrl, params);
  return req(formBody(params), { ...FORM, 'X-Twilio-Signature': sig }, { publicUrl });
}

const inbound = { MessageSid: 'SM1234567890abcdef', AccountSid: 'AC1', From: '+14155550100', To: '+14155550199', Body: 'Hello there', NumMedia: '0', NumSegments: '1', SmsStatus: 'received' };

describe('twilio verify', () => {
  it('passes the documented test vector', async () => {
    const params = { CallSid: 'CA1234567890ABCDE', Caller: '+12349013030', Digits: '1234', From: '+12349013030', To: '+18005551212' };
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    const r = req(formBody(params), { ...FORM, 'X-Twilio-Signature': '0/KCTR6DLpKmkAf8muzZqo1nDgQ=' }, { publicUrl: url });
    assert.deepEqual(await tw.verify(r, ctx({ verifySecret: '12345' })), { ok: true });
    assert.equal(twilio.validateRequest('12345', '0/KCTR6DLpKmkAf8muzZqo1nDgQ=', url, params), true);
  });

  it('accepts SDK-signed requests, including repeated keys and odd characters', async () => {
    const c = ctx({ verifySecret: TOKEN });
    assert.deepEqual(await tw.verify(signedForm(inbound), c), { ok: true });
    const odd = { ...inbound, Body: 'caf\u00e9 + 100% & <b> \u{1F600}', MediaUrl: ['https://b.example/2', 'https://a.example/1'] };
    assert.deepEqual(await tw.verify(signedForm(odd), c), { ok: true });
  });

  it('accepts the URL with the default port added or removed', async () => {
    const c = ctx({ verifySecret: TOKEN });
    assert.deepEqual(await tw.verify(signedForm(inbound, 'https://gw.example.com:443/webhooks/t', 'https://gw.example.com/webhooks/t'), c), { ok: true });
    assert.deepEqual(await tw.verify(signedForm(inbound, 'https://gw.example.com/webhooks/t', 'https://gw.example.com:443/webhooks/t'), c), { ok: true });
    assert.deepEqual(await tw.verify(signedForm(inbound, 'http://gw.example.com:80/t', 'http://gw.example.com/t'), c), { ok: true });
    assert.equal((await tw.verify(signedForm(inbound, 'https://gw.example.com:8443/t', 'https://gw.example.com/t'), c)).ok, false);
  });

  it('verifies the JSON-body variant (bodySHA256)', async () => {
    const body = '{"ProductName":"Studio","Payload":{"x":1}}';
    const hash = createHash('sha256').update(body).digest('hex');
    const url = `https://gw.example.com/webhooks/twilio?bodySHA256=${hash}`;
    const sig = twilio.getExpectedTwilioSignature(TOKEN, url, {});
    const c = ctx({ verifySecret: TOKEN });
    assert.deepEqual(await tw.verify(req(body, { 'content-type': 'application/json', 'X-Twilio-Signature': sig }, { publicUrl: url }), c), { ok: true });
    assert.equal(twilio.validateRequestWithBody(TOKEN, sig, url, body), true);
    const tampered = req(body.replace('1', '2'), { 'content-type': 'application/json', 'X-Twilio-Signature': sig }, { publicUrl: url });
    assert.equal((await tw.verify(tampered, c)).ok, false);
  });

  it('fails closed', async () => {
    const good = signedForm(inbound);
    assert.equal((await tw.verify(good, ctx())).ok, false, 'no token configured');
    assert.equal((await tw.verify(good, ctx({ verifySecret: 'other' }))).ok, false, 'wrong token');
    assert.equal((await tw.verify({ ...good, headers: { ...FORM } }, ctx({ verifySecret: TOKEN }))).ok, false, 'missing header');
    const tampered = { ...good, body: Buffer.from(formBody({ ...inbound, Body: 'Hello therE' })) };
    assert.equal((await tw.verify(tampered, ctx({ verifySecret: TOKEN }))).ok, false, 'tampered body');
    assert.equal((await tw.verify({ ...good, publicUrl: URL_ + '&y=2' }, ctx({ verifySecret: TOKEN }))).ok, false, 'other URL');
  });
});

describe('twilio parse', () => {
  const parse = (p: Record<string, string>) => tw.parse(req(formBody(p), FORM), ctx());

  it('parses an inbound SMS with media', async () => {
    const [e] = await parse({ ...inbound, NumMedia: '2', MediaUrl0: 'https://api.twilio.com/m/ME1', MediaContentType0: 'image/jpeg', MediaUrl1: 'https://api.twilio.com/m/ME2', MediaContentType1: 'application/pdf' });
    assert.ok(e.kind === 'message');
    assert.equal(e.providerEventId, 'SM1234567890abcdef');
    assert.equal(e.providerMessageId, 'SM1234567890abcdef');
    assert.equal(e.conversationKey, '+14155550100');
    assert.equal(e.channelIdentity, '+14155550199');
    assert.equal(e.text, 'Hello there');
    assert.equal(e.occurredAt, new Date(NOW).toISOString());
    assert.deepEqual(e.media, [
      { kind: 'image', url: 'https://api.twilio.com/m/ME1', mimeType: 'image/jpeg' },
      { kind: 'document', url: 'https://api.twilio.com/m/ME2', mimeType: 'application/pdf' },
    ]);
  });

  it('strips the whatsapp: prefix for keys and identities', async () => {
    const [e] = await parse({ ...inbound, From: 'whatsapp:+14155550100', To: 'whatsapp:+14155238886', ProfileName: 'Ana', WaId: '14155550100' });
    assert.ok(e.kind === 'message');
    assert.equal(e.conversationKey, '+14155550100');
    assert.equal(e.channelIdentity, '+14155238886');
    assert.deepEqual(e.from, { id: '+14155550100', phone: '+14155550100', name: 'Ana' });
  });

  it('maps message status callbacks', async () => {
    const cases: [string, string][] = [['queued', 'queued'], ['sending', 'queued'], ['accepted', 'queued'], ['sent', 'sent'], ['delivered', 'delivered'], ['read', 'read'], ['failed', 'failed'], ['undelivered', 'failed']];
    for (const [s, want] of cases) {
      const [e] = await parse({ MessageSid: 'SMout', MessageStatus: s, SmsStatus: s, From: '+14155550199', To: 'whatsapp:+14155550100', AccountSid: 'AC1' });
      assert.ok(e.kind === 'status', s);
      assert.equal(e.status, want);
      assert.equal(e.providerStatus, s);
      assert.equal(e.providerEventId, `SMout:${s}`);
      assert.equal(e.providerMessageId, 'SMout');
      assert.equal(e.conversationKey, '+14155550100');
      assert.equal(e.channelIdentity, '+14155550199');
    }
    const [failed] = await parse({ MessageSid: 'SMx', MessageStatus: 'undelivered', ErrorCode: '30003', From: '+1', To: '+2' });
    assert.ok(failed.kind === 'status');
    assert.deepEqual(failed.error, { code: '30003' });
    const [odd] = await parse({ MessageSid: 'SMx', MessageStatus: 'warp', From: '+1', To: '+2' });
    assert.ok(odd.kind === 'unsupported');
    assert.equal(odd.providerType, 'message_status.warp');
  });

  it('maps voice webhooks to call events', async () => {
    const call = { CallSid: 'CA42', AccountSid: 'AC1', From: '+14155550100', To: '+14155550199', Direction: 'inbound' };
    const [ringing] = await parse({ ...call, CallStatus: 'ringing' });
    assert.ok(ringing.kind === 'call');
    assert.equal(ringing.phase, 'started');
    assert.equal(ringing.providerEventId, 'CA42:ringing');
    assert.equal(ringing.conversationKey, 'CA42');
    assert.equal(ringing.channelIdentity, '+14155550199');
    assert.equal(ringing.direction, 'inbound');
    for (const s of ['completed', 'busy', 'no-answer', 'failed', 'canceled']) {
      const [e] = await parse({ ...call, CallStatus: s, CallDuration: '17', Timestamp: 'Wed, 01 May 2024 11:59:00 +0000' });
      assert.ok(e.kind === 'call');
      assert.equal(e.phase, 'ended', s);
      assert.equal(e.durationMs, 17000);
      assert.equal(e.occurredAt, '2024-05-01T11:59:00.000Z');
    }
    const [out] = await parse({ ...call, Direction: 'outbound-api', CallStatus: 'in-progress' });
    assert.ok(out.kind === 'call');
    assert.equal(out.channelIdentity, '+14155550100');
    assert.equal(out.direction, 'outbound');
  });

  it('turns a Gather speech result into a message in the call conversation', async () => {
    const gather = { CallSid: 'CA42', AccountSid: 'AC1', From: '+14155550100', To: '+14155550199', Direction: 'inbound', CallStatus: 'in-progress', SpeechResult: 'I need help', Confidence: '0.92' };
    const [e] = await parse(gather);
    assert.ok(e.kind === 'message');
    assert.equal(e.text, 'I need help');
    assert.equal(e.conversationKey, 'CA42');
    assert.equal(e.channelIdentity, '+14155550199');
    assert.match(e.providerEventId, /^CA42:speech:[0-9a-f]{32}$/);
    const [again] = await parse(gather);
    assert.equal(again.providerEventId, e.providerEventId);
    const [next] = await parse({ ...gather, SpeechResult: 'thanks' });
    assert.notEqual(next.providerEventId, e.providerEventId);
  });

  it('acks with empty TwiML', () => {
    assert.deepEqual(tw.ack!(), { status: 200, contentType: 'text/xml', body: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>' });
  });

  it('refuses malformed bodies with PayloadError', async () => {
    const bad: (string | Buffer)[] = [
      '',
      'hello',
      Buffer.from([0xff, 0x00, 0x3d, 0x26, 0x81]),
      formBody({ Body: 'no sid' }),
      formBody({ MessageSid: 'SM1', Body: 'no from' }),
      formBody({ ...inbound, NumMedia: 'lots' }),
      formBody({ ...inbound, NumMedia: '1' }),
      formBody({ CallSid: 'CA1' }),
    ];
    for (const b of bad) await assert.rejects(tw.parse(req(b, FORM), ctx()), PayloadError, String(b));
    await assert.rejects(tw.parse(req('{"MessageSid":', { 'content-type': 'application/json' }), ctx()), PayloadError);
    await assert.rejects(tw.parse(req('[1]', { 'content-type': 'application/json' }), ctx()), PayloadError);
  });
});
