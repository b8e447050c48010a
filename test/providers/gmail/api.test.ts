import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeGmail } from '../../../fakes/gmail.js';
import type { FakeGmail } from '../../../fakes/gmail.js';
import { parseMail } from '../../../fakes/mail-parse.js';
import { buildRfc2822, clearGmailTokenCache, gmailApi, toBase64Url } from '../../../src/adapters/gmail/api.js';
import { assertNoSecret, closedPortUrl, expectProviderError } from '../../provider-api/helpers.js';

describe('gmail api client against the fake', () => {
  let gm: FakeGmail;
  const api = (over: { refreshToken?: string; timeoutMs?: number; baseUrl?: string; tokenUrl?: string } = {}) =>
    gmailApi({ ...gm.credentials, ...over, baseUrl: over.baseUrl ?? gm.url, tokenUrl: over.tokenUrl ?? gm.tokenUrl });

  before(async () => {
    gm = await startFakeGmail();
  });
  beforeEach(() => clearGmailTokenCache());
  after(() => gm.close());

  it('caches the access token per refresh token', async () => {
    const before = gm.tokensIssued();
    const [a, b] = await Promise.all([api().getAccessToken(), api().getAccessToken()]);
    assert.equal(a, b);
    assert.equal(await api().getAccessToken(), a);
    assert.equal(gm.tokensIssued(), before + 1);
    const tokenReq = gm.requests.find((r) => r.path === '/token');
    assert.equal((tokenReq?.body as Record<string, string>).grant_type, 'refresh_token');
  });

  it('refreshes again once the token nears expiry', async () => {
    let now = Date.now();
    const opts = { ...gm.credentials, baseUrl: gm.url, tokenUrl: gm.tokenUrl, now: () => now };
    const first = await gmailApi(opts).getAccessToken();
    now += 3599_000 - 30_000;
    assert.notEqual(await gmailApi(opts).getAccessToken(), first);
  });

  it('watch, history, get raw, reply in thread, stop', async () => {
    const w = await api().watch({ topicName: 'projects/p/topics/gmail', labelIds: ['INBOX'] });
    assert.ok(Number(w.expiration) > Date.now());
    assert.equal(gm.watchState()?.topicName, 'projects/p/topics/gmail');
    await expectProviderError(api().watch({ topicName: 'gmail' }), 'permanent');

    const inbound = gm.addMessage({ rfc2822: 'From: Ann <ann@x.test>\r\nTo: owner@gmail.test\r\nSubject: Question\r\nMessage-ID: <q1@x.test>\r\n\r\nHow?' });
    const page = await api().listHistory({ startHistoryId: w.historyId, historyTypes: ['messageAdded'] });
    assert.equal(page.history.length, 1);
    assert.equal(page.history[0].messagesAdded?.[0].message.id, inbound.id);
    assert.equal(page.historyId, inbound.historyId);

    const msg = await api().getMessageRaw(inbound.id);
    assert.match(Buffer.from(msg.raw, 'base64url').toString('utf8'), /Subject: Question/);

    const raw = toBase64Url(buildRfc2822({ from: 'owner@gmail.test', to: 'Ann <ann@x.test>', subject: 'Re: Question', text: 'Like this.', html: '<p>Like this.</p>', inReplyTo: '<q1@x.test>', references: '<q1@x.test>' }));
    const sent = await api().send({ raw, threadId: inbound.threadId });
    assert.equal(sent.threadId, inbound.threadId);
    assert.deepEqual(sent.labelIds, ['SENT']);
    assert.equal(parseMail(gm.sentMessages()[0].rfc2822).headers['in-reply-to'], '<q1@x.test>');

    await api().stop();
    assert.equal(gm.watchState(), undefined);
  });

  it('maps errors to ProviderError kinds', async () => {
    await expectProviderError(api().getMessageRaw('nope'), 'not_found');
    gm.expireHistoryBefore('999999');
    await expectProviderError(api().listHistory({ startHistoryId: '1' }), 'not_found');
    gm.expireHistoryBefore('0');

    const revoked = await expectProviderError(api({ refreshToken: '1//unknown' }).getAccessToken(), 'auth');
    assert.equal(revoked.code, 'invalid_grant');
    assertNoSecret(revoked, '1//unknown', gm.credentials.clientSecret);

    // A revoked access token is replaced once, transparently.
    await api().getAccessToken();
    gm.revokeAccessTokens();
    const page = await api().listHistory({ startHistoryId: '1' });
    assert.ok(page.historyId);

    await api().getAccessToken();
    gm.failNext({ status: 429, retryAfter: 4, match: '/gmail/' });
    const rl = await expectProviderError(api().listHistory({ startHistoryId: '1' }), 'rate_limited');
    assert.equal(rl.retryAfterMs, 4000);
    gm.failNext({ status: 403, code: 'userRateLimitExceeded', match: '/gmail/' });
    await expectProviderError(api().listHistory({ startHistoryId: '1' }), 'rate_limited');
    gm.failNext({ status: 500, match: '/gmail/' });
    await expectProviderError(api().send({ raw: toBase64Url('To: a@x.test\r\nSubject: s\r\n\r\nx') }), 'retryable');
    gm.failNext({ timeoutMs: 300, match: '/gmail/' });
    await expectProviderError(api({ timeoutMs: 80 }).send({ raw: toBase64Url('To: a@x.test\r\nSubject: s\r\n\r\nx') }), 'unknown_outcome');
    await expectProviderError(api({ tokenUrl: await closedPortUrl() }).getAccessToken(), 'retryable');
  });
});

