/**
 * The Gmail kit for the provider contract suite (test/contract/): a mailbox on the fake Gmail API,
 * Pub/Sub pushes carrying a Google-signed OIDC token (a local JWKS stands in for Google's keys),
 * and (outbound) the fake's messages.send, behind its OAuth token endpoint.
 */
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, importPKCS8, SignJWT, type JWK } from 'jose';
import { startFakeGmail, type FakeGmail } from '../../../fakes/gmail.js';
import { parseMail } from '../../../fakes/mail-parse.js';
import { createChannel, createConnection, type Kit, type KitContext, type OutboundKit } from '../../contract/kit.js';

/** A local JWKS endpoint plus an RS256 signer: stands in for Google's OIDC keys. */
export interface GoogleKeys {
  jwksUrl: string;
  sign(claims: Record<string, unknown>, opts?: { iat?: number; otherKey?: boolean }): Promise<string>;
  close(): Promise<void>;
}

export async function startGoogleKeys(): Promise<GoogleKeys> {
  const mk = () => generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const good = mk();
  const other = mk();
  const key = await importPKCS8(good.privateKey, 'RS256', { extractable: true });
  const otherKey = await importPKCS8(other.privateKey, 'RS256');
  const jwk: JWK = { ...(await exportJWK(createPublicKey(good.publicKey))), kid: 'k1', alg: 'RS256', use: 'sig' };
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/certs`;
  void key;
  return {
    jwksUrl: url,
    async sign(claims, opts = {}) {
      const iat = opts.iat ?? Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: 'https://accounts.google.com', email_verified: true, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuedAt(iat)
        .setExpirationTime(iat + 3600)
        .sign(opts.otherKey ? otherKey : key);
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

export async function gmailKit({ s, instanceId, tag = '' }: KitContext, opts: { viaAccount?: boolean; google?: GoogleKeys } = {}): Promise<Kit & { fake: FakeGmail; address: string; connectionId: string }> {
  const address = `owner${tag}-${randomBytes(3).toString('hex')}@gmail.test`;
  const fake = await startFakeGmail({ emailAddress: address });
  const google = opts.google ?? (await startGoogleKeys());
  const audience = `https://sb.example/push/${randomBytes(4).toString('hex')}`;
  const sa = 'gmail-push@proj.iam.gserviceaccount.com';
  const conn = await createConnection(s, instanceId, {
    provider: 'gmail',
    secrets: { client_id: fake.credentials.clientId, client_secret: fake.credentials.clientSecret, refresh_token: fake.credentials.refreshToken },
    settings: { api_base_url: fake.url, oauth_token_url: fake.tokenUrl, jwks_url: google.jwksUrl, push_audience: audience, push_service_account: sa },
  });
  const ch = await createChannel(s, instanceId, { channel_type: 'email', provider: 'gmail', external_identifier: address, connection_id: conn.id });
  const url = opts.viaAccount ? conn.webhook_url : ch.webhook_url;
  const added = new Map<string, { historyId: string }>();
  const threads = new Map<number, string>();
  const push = (n: number, conv = 1) => {
    const key = `${n}/${conv}`;
    let m = added.get(key);
    if (!m) {
      const thread = threads.get(conv);
      const r = fake.addMessage({ rfc2822: `From: Customer ${conv} <c${conv}@example.com>\r\nTo: ${address}\r\nSubject: Thread ${conv}\r\nMessage-ID: <g${n}.${conv}.${tag}@example.com>\r\n\r\nhello ${n}`, ...(thread ? { threadId: thread } : {}) });
      if (!thread) threads.set(conv, r.threadId);
      m = { historyId: r.historyId };
      added.set(key, m);
    }
    const data = Buffer.from(JSON.stringify({ emailAddress: address, historyId: Number(m.historyId) })).toString('base64');
    return JSON.stringify({ message: { data, messageId: `ps-${n}-${conv}`, publishTime: new Date().toISOString() }, subscription: 'projects/p/subscriptions/s' });
  };
  const withToken = async (body: string | Buffer, claims: Record<string, unknown> = {}, o: { iat?: number; otherKey?: boolean } = {}, ct = 'application/json') => ({
    url,
    headers: { 'content-type': ct, authorization: `Bearer ${await google.sign({ aud: audience, email: sa, ...claims }, o)}` },
    body,
  });
  return {
    provider: 'gmail', channelId: ch.id, url, format: 'json', fake, address, connectionId: conn.id,
    valid: async (n, conv) => withToken(push(n, conv)),
    badSignature: async (n) => withToken(push(n), {}, { otherKey: true }),
    missingSignature: async (n) => ({ url, headers: { 'content-type': 'application/json' }, body: push(n) }),
    staleSignature: async (n) => withToken(push(n), {}, { iat: Math.floor(Date.now() / 1000) - 7200 }),
    signRaw: async (body, ct) => withToken(body, {}, {}, ct),
    close: async () => {
      await fake.close();
      if (!opts.google) await google.close();
    },
  };
}

/** The text/plain part of a message the fake Gmail holds. */
const textOf = (m: { rfc2822: string }) => parseMail(m.rfc2822).parts.find((p) => p.contentType === 'text/plain')?.body ?? '';

export async function gmailOutboundKit(c: KitContext): Promise<OutboundKit> {
  const kit = await gmailKit(c);
  const { fake } = kit;
  const creds = fake.credentials;
  return {
    ...kit,
    sendPath: '/messages/send',
    secretValues: [creds.clientSecret, creds.refreshToken],
    delivered: (text) => fake.sentMessages().filter((m) => textOf(m).includes(text)).length,
    // messages.send carries the message as base64url `raw`.
    isSend: (r, text) => r.path.includes('/messages/send') && textOf({ rfc2822: Buffer.from(String((r.body as { raw?: string } | undefined)?.raw ?? ''), 'base64url').toString('utf8') }).includes(text),
    // An access token refused on send is refreshed once and the send tried again: two refusals.
    refuseAuth() {
      fake.failNext({ status: 401, match: '/messages/send' });
      fake.failNext({ status: 401, match: '/messages/send' });
    },
    direct: {
      channelType: 'email', externalIdentifier: kit.address,
      secrets: { client_id: creds.clientId, client_secret: creds.clientSecret, refresh_token: creds.refreshToken },
      settings: { oauth_token_url: fake.tokenUrl }, config: {}, apiBaseUrl: fake.url,
      conversationKey: 'thread-1', otherConversationKey: 'thread-2',
      chunk: (text) => ({ text, html: `<p>${text}</p>`, subject: 'Re: Thread', email: { from: kit.address, to: ['c1@example.com'] } }),
      other: { secrets: { client_id: 'other', client_secret: 'other', refresh_token: 'other' }, settings: {}, config: {}, externalIdentifier: 'someone@other.test' },
    },
  };
}
