/**
 * A fake Gmail API plus Google token endpoint on loopback. POST /token runs the refresh_token
 * grant (unknown refresh token -> 400 invalid_grant, wrong client -> 401 invalid_client) and issues
 * short-lived access tokens; /gmail/v1/users/me/... checks them (-> 401 UNAUTHENTICATED) and serves
 * messages.send (stores raw + threadId; a threadId is kept only when the subject matches, as on
 * Gmail), users.getProfile (the mailbox's address), watch, stop, history.list (404 when
 * startHistoryId is older than the kept history) and messages.get(format=raw) for messages tests
 * add, messages.get(format=full) (the MIME tree as a `payload` of parts: an attachment part has a
 * `filename` and `body: {attachmentId, size}`, other leaves carry base64url `body.data`) and
 * messages.attachments.get (`{attachmentId, size, data}`, base64url) for an attachmentId issued
 * for that message — ids are opaque and differ between messages.get calls, as on Gmail.
 *
 * Example:
 *   const gm = await startFakeGmail();
 *   const api = gmailApi({ ...gm.credentials, baseUrl: gm.url, tokenUrl: gm.tokenUrl });
 *   const { historyId } = gm.addMessage({ rfc2822: 'From: a@x.test\r\nTo: me@x.test\r\nSubject: Hi\r\n\r\nHello' });
 */
import { randomBytes } from 'node:crypto';
import { bearer, fields, startFakeServer } from './fake-server.js';
import type { FakeReply, FakeServer, RecordedRequest, StatusFailSpec } from './fake-server.js';
import { parseMail, type ParsedPart } from './mail-parse.js';

export const FAKE_GOOGLE_CLIENT_ID = 'fake-client-id.apps.googleusercontent.com';
export const FAKE_GOOGLE_CLIENT_SECRET = 'fake-google-client-secret';
export const FAKE_GOOGLE_REFRESH_TOKEN = '1//fake-google-refresh-token';

export interface FakeGmailOptions {
  clientId?: string;
  clientSecret?: string;
  refreshTokens?: string[];
  /** Lifetime of issued access tokens in seconds (3599 like Google by default). */
  accessTokenTtlSec?: number;
  emailAddress?: string;
  port?: number;
}

export interface FakeGmailMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  historyId: string;
  internalDate: string;
  /** base64url RFC 2822 as stored. */
  raw: string;
  /** The decoded RFC 2822 text. */
  rfc2822: string;
  subject: string;
}

export interface FakeGmail extends FakeServer {
  /** `${url}/token`: pass as the client's tokenUrl. */
  tokenUrl: string;
  emailAddress: string;
  /** Credentials the token endpoint accepts. */
  credentials: { clientId: string; clientSecret: string; refreshToken: string };
  /** Messages sent through messages.send, oldest first. */
  sentMessages(): FakeGmailMessage[];
  /** Adds an inbound message (raw base64url or RFC 2822 text); returns its ids and new historyId. */
  addMessage(input: { raw?: string; rfc2822?: string; threadId?: string; labelIds?: string[]; internalDate?: number }): { id: string; threadId: string; historyId: string };
  /** The current watch, if any. */
  watchState(): { topicName: string; labelIds?: string[]; expiration: string } | undefined;
  /** Drops history up to this id: listing from an older id then answers 404. */
  expireHistoryBefore(historyId: string): void;
  /** Deletes a message (its attachments answer 404 from now on). */
  deleteMessage(id: string): void;
  /** Makes a refresh token fail with invalid_grant from now on. */
  revokeRefreshToken(refreshToken: string): void;
  /** Invalidates every issued access token (clients then get 401 and must refresh). */
  revokeAccessTokens(): void;
  /** How many access tokens the token endpoint issued. */
  tokensIssued(): number;
}

interface HistoryRecord {
  id: number;
  message: FakeGmailMessage;
}

const stripRe = (s: string) => s.replace(/^\s*((re|fwd?|aw|wg)\s*:\s*)+/i, '').trim();