describe('buildRfc2822', () => {
  const date = new Date(Date.UTC(2026, 10, 26, 12, 30, 5));

  it('builds multipart/alternative with CRLF, base64 UTF-8 parts and threading headers', () => {
    const text = 'Hallo Jürgen,\nline two 👋';
    const html = '<p>Hallo Jürgen,</p>\n<p>line two 👋</p>';
    const msg = buildRfc2822({
      from: 'Switchboard Bot <bot@sb.test>', to: ['Ann <ann@x.test>', 'bob@x.test'], cc: 'cc@x.test',
      subject: 'Re: Grüße aus Köln — ein ziemlich langer Betreff, der mehrere encoded-words braucht 🎉',
      text, html, inReplyTo: 'q1@x.test', references: ['<q0@x.test>', '<q1@x.test>'], messageId: '<m1@sb.test>', date,
    });
    assert.ok(!/(^|[^\r])\n/.test(msg), 'every line ends in CRLF');
    const headerBlock = msg.slice(0, msg.indexOf('\r\n\r\n'));
    assert.ok(/^[\x00-\x7f]*$/.test(headerBlock), 'headers are ASCII');
    for (const line of headerBlock.split('\r\n')) assert.ok(line.length <= 78, `header line too long: ${line}`);
    for (const line of msg.split('\r\n')) assert.ok(line.length <= 998);

    const p = parseMail(msg);
    assert.equal(p.headers.subject, 'Re: Grüße aus Köln — ein ziemlich langer Betreff, der mehrere encoded-words braucht 🎉');
    assert.match(p.rawHeaders.subject, /^=\?UTF-8\?B\?/);
    assert.equal(p.headers.from, 'Switchboard Bot <bot@sb.test>');
    assert.equal(p.headers.to, 'Ann <ann@x.test>, bob@x.test');
    assert.equal(p.headers.cc, 'cc@x.test');
    assert.equal(p.headers['message-id'], '<m1@sb.test>');
    assert.equal(p.headers['in-reply-to'], '<q1@x.test>');
    assert.equal(p.headers.references, '<q0@x.test> <q1@x.test>');
    assert.equal(p.headers.date, 'Thu, 26 Nov 2026 12:30:05 +0000');
    assert.equal(p.headers['mime-version'], '1.0');
    assert.equal(p.contentType, 'multipart/alternative');
    assert.equal(p.parts.length, 2);
    assert.equal(p.parts[0].contentType, 'text/plain');
    assert.match(p.parts[0].rawHeaders['content-type'], /charset=UTF-8/);
    assert.equal(p.parts[0].body, text.replace(/\n/g, '\r\n'));
    assert.equal(p.parts[1].contentType, 'text/html');
    assert.equal(p.parts[1].body, html.replace(/\n/g, '\r\n'));
  });

  it('encodes non-ASCII display names, quotes specials, keeps ASCII subjects readable', () => {
    const p = parseMail(buildRfc2822({ from: 'Jürgen Müller <j@x.test>', to: 'Doe, John <jd@x.test>', subject: 'Plain subject', text: 'x', date }));
    assert.match(p.rawHeaders.from, /^=\?UTF-8\?B\?.+\?= <j@x\.test>$/);
    assert.equal(p.headers.from, 'Jürgen Müller <j@x.test>');
    assert.equal(p.rawHeaders.to, '"Doe, John" <jd@x.test>');
    assert.equal(p.rawHeaders.subject, 'Plain subject');
    assert.equal(p.contentType, 'text/plain');
    assert.equal(p.body, 'x');
    assert.match(p.headers['message-id'], /^<[0-9a-f-]+@x\.test>$/);
  });

  it('refuses header injection', () => {
    assert.throws(() => buildRfc2822({ from: 'a@x.test', to: 'b@x.test', subject: 'Hi\r\nBcc: evil@x.test', text: 'x' }), /line break/);
    assert.throws(() => buildRfc2822({ from: 'a@x.test', to: 'b@x.test\nBcc: evil@x.test', subject: 'Hi', text: 'x' }), /line break/);
  });
});
