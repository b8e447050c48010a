import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeResend } from '../../../fakes/resend.js';
import type { FakeResend } from '../../../fakes/resend.js';
import { resendApi } from '../../../src/adapters/resend/api.js';
import { assertNoSecret, closedPortUrl, expectProviderError } from '../../provider-api/helpers.js';

const mail = { from: 'Switchboard <bot@sb.test>', to: ['ann@x.test'], subject: 'Hi', text: 'Hello', html: '<p>Hello</p>' };

describe('resend api client against the fake', () => {
  let rs: FakeResend;
  const api = (over: { apiKey?: string; timeoutMs?: number; baseUrl?: string } = {}) =>
    resendApi({ apiKey: over.apiKey ?? rs.apiKey, baseUrl: over.baseUrl ?? rs.url, timeoutMs: over.timeoutMs });

  before(async () => {
    rs = await startFakeResend();
  });
  after(() => rs.close());

  it('sends with threading headers', async () => {
    const { id } = await api().sendEmail({ ...mail, headers: { 'In-Reply-To': '<a@x.test>', References: '<a@x.test>' }, reply_to: 'inbox@sb.test' });
    const sent = rs.sentEmails('ann@x.test').find((e) => e.id === id);
    assert.equal(sent?.headers['In-Reply-To'], '<a@x.test>');
    assert.deepEqual(sent?.reply_to, ['inbox@sb.test']);
  });

  it('honours the Idempotency-Key', async () => {
    const a = await api().sendEmail(mail, { idempotencyKey: 'msg_1' });
    const b = await api().sendEmail(mail, { idempotencyKey: 'msg_1' });
    assert.equal(a.id, b.id);
    assert.equal(rs.sentEmails().filter((e) => e.idempotencyKey === 'msg_1').length, 1);
    assert.equal(rs.requests.at(-1)?.headers['idempotency-key'], 'msg_1');
    const conflict = await expectProviderError(api().sendEmail({ ...mail, subject: 'Other' }, { idempotencyKey: 'msg_1' }), 'permanent');
    assert.equal(conflict.httpStatus, 409);
    assert.equal(conflict.code, 'invalid_idempotent_request');
  });

  it('validates required fields', async () => {
    const e = await expectProviderError(api().sendEmail({ ...mail, subject: '' }), 'permanent');
    assert.equal(e.code, 'missing_required_field');
    await expectProviderError(api().sendEmail({ ...mail, to: 'not-an-address' }), 'permanent');
  });

  it('fetches received emails', async () => {
    const id = rs.addReceivedEmail({ from: 'ann@x.test', to: ['bot@sb.test'], subject: 'Q', text: 'question?', headers: { 'message-id': '<q1@x.test>' } });
    const got = await api().getReceivedEmail(id);
    assert.equal(got.text, 'question?');
    assert.equal(got.html, null);
    assert.equal(got.headers['message-id'], '<q1@x.test>');
    await expectProviderError(api().getReceivedEmail('nope'), 'not_found');
  });

  it('maps errors to ProviderError kinds', async () => {
    const bad = await expectProviderError(api({ apiKey: 're_wrong' }).sendEmail(mail), 'auth');
    assertNoSecret(bad, 're_wrong');
    rs.failNext({ status: 401 });
    await expectProviderError(api().sendEmail(mail), 'auth');
    rs.failNext({ status: 429, retryAfter: 2 });
    const rl = await expectProviderError(api().sendEmail(mail), 'rate_limited');
    assert.equal(rl.retryAfterMs, 2000);
    rs.failNext({ status: 500 });
    await expectProviderError(api().sendEmail(mail), 'retryable');
    rs.failNext({ timeoutMs: 300 });
    await expectProviderError(api({ timeoutMs: 80 }).sendEmail(mail), 'unknown_outcome');
    // With an idempotency key the same ambiguity is safe to retry, and the retry returns the same id.
    rs.failNext({ timeoutMs: 300 });
    await expectProviderError(api({ timeoutMs: 80 }).sendEmail(mail, { idempotencyKey: 'msg_t' }), 'retryable');
    await new Promise((r) => setTimeout(r, 300));
    const again = await api().sendEmail(mail, { idempotencyKey: 'msg_t' });
    assert.equal(rs.sentEmails().filter((e) => e.idempotencyKey === 'msg_t').length, 1);
    assert.equal(rs.sentEmails().find((e) => e.idempotencyKey === 'msg_t')?.id, again.id);
    await expectProviderError(api({ baseUrl: await closedPortUrl() }).sendEmail(mail), 'retryable');
  });
});

describe('resend fake rate limit', () => {
  it('answers 429 with retry-after beyond the per-second limit', async () => {
    const rs = await startFakeResend({ rateLimitPerSecond: 2 });
    try {
      const api = resendApi({ apiKey: rs.apiKey, baseUrl: rs.url });
      await api.sendEmail(mail);
      await api.sendEmail(mail);
      const e = await expectProviderError(api.sendEmail(mail), 'rate_limited');
      assert.equal(e.retryAfterMs, 1000);
      assert.equal(e.code, 'rate_limit_exceeded');
    } finally {
      await rs.close();
    }
  });
});