export async function startFakeGmail(opts: FakeGmailOptions = {}): Promise<FakeGmail> {
  const clientId = opts.clientId ?? FAKE_GOOGLE_CLIENT_ID;
  const clientSecret = opts.clientSecret ?? FAKE_GOOGLE_CLIENT_SECRET;
  const refreshTokens = new Set(opts.refreshTokens ?? [FAKE_GOOGLE_REFRESH_TOKEN]);
  const ttl = opts.accessTokenTtlSec ?? 3599;
  const emailAddress = opts.emailAddress ?? 'owner@gmail.test';
  const accessTokens = new Map<string, number>();
  const messages: FakeGmailMessage[] = [];
  const sent: FakeGmailMessage[] = [];
  const history: HistoryRecord[] = [];
  let historyId = 1000;
  let oldestHistoryId = 0;
  let issued = 0;
  let watch: { topicName: string; labelIds?: string[]; expiration: string } | undefined;

  const googleError = (code: number, status: string, message: string, reason?: string): FakeReply => ({
    status: code,
    json: { error: { code, message, ...(reason ? { errors: [{ message, domain: 'global', reason }] } : {}), status } },
  });
  const newId = () => randomBytes(8).toString('hex');
  /** attachmentId -> the message and bytes it was issued for. */
  const attachmentIds = new Map<string, { messageId: string; bytes: Buffer }>();

  /** The `payload` of format=full: Gmail's MessagePart tree, attachment bytes behind fresh ids. */
  function payloadOf(messageId: string, p: ParsedPart, partId: string): Record<string, unknown> {
    const headers = Object.entries(p.rawHeaders).map(([name, value]) => ({ name, value }));
    const disp = p.rawHeaders['content-disposition'] ?? '';
    const filename = /filename="?([^";]+)"?/i.exec(disp)?.[1] ?? /\bname="?([^";]+)"?/i.exec(p.rawHeaders['content-type'] ?? '')?.[1] ?? '';
    const base = { partId, mimeType: p.contentType, filename, headers };
    if (p.contentType.startsWith('multipart/')) return { ...base, body: { size: 0 }, parts: p.parts.map((c, i) => payloadOf(messageId, c, partId === '' ? String(i) : `${partId}.${i}`)) };
    const bytes = p.bytes ?? Buffer.from(p.body, 'utf8');
    if (filename || /^attachment/i.test(disp)) {
      const attachmentId = `ANGjdJ${randomBytes(24).toString('base64url')}`;
      attachmentIds.set(attachmentId, { messageId, bytes });
      return { ...base, body: { attachmentId, size: bytes.length } };
    }
    return { ...base, body: { size: bytes.length, data: bytes.toString('base64url') } };
  }

  function store(raw: string, threadId: string | undefined, labelIds: string[], internalDate = Date.now()): FakeGmailMessage {
    const rfc2822 = Buffer.from(raw, 'base64url').toString('utf8');
    const subject = parseMail(rfc2822).headers.subject ?? '';
    const thread = threadId ? messages.find((m) => m.threadId === threadId) : undefined;
    const id = newId();
    const msg: FakeGmailMessage = {
      id,
      // Gmail threads a message only when the subject matches the thread's.
      threadId: thread && stripRe(thread.subject) === stripRe(subject) ? thread.threadId : id,
      labelIds, historyId: String(++historyId), internalDate: String(internalDate), raw, rfc2822, subject,
    };
    messages.push(msg);
    history.push({ id: historyId, message: msg });
    return msg;
  }

  function token(req: RecordedRequest): FakeReply {
    const f = fields(req.body);
    let id = typeof f.client_id === 'string' ? f.client_id : undefined;
    let secret = typeof f.client_secret === 'string' ? f.client_secret : undefined;
    const basic = req.headers.authorization;
    if (typeof basic === 'string' && basic.startsWith('Basic ')) {
      [id, secret] = Buffer.from(basic.slice(6), 'base64').toString('utf8').split(':');
    }
    if (f.grant_type !== 'refresh_token') return { status: 400, json: { error: 'unsupported_grant_type', error_description: 'Invalid grant_type: ' + String(f.grant_type ?? '') } };
    if (id !== clientId || secret !== clientSecret) return { status: 401, json: { error: 'invalid_client', error_description: 'The OAuth client was not found.' } };
    if (typeof f.refresh_token !== 'string' || !refreshTokens.has(f.refresh_token)) return { status: 400, json: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } };
    const access = `ya29.fake-${++issued}-${randomBytes(6).toString('hex')}`;
    accessTokens.set(access, Date.now() + ttl * 1000);
    return { status: 200, json: { access_token: access, expires_in: ttl, scope: 'https://www.googleapis.com/auth/gmail.modify', token_type: 'Bearer' } };
  }

  function gmail(rest: string, req: RecordedRequest): FakeReply {
    if (rest === 'profile' && req.method === 'GET') {
      return { status: 200, json: { emailAddress, messagesTotal: messages.length, threadsTotal: new Set(messages.map((m) => m.threadId)).size, historyId: String(historyId) } };
    }
    if (rest === 'messages/send' && req.method === 'POST') {
      const b = fields(req.body);
      if (typeof b.raw !== 'string' || b.raw === '') return googleError(400, 'INVALID_ARGUMENT', "'raw' RFC822 payload message string or uploading message via /upload/* URL required", 'invalidArgument');
      if (!/^[A-Za-z0-9_-]+={0,2}$/.test(b.raw)) return googleError(400, 'INVALID_ARGUMENT', 'Invalid value for ByteString', 'invalidArgument');
      const parsed = parseMail(Buffer.from(b.raw, 'base64url').toString('utf8'));
      if (!parsed.headers.to && !parsed.headers.cc && !parsed.headers.bcc) return googleError(400, 'INVALID_ARGUMENT', 'Recipient address required', 'invalidArgument');
      if (typeof b.threadId === 'string' && !messages.some((m) => m.threadId === b.threadId)) return googleError(404, 'NOT_FOUND', 'Requested entity was not found.', 'notFound');
      const msg = store(b.raw, typeof b.threadId === 'string' ? b.threadId : undefined, ['SENT']);
      sent.push(msg);
      return { status: 200, json: { id: msg.id, threadId: msg.threadId, labelIds: msg.labelIds } };
    }
    if (rest === 'watch' && req.method === 'POST') {
      const b = fields(req.body);
      if (typeof b.topicName !== 'string' || !/^projects\/[^/]+\/topics\/[^/]+$/.test(b.topicName)) {
        return googleError(400, 'INVALID_ARGUMENT', 'Invalid topicName does not match projects/PROJECT_ID/topics/*', 'invalidArgument');
      }
      const labelIds = Array.isArray(b.labelIds) ? b.labelIds.filter((x): x is string => typeof x === 'string') : undefined;
      watch = { topicName: b.topicName, labelIds, expiration: String(Date.now() + 7 * 24 * 3600 * 1000) };
      return { status: 200, json: { historyId: String(historyId), expiration: watch.expiration } };
    }
    if (rest === 'stop' && req.method === 'POST') {
      watch = undefined;
      return { status: 204 };
    }
    if (rest === 'history' && req.method === 'GET') {
      const start = Number(req.query.get('startHistoryId'));
      if (!req.query.get('startHistoryId') || !Number.isFinite(start)) return googleError(400, 'INVALID_ARGUMENT', 'Missing startHistoryId', 'invalidArgument');
      if (start < oldestHistoryId) return googleError(404, 'NOT_FOUND', 'Requested entity was not found.', 'notFound');
      const labelId = req.query.get('labelId');
      const records = history
        .filter((h) => h.id > start && (!labelId || h.message.labelIds.includes(labelId)))
        .map((h) => {
          const ref = { id: h.message.id, threadId: h.message.threadId, labelIds: h.message.labelIds };
          return { id: String(h.id), messages: [{ id: ref.id, threadId: ref.threadId }], messagesAdded: [{ message: ref }] };
        });
      return { status: 200, json: { ...(records.length ? { history: records } : {}), historyId: String(historyId) } };
    }
    if (rest === 'messages' && req.method === 'GET') {
      // messages.list: every labelIds must match; of the search operators only after:<epoch s>;
      // newest first; pageToken is an offset here (opaque to clients either way).
      const labels = req.query.getAll('labelIds');
      const after = /(?:^|\s)after:(\d+)(?:\s|$)/.exec(req.query.get('q') ?? '');
      const max = Math.min(Math.max(1, Number(req.query.get('maxResults') ?? 100) || 100), 500);
      const offset = Math.max(0, Number(req.query.get('pageToken') ?? 0) || 0);
      const all = messages.filter((m) => labels.every((l) => m.labelIds.includes(l)) && (!after || Number(m.internalDate) > Number(after[1]) * 1000)).reverse();
      const page = all.slice(offset, offset + max);
      return { status: 200, json: { ...(page.length ? { messages: page.map((m) => ({ id: m.id, threadId: m.threadId })) } : {}), ...(offset + max < all.length ? { nextPageToken: String(offset + max) } : {}), resultSizeEstimate: all.length } };
    }
    const get = /^messages\/([^/]+)$/.exec(rest);
    if (get && req.method === 'GET') {
      const msg = messages.find((m) => m.id === get[1]);
      if (!msg) return googleError(404, 'NOT_FOUND', 'Requested entity was not found.', 'notFound');
      const format = req.query.get('format') ?? 'full';
      const base = { id: msg.id, threadId: msg.threadId, labelIds: msg.labelIds, snippet: msg.subject, historyId: msg.historyId, internalDate: msg.internalDate, sizeEstimate: msg.rfc2822.length };
      if (format === 'full') return { status: 200, json: { ...base, payload: payloadOf(msg.id, parseMail(msg.rfc2822), '') } };
      return { status: 200, json: format === 'raw' ? { ...base, raw: msg.raw } : base };
    }
    const att = /^messages\/([^/]+)\/attachments\/([^/]+)$/.exec(rest);
    if (att && req.method === 'GET') {
      const issued = attachmentIds.get(att[2]);
      if (!messages.some((m) => m.id === att[1]) || !issued || issued.messageId !== att[1]) return googleError(404, 'NOT_FOUND', 'Requested entity was not found.', 'notFound');
      return { status: 200, json: { attachmentId: att[2], size: issued.bytes.length, data: issued.bytes.toString('base64url') } };
    }
    return googleError(404, 'NOT_FOUND', 'Not Found');
  }

  function handler(req: RecordedRequest): FakeReply {
    if (req.path === '/token' && req.method === 'POST') return token(req);
    const m = /^\/gmail\/v1\/users\/([^/]+)\/(.+)$/.exec(req.path);
    if (!m) return googleError(404, 'NOT_FOUND', 'Not Found');
    const access = bearer(req);
    const expires = access ? accessTokens.get(access) : undefined;
    if (!expires || expires < Date.now()) {
      return googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.', 'authError');
    }
    if (m[1] !== 'me' && m[1] !== emailAddress) return googleError(403, 'PERMISSION_DENIED', 'Delegation denied for ' + emailAddress, 'forbidden');
    return gmail(m[2], req);
  }

  function failure(spec: StatusFailSpec, req: RecordedRequest): FakeReply {
    if (req.path === '/token') {
      const error = spec.status === 401 || spec.status === 400 ? 'invalid_grant' : spec.status === 429 ? 'rate_limit_exceeded' : 'internal_failure';
      return { status: spec.status, json: { error, error_description: spec.message ?? 'Injected failure' } };
    }
    const byStatus: Record<number, [string, string]> = {
      400: ['INVALID_ARGUMENT', 'invalidArgument'], 401: ['UNAUTHENTICATED', 'authError'], 403: ['PERMISSION_DENIED', 'insufficientPermissions'],
      404: ['NOT_FOUND', 'notFound'], 429: ['RESOURCE_EXHAUSTED', 'rateLimitExceeded'], 500: ['INTERNAL', 'backendError'], 503: ['UNAVAILABLE', 'backendError'],
    };
    const [status, reason] = byStatus[spec.status] ?? ['INTERNAL', 'backendError'];
    const reply = googleError(spec.status, status, spec.message ?? 'Injected failure', spec.code !== undefined ? String(spec.code) : reason);
    return spec.retryAfter !== undefined ? { ...reply, headers: { 'retry-after': String(spec.retryAfter) } } : reply;
  }

  const server = await startFakeServer({ handler, failure, port: opts.port });
  return {
    ...server,
    tokenUrl: `${server.url}/token`,
    emailAddress,
    credentials: { clientId, clientSecret, refreshToken: [...refreshTokens][0] ?? '' },
    sentMessages: () => [...sent],
    addMessage(input) {
      const raw = input.raw ?? Buffer.from(input.rfc2822 ?? '', 'utf8').toString('base64url');
      const msg = store(raw, input.threadId, input.labelIds ?? ['INBOX', 'UNREAD'], input.internalDate);
      return { id: msg.id, threadId: msg.threadId, historyId: msg.historyId };
    },
    watchState: () => (watch ? { ...watch } : undefined),
    expireHistoryBefore(id) {
      oldestHistoryId = Number(id);
    },
    deleteMessage(id) {
      const i = messages.findIndex((m) => m.id === id);
      if (i >= 0) messages.splice(i, 1);
    },
    revokeRefreshToken: (rt) => void refreshTokens.delete(rt),
    revokeAccessTokens: () => accessTokens.clear(),
    tokensIssued: () => issued,
  };
}
