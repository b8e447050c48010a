import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { gmailAdapter as gm } from '../../../src/adapters/gmail/index.js';
import { parseMail } from '../../../src/adapters/gmail/mime.js';
import { ProviderFetchError } from '../../../src/adapters/shared/errors.js';
import { PayloadError } from '../../../src/adapters/contract.js';
import { ctx, json, JUNK_BODIES, NOW, req } from '../../adapters/helpers.js';
import { trustedFetch } from '../../../src/net/ssrf.js';
import { localServer, sendJson, type LocalServer } from '../../adapters/local-server.js';

const AUD = 'https://gw.example.com/webhooks/gmail/ch_1';
const SA = 'gmail-push@proj.iam.gserviceaccount.com';

let google: LocalServer;
let key: CryptoKey;
let otherKey: CryptoKey;

before(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  ({ privateKey: otherKey } = await generateKeyPair('RS256'));
  key = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  google = await localServer((r, res) => sendJson(res, 200, { keys: [jwk] }));
});
after(() => google.close());

async function token(claims: JWTPayload, opts: { signer?: CryptoKey; iat?: number } = {}): Promise<string> {
  const iat = opts.iat ?? Math.floor(NOW / 1000);
  return new SignJWT({ iss: 'https://accounts.google.com', aud: AUD, email: SA, email_verified: true, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .sign(opts.signer ?? key);
}

// The JWKS is fetched through the context's client (src/net), as every request the server makes.
const vctx = (config: Record<string, unknown> = { push_audience: AUD, push_service_account: SA }) => ctx({ config, settings: { jwks_url: `${google.url}/certs` }, fetch: trustedFetch });
const bearer = (t: string) => json({ message: {} }, { authorization: `Bearer ${t}` });

describe('gmail verify (Pub/Sub OIDC)', () => {
  it('accepts a Google-shaped token signed by the served key', async () => {
    assert.deepEqual(await gm.verify(bearer(await token({})), vctx()), { ok: true });
    const t = await new SignJWT({ email: SA, email_verified: true }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer('accounts.google.com').setAudience(AUD).setIssuedAt(NOW / 1000).setExpirationTime(NOW / 1000 + 60).sign(key);
    assert.deepEqual(await gm.verify(bearer(t), vctx()), { ok: true });
  });

  it('fails closed', async () => {
    const c = vctx();
    assert.equal((await gm.verify(bearer(await token({}, { signer: otherKey })), c)).ok, false, 'other key');
    assert.equal((await gm.verify(bearer(await token({ aud: 'https://evil.example' })), c)).ok, false, 'other audience');
    assert.equal((await gm.verify(bearer(await token({ iss: 'https://evil.example' })), c)).ok, false, 'other issuer');
    assert.equal((await gm.verify(bearer(await token({ email: 'someone@else.iam.gserviceaccount.com' })), c)).ok, false, 'other account');
    assert.equal((await gm.verify(bearer(await token({ email_verified: false })), c)).ok, false, 'unverified email');
    assert.equal((await gm.verify(bearer(await token({}, { iat: NOW / 1000 - 7200 })), c)).ok, false, 'expired');
    assert.equal((await gm.verify(json({}), c)).ok, false, 'no header');
    assert.equal((await gm.verify(bearer('not.a.jwt'), c)).ok, false, 'junk token');
    assert.equal((await gm.verify(bearer(await token({})), vctx({}))).ok, false, 'no audience configured');
    const tampered = (await token({})).split('.');
    tampered[1] = Buffer.from(JSON.stringify({ email: SA, email_verified: true, aud: AUD, iss: 'accounts.google.com', exp: NOW / 1000 + 60 })).toString('base64url');
    assert.equal((await gm.verify(bearer(tampered.join('.')), c)).ok, false, 'tampered payload');
  });

  it('takes the audience from settings too, and skips the account check when none is set', async () => {
    const c = ctx({ settings: { jwks_url: `${google.url}/certs`, push_audience: AUD }, fetch: trustedFetch });
    assert.deepEqual(await gm.verify(bearer(await token({ email: 'any@x.iam.gserviceaccount.com' })), c), { ok: true });
  });
});

const RAW_ALT = [
  'From: =?UTF-8?B?Sm9zw6kgR2FyY8OtYQ==?= <Jose@Example.com>',
  'To: "Support, Acme" <support@acme.dev>, other@acme.dev',
  'Cc: boss@example.com',
  'Subject: =?UTF-8?Q?Caf=C3=A9_order?=',
  'Message-ID: <m2@mail.example>',
  'In-Reply-To: <m1@mail.example>',
  'References: <root@mail.example>',
  '\t<m1@mail.example>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="outer"',
  '',
  'preamble',
  '--outer',
  'Content-Type: multipart/alternative; boundary=inner',
  '',
  '--inner',
  'Content-Type: text/plain; charset="UTF-8"',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Caf=C3=A9 for two, =',
  'please.',
  '--inner',
  'Content-Type: text/html; charset=UTF-8',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('<p>Café for two, please.</p>').toString('base64'),
  '--inner--',
  '--outer',
  'Content-Type: application/pdf; name="invoice.pdf"',
  'Content-Disposition: attachment; filename="invoice.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('%PDF-1.4 fake').toString('base64'),
  '--outer--',
  '',
].join('\r\n');

describe('gmail mime', () => {
  it('reads multipart/alternative with QP and base64, RFC 2047 headers and attachments', () => {
    const m = parseMail(Buffer.from(RAW_ALT, 'utf8'));
    assert.equal(m.headers.get('subject'), 'Café order');
    assert.equal(m.headers.get('from'), 'José García <Jose@Example.com>');
    assert.equal(m.headers.get('references'), '<root@mail.example> <m1@mail.example>');
    assert.equal(m.text, 'Café for two, please.');
    assert.equal(m.html, '<p>Café for two, please.</p>');
    assert.deepEqual(m.attachments, [{ fileName: 'invoice.pdf', contentType: 'application/pdf', size: 13 }]);
  });
  it('reads a single-part 8-bit UTF-8 message and latin1 charsets', () => {
    const m = parseMail(Buffer.from('Subject: Grüße\nContent-Type: text/plain; charset=utf-8\n\nSchöne Grüße\n', 'utf8'));
    assert.equal(m.headers.get('subject'), 'Grüße');
    assert.equal(m.text, 'Schöne Grüße\n');
    const l = parseMail(Buffer.concat([Buffer.from('Content-Type: text/plain; charset=iso-8859-1\n\n'), Buffer.from([0x63, 0x61, 0x66, 0xe9])]));
    assert.equal(l.text, 'café');
  });
});

describe('gmail parse', () => {
  let api: LocalServer;
  let historyStatus = 200;
  const listQueries: URLSearchParams[] = [];
  before(async () => {
    api = await localServer((r, res) => {
      const u = new URL(r.url, 'http://x');
      if (u.pathname === '/token') {
        const f = new URLSearchParams(r.body);
        if (f.get('grant_type') !== 'refresh_token' || f.get('refresh_token') !== 'rt-1' || f.get('client_secret') !== 'cs') return sendJson(res, 400, { error: 'invalid_grant' });
        return sendJson(res, 200, { access_token: 'ya29.test', expires_in: 3599, token_type: 'Bearer' });
      }
      if (r.headers.authorization !== 'Bearer ya29.test') return sendJson(res, 401, { error: { code: 401 } });
      if (u.pathname === '/gmail/v1/users/me/history') {
        if (historyStatus !== 200) return sendJson(res, historyStatus, { error: { code: historyStatus, message: 'x' } });
        if (u.searchParams.get('pageToken') === 'p2') return sendJson(res, 200, { history: [{ id: '9', messagesAdded: [{ message: { id: 'gone', threadId: 't9', labelIds: ['INBOX'] } }] }], historyId: '9' });
        return sendJson(res, 200, {
          history: [
            { id: '5', messagesAdded: [{ message: { id: '18f1', threadId: '18f0', labelIds: ['INBOX', 'UNREAD'] } }] },
            { id: '6', messagesAdded: [{ message: { id: 'sent1', threadId: '18f0', labelIds: ['SENT'] } }, { message: { id: '18f1', threadId: '18f0', labelIds: ['INBOX'] } }] },
          ],
          nextPageToken: 'p2',
          historyId: '9',
        });
      }
      if (u.pathname === '/gmail/v1/users/me/messages') {
        listQueries.push(u.searchParams);
        return sendJson(res, 200, { messages: [{ id: '18f1', threadId: '18f0' }, { id: 'gone', threadId: 't9' }], resultSizeEstimate: 2 });
      }
      if (u.pathname === '/gmail/v1/users/me/messages/18f1' && u.searchParams.get('format') === 'raw') {
        return sendJson(res, 200, { id: '18f1', threadId: '18f0', labelIds: ['INBOX'], internalDate: String(NOW - 60_000), raw: Buffer.from(RAW_ALT).toString('base64url') });
      }
      sendJson(res, 404, { error: { code: 404, message: 'Not Found' } });
    });
  });
  after(() => api.close());

  const push = (data: unknown) => json({ message: { data: Buffer.from(JSON.stringify(data)).toString('base64'), messageId: '2070443601311540', publishTime: '2021-02-26T19:13:55.749Z' }, subscription: 'projects/p/subscriptions/s' });
  const pctx = (config: Record<string, unknown> = {}) =>
    ctx({ apiBaseUrl: api.url, fetch, config, settings: { oauth_token_url: `${api.url}/token` }, secrets: { client_id: 'cid', client_secret: 'cs', refresh_token: 'rt-1' } });

  it('reads history from config.history_id, skips sent mail and vanished messages', async () => {
    historyStatus = 200;
    const evs = await gm.parse(push({ emailAddress: 'Support@Acme.dev', historyId: 9 }), pctx({ history_id: '4' }));
    assert.equal(evs.length, 1);
    const [e] = evs;
    assert.ok(e.kind === 'message');
    assert.equal(e.providerEventId, '18f1');
    assert.equal(e.conversationKey, '18f0');
    assert.equal(e.channelIdentity, 'support@acme.dev');
    assert.equal(e.occurredAt, new Date(NOW - 60_000).toISOString());
    assert.deepEqual(e.from, { id: 'jose@example.com', email: 'jose@example.com', name: 'José García' });
    assert.equal(e.text, 'Café for two, please.');
    assert.equal(e.email?.subject, 'Café order');
    assert.deepEqual(e.email?.to, ['support@acme.dev', 'other@acme.dev']);
    assert.deepEqual(e.email?.references, ['<root@mail.example>', '<m1@mail.example>']);
    assert.equal(e.email?.messageId, '<m2@mail.example>');
    assert.equal(e.email?.threadId, '18f0');
    const hist = api.seen.find((s) => s.url.startsWith('/gmail/v1/users/me/history'));
    assert.equal(new URL(hist!.url, 'http://x').searchParams.get('startHistoryId'), '4');
  });

  it('falls back to historyId - 1 without a stored history id', async () => {
    api.seen.length = 0;
    await gm.parse(push({ emailAddress: 'support@acme.dev', historyId: '1000' }), pctx());
    const hist = api.seen.find((s) => s.url.startsWith('/gmail/v1/users/me/history'));
    assert.equal(new URL(hist!.url, 'http://x').searchParams.get('startHistoryId'), '999');
  });

  it('after a stale history (404) reads the inbox from when the cursor last moved; other failures are ProviderFetchError', async () => {
    historyStatus = 404;
    const movedAt = new Date(NOW - 10 * 24 * 3600_000).toISOString();
    const evs = await gm.parse(push({ emailAddress: 'a@b.c', historyId: 7 }), pctx({ history_id: '4', history_at: movedAt }));
    assert.deepEqual(evs.map((e) => [e.kind, e.providerEventId]), [['message', '18f1']], 'the listed message is read; a vanished one is skipped');
    assert.equal((evs[0].raw as { resync?: boolean }).resync, true);
    const q = listQueries.at(-1)!;
    assert.equal(q.get('labelIds'), 'INBOX');
    assert.equal(q.get('q'), `after:${Math.floor((Date.parse(movedAt) - 5 * 60_000) / 1000)}`, 'from five minutes before the cursor moved');
    // Without history_at: one day back.
    await gm.parse(push({ emailAddress: 'a@b.c', historyId: 7 }), pctx());
    assert.equal(listQueries.at(-1)!.get('q'), `after:${Math.floor((NOW - 24 * 3600_000) / 1000)}`, 'a day back');
    historyStatus = 503;
    await assert.rejects(gm.parse(push({ emailAddress: 'a@b.c', historyId: 7 }), pctx()), ProviderFetchError);
    historyStatus = 200;
    const badGrant = { ...pctx(), secrets: { client_id: 'cid', client_secret: 'wrong', refresh_token: 'rt-1' } };
    await assert.rejects(gm.parse(push({ emailAddress: 'a@b.c', historyId: 7 }), badGrant), ProviderFetchError);
  });

  it('refuses malformed pushes with PayloadError', async () => {
    for (const b of JUNK_BODIES) await assert.rejects(gm.parse(req(b), pctx()), PayloadError);
    const bad: object[] = [{}, { message: {} }, { message: { data: 5 } }, { message: { data: Buffer.from('{junk').toString('base64') } }, { message: { data: Buffer.from('[1]').toString('base64') } }];
    for (const b of bad) await assert.rejects(gm.parse(json(b), pctx()), PayloadError, JSON.stringify(b));
    await assert.rejects(gm.parse(push({ emailAddress: 'a@b.c' }), pctx()), PayloadError);
    await assert.rejects(gm.parse(push({ emailAddress: 'a@b.c', historyId: 'abc' }), pctx()), PayloadError);
    await assert.rejects(gm.parse(push({ historyId: 1 }), pctx()), PayloadError);
  });
});
