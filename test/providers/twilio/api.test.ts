import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeTwilio } from '../../../fakes/twilio.js';
import type { FakeTwilio } from '../../../fakes/twilio.js';
import { twilioApi } from '../../../src/adapters/twilio/api.js';
import { assertNoSecret, closedPortUrl, expectProviderError } from '../../provider-api/helpers.js';

describe('twilio api client against the fake', () => {
  let tw: FakeTwilio;
  const api = (over: { authToken?: string; timeoutMs?: number; baseUrl?: string } = {}) =>
    twilioApi({ accountSid: tw.accountSid, authToken: over.authToken ?? tw.authToken, baseUrl: over.baseUrl ?? tw.url, timeoutMs: over.timeoutMs });

  before(async () => {
    tw = await startFakeTwilio();
  });
  after(() => tw.close());

  it('sends SMS with media and status callback as a form post', async () => {
    const msg = await api().sendMessage({ from: tw.phoneNumber, to: '+14155550100', body: 'hello', mediaUrls: ['https://e.com/a.png', 'https://e.com/b.png'], statusCallback: 'https://sb.example/status' });
    assert.match(msg.sid, /^SM[0-9a-f]{32}$/);
    assert.equal(msg.status, 'queued');
    const sent = tw.sentMessages('+14155550100')[0];
    assert.deepEqual(sent.media_urls, ['https://e.com/a.png', 'https://e.com/b.png']);
    assert.equal(sent.status_callback, 'https://sb.example/status');
    assert.equal(tw.requests.at(-1)?.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.deepEqual(await api().fetchMessage(msg.sid).then((m) => m.body), 'hello');
  });

  it('sends through a messaging service', async () => {
    const msg = await api().sendMessage({ messagingServiceSid: 'MG' + 'a'.repeat(32), to: '+14155550101', body: 'x' });
    assert.equal(msg.messaging_service_sid, 'MG' + 'a'.repeat(32));
  });

  it('validates like Twilio', async () => {
    const long = await expectProviderError(api().sendMessage({ from: tw.phoneNumber, to: '+14155550100', body: 'x'.repeat(1601) }), 'permanent');
    assert.equal(long.code, '21617');
    assert.equal((await expectProviderError(api().sendMessage({ from: tw.phoneNumber, to: 'nope', body: 'x' }), 'permanent')).code, '21211');
    assert.equal((await expectProviderError(api().sendMessage({ to: '+14155550100', body: 'x' }), 'permanent')).code, '21603');
    assert.equal((await expectProviderError(api().sendMessage({ from: '+19999999999', to: '+14155550100', body: 'x' }), 'permanent')).code, '21606');
    tw.optOut('+14155550199');
    assert.equal((await expectProviderError(api().sendMessage({ from: tw.phoneNumber, to: '+14155550199', body: 'x' }), 'permanent')).code, '21610');
    tw.closeWindow('whatsapp:+14155550198');
    const win = await expectProviderError(api().sendMessage({ from: `whatsapp:${tw.phoneNumber}`, to: 'whatsapp:+14155550198', body: 'x' }), 'permanent');
    assert.equal(win.code, '63016');
    assert.equal(win.windowClosed, true);
  });

  it('provisions a number by lookup', async () => {
    const n = await api().updateIncomingNumber({ phoneNumber: tw.phoneNumber, smsUrl: 'https://sb.example/sms', voiceUrl: 'https://sb.example/voice' });
    assert.equal(n.sms_url, 'https://sb.example/sms');
    assert.equal(tw.incomingNumbers()[0].voice_url, 'https://sb.example/voice');
    assert.equal(await api().findIncomingNumber('+10000000000'), undefined);
    await expectProviderError(api().updateIncomingNumber({ phoneNumber: '+10000000000', smsUrl: 'x' }), 'not_found');
  });

  it('maps errors to ProviderError kinds', async () => {
    const auth = await expectProviderError(api({ authToken: 'wrong-token' }).sendMessage({ from: tw.phoneNumber, to: '+14155550100', body: 'x' }), 'auth');
    assert.equal(auth.code, '20003');
    assertNoSecret(auth, 'wrong-token', tw.authToken);

    tw.failNext({ status: 429, retryAfter: 3 });
    const tooMany = await expectProviderError(api().sendMessage({ from: tw.phoneNumber, to: '+14155550100', body: 'x' }), 'rate_limited');
    assert.equal(tooMany.code, '20429');
    assert.equal(tooMany.retryAfterMs, 3000);

    tw.failNext({ status: 500 });
    await expectProviderError(api().sendMessage({ from: tw.phoneNumber, to: '+14155550100', body: 'x' }), 'retryable');
    tw.failNext({ timeoutMs: 300 });
    await expectProviderError(api({ timeoutMs: 80 }).sendMessage({ from: tw.phoneNumber, to: '+14155550100', body: 'x' }), 'unknown_outcome');
    tw.failNext({ dropConnection: true });
    await expectProviderError(api().sendMessage({ from: tw.phoneNumber, to: '+14155550100', body: 'x' }), 'unknown_outcome');
    await expectProviderError(api({ baseUrl: await closedPortUrl() }).sendMessage({ from: tw.phoneNumber, to: '+14155550100', body: 'x' }), 'retryable');
  });
});
