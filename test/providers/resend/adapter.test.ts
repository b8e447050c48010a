import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'svix';
import { resendAdapter as rs } from '../../../src/adapters/resend/index.js';
import { ProviderFetchError } from '../../../src/adapters/shared/errors.js';
import { PayloadError } from '../../../src/adapters/contract.js';
import { ctx, json, JUNK_BODIES, NOW, req } from '../../adapters/helpers.js';
import { localServer, sendJson, type LocalServer } from '../../adapters/local-server.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** A request signed by the official svix SDK at `at` (ms). */
function signed(body: string, at = NOW, secret = SECRET, id = 'msg_2a1') {
  const sig = new Webhook(secret).sign(id, new Date(at), body);
  return req(body, { 'content-type': 'application/json', 'svix-id': id, 'svix-timestamp': String(Math.floor(at / 1000)), 'svix-signature': sig });
}

describe('resend verify (svix)', () => {
  it('passes the documented vector with a pinned clock', async () => {
    const r = req('{"test": 2432232314}', {
      'svix-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'svix-timestamp': '1614265330',
      'svix-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    });
    assert.deepEqual(await rs.verify(r, ctx({ verifySecret: SECRET, now: () => 1614265330_000 + 1000 })), { ok: true });
  });

  it('accepts SDK-signed requests and any one of several signatures', async () => {
    const body = '{"type":"email.sent","data":{}}';
    const good = signed(body);
    assert.deepEqual(await rs.verify(good, ctx({ verifySecret: SECRET })), { ok: true });
    const rotated = { ...good, headers: { ...good.headers, 'svix-signature': `v1,bm90IGl0 v2,abc ${good.headers['svix-signature']}` } };
    assert.deepEqual(await rs.verify(rotated, ctx({ verifySecret: SECRET })), { ok: true });
  });

  it('fails closed on stale/future timestamps, wrong secret, tampering and missing headers', async () => {
    const body = '{"type":"email.sent","data":{}}';
    const c = ctx({ verifySecret: SECRET });
    assert.equal((await rs.verify(signed(body, NOW - 6 * 60_000), c)).ok, false, 'stale');
    assert.equal((await rs.verify(signed(body, NOW + 6 * 60_000), c)).ok, false, 'future');
    assert.deepEqual(await rs.verify(signed(body, NOW - 4 * 60_000), c), { ok: true });
    assert.equal((await rs.verify(signed(body, NOW, 'whsec_' + Buffer.from('another key').toString('base64')), c)).ok, false, 'wrong secret');
    assert.equal((await rs.verify({ ...signed(body), body: Buffer.from(body + ' ') }, c)).ok, false, 'tampered');
    const noSig = signed(body);
    delete noSig.headers['svix-signature'];
    assert.equal((await rs.verify(noSig, c)).ok, false, 'missing header');
    assert.equal((await rs.verify(signed(body), ctx())).ok, false, 'no secret');
    const otherId = signed(body);
    otherId.headers['svix-id'] = 'msg_other';
    assert.equal((await rs.verify(otherId, c)).ok, false, 'id is signed');
  });
});

describe('resend parse', () => {
  let api: LocalServer;
  let status = 200;
  before(async () => {
    api = await localServer((r, res) => {
      if (status !== 200) return sendJson(res, status, { statusCode: status, name: 'internal_server_error', message: 'boom' });
      if (r.url !== '/emails/receiving/4ef9a417-02e9-4d39-ad75-9611e0fcc33c') return sendJson(res, 404, { statusCode: 404, name: 'not_found', message: 'Email not found' });
      sendJson(res, 200, {
        object: 'email',
        id: '4ef9a417-02e9-4d39-ad75-9611e0fcc33c',
        subject: 'Re: Order 42',
        text: 'Thanks!\n',
        html: '<p>Thanks!</p>',
        headers: { 'In-Reply-To': '<Root-1@Mail.Example>', References: '<Root-1@Mail.Example> <second@mail.example>', 'Message-ID': '<own@mail.example>' },
      });
    });
  });
  after(() => api.close());

  const received = {
    type: 'email.received',
    created_at: '2024-02-22T23:41:12.126Z',
    data: {
      email_id: '4ef9a417-02e9-4d39-ad75-9611e0fcc33c',
      created_at: '2024-02-22T23:41:11.894719+00:00',
      from: 'Acme Customer <Customer@Example.com>',
      to: ['support@acme.dev', 'sales@acme.dev'],
      cc: ['boss@example.com'],
      bcc: [],
      message_id: '<own@mail.example>',
      subject: 'Re: Order 42',
      attachments: [{ id: 'att_1', filename: 'invoice.pdf', content_type: 'application/pdf', content_disposition: 'attachment' }],
    },
  };
  const c = () => ctx({ apiBaseUrl: api.url, secrets: { api_key: 're_test_123' }, fetch });

  it('parses email.received and fetches the body with the API key', async () => {
    status = 200;
    const [e] = await rs.parse(json(received, { 'svix-id': 'msg_1' }), c());
    assert.ok(e.kind === 'message');
    assert.equal(api.seen.at(-1)?.headers.authorization, 'Bearer re_test_123');
    assert.equal(e.providerEventId, 'msg_1');
    assert.equal(e.providerMessageId, '4ef9a417-02e9-4d39-ad75-9611e0fcc33c');
    assert.equal(e.conversationKey, '<root-1@mail.example>');
    assert.equal(e.channelIdentity, 'support@acme.dev');
    assert.deepEqual(e.from, { id: 'customer@example.com', email: 'customer@example.com', name: 'Acme Customer' });
    assert.equal(e.text, 'Thanks!\n');
    assert.equal(e.occurredAt, '2024-02-22T23:41:12.126Z');
    assert.equal(e.email?.html, '<p>Thanks!</p>');
    assert.deepEqual(e.email?.references, ['<Root-1@Mail.Example>', '<second@mail.example>']);
    assert.equal(e.email?.inReplyTo, '<Root-1@Mail.Example>');
    assert.deepEqual(e.email?.cc, ['boss@example.com']);
    assert.deepEqual(e.email?.attachments, [{ fileName: 'invoice.pdf', contentType: 'application/pdf', providerFileId: 'att_1' }]);
  });

  it('prefers the channel address as identity when it is among the recipients', async () => {
    const [e] = await rs.parse(json(received, { 'svix-id': 'msg_1' }), { ...c(), config: { address: 'Sales@acme.dev' } });
    assert.equal(e.channelIdentity, 'sales@acme.dev');
  });

  it('throws ProviderFetchError (retry) when the body fetch fails', async () => {
    status = 500;
    await assert.rejects(rs.parse(json(received, { 'svix-id': 'msg_1' }), c()), ProviderFetchError);
    status = 200;
    const missing = { ...received, data: { ...received.data, email_id: 'nope' } };
    await assert.rejects(rs.parse(json(missing, { 'svix-id': 'msg_1' }), c()), ProviderFetchError);
    await assert.rejects(rs.parse(json(received, { 'svix-id': 'msg_1' }), ctx({ apiBaseUrl: 'http://127.0.0.1:1', secrets: { api_key: 'k' }, fetch })), ProviderFetchError);
  });

  it('maps delivery events to status events', async () => {
    const cases: [string, string][] = [['email.sent', 'sent'], ['email.delivered', 'delivered'], ['email.delivery_delayed', 'queued'], ['email.bounced', 'failed'], ['email.complained', 'delivered'], ['email.failed', 'failed']];
    for (const [type, want] of cases) {
      const body = { type, created_at: '2024-02-22T23:41:12.126Z', data: { email_id: 'out_1', from: 'Acme <support@acme.dev>', to: ['x@example.com'], subject: 'Hi', bounce: type === 'email.bounced' ? { message: 'mailbox full', type: 'Permanent', subType: 'General' } : undefined } };
      const [e] = await rs.parse(json(body, { 'svix-id': 'msg_9' }), ctx());
      assert.ok(e.kind === 'status', type);
      assert.equal(e.status, want);
      assert.equal(e.providerStatus, type.slice(6));
      assert.equal(e.providerMessageId, 'out_1');
      assert.equal(e.providerEventId, 'msg_9');
      assert.equal(e.channelIdentity, 'support@acme.dev');
      if (type === 'email.bounced') assert.deepEqual(e.error, { message: 'mailbox full' });
    }
    const [other] = await rs.parse(json({ type: 'email.opened', data: { email_id: 'x' } }, { 'svix-id': 'msg_10' }), ctx());
    assert.ok(other.kind === 'unsupported');
    assert.equal(other.providerType, 'email.opened');
  });

  it('refuses malformed bodies with PayloadError', async () => {
    for (const b of JUNK_BODIES) await assert.rejects(rs.parse(req(b, { 'svix-id': 'm' }), ctx()), PayloadError);
    const bad: object[] = [{ data: {} }, { type: 'email.sent' }, { type: 'email.sent', data: [] }, { type: 'email.sent', data: { email_id: 5 } }, { type: 'email.received', data: { email_id: 'x', from: 'a@b', to: [] } }, { type: 'email.received', data: { email_id: 'x', to: ['a@b'] } }];
    for (const b of bad) await assert.rejects(rs.parse(json(b, { 'svix-id': 'm' }), ctx()), PayloadError, JSON.stringify(b));
    await assert.rejects(rs.parse(json({ type: 'email.sent', data: { email_id: 'x' } }), ctx()), PayloadError, 'missing svix-id');
  });
});
