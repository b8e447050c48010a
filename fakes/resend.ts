/**
 * A fake Resend API on loopback: Bearer key check (missing -> 401, wrong -> 403 invalid_api_key),
 * POST /emails with required from/to/subject and html|text, Idempotency-Key (same key + same body
 * -> the same id, same key + different body -> 409), an optional per-second rate limit (429 with
 * retry-after), GET /emails/{id}, and GET /emails/receiving/{id} for inbound emails tests add.
 * Received attachments as Resend documents them: the webhook carries only metadata (id, filename,
 * content_type, content_disposition, content_id); GET /emails/receiving/{email_id}/attachments
 * (list) and .../attachments/{id} answer it with `size` and a signed `download_url` (valid one
 * hour, `expires_at`) on the fake's CDN path, which serves the exact bytes without an API key and
 * refuses a wrong or expired signature (403) or a request that also sends an Authorization header
 * (400, as signed-URL CDNs do).
 *
 * Example:
 *   const rs = await startFakeResend({ rateLimitPerSecond: 2 });
 *   const id = rs.addReceivedEmail({ from: 'a@x.test', to: ['bot@sb.test'], subject: 'Hi', text: 'Hello' });
 *   await resendApi({ apiKey: rs.apiKey, baseUrl: rs.url }).getReceivedEmail(id);
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { bearer, fields, startFakeServer } from './fake-server.js';
import type { FakeReply, FakeServer, RecordedRequest, StatusFailSpec } from './fake-server.js';
import { postWebhook, svixHeaders } from './webhook-delivery.js';

export const FAKE_RESEND_API_KEY = 're_FakeResendKeyForSwitchboardTests';

export interface FakeResendOptions {
  apiKeys?: string[];
  /** Requests per second before 429 (Resend's default is 2); unlimited when omitted. */
  rateLimitPerSecond?: number;
  port?: number;
  /**
   * Every sent email gets a Message-ID of the fake's own, whatever its `Message-ID` header says
   * (as a sending service behind SES may do); without it a given header is kept. Either way the
   * email's `message_id` is what Resend reports in its email.* webhooks.
   */
  assignMessageIds?: boolean;
}

export interface FakeResendEmail {
  id: string;
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  reply_to: string[];
  subject: string;
  html?: string;
  text?: string;
  headers: Record<string, string>;
  attachments: unknown[];
  idempotencyKey?: string;
  created_at: string;
  /** The Message-ID the email went out with. */
  message_id: string;
}

export interface FakeReceivedEmailInput {
  from: string;
  to: string[];
  subject: string;
  text?: string;
  html?: string;
  cc?: string[];
  headers?: Record<string, string>;
  message_id?: string;
  /** With `bytes`, the attachment is served as Resend serves received files. */
  attachments?: { filename: string; content_type: string; size?: number; bytes?: Uint8Array; content_disposition?: 'attachment' | 'inline'; content_id?: string }[];
}

export interface FakeResend extends FakeServer {
  apiKey: string;
  /** Emails accepted, oldest first (an idempotent repeat is not a second email). */
  sentEmails(to?: string): FakeResendEmail[];
  /** Stores an inbound email served at GET /emails/receiving/{id}; returns its id. */
  addReceivedEmail(email: FakeReceivedEmailInput): string;
  /** Stores an inbound email and returns the `email.received` event Resend would post for it. */
  receiveEmail(email: FakeReceivedEmailInput): { id: string; event: Record<string, unknown> };
  /** POSTs an event signed with Svix headers (secret `whsec_…`); returns the receiver's status. */
  deliverWebhook(url: string, secret: string, event: Record<string, unknown>): Promise<number>;
  /** Forgets a received email's attachments (as after Resend's retention): lookups answer 404. */
  dropAttachments(emailId: string): void;
}

const ADDRESS = /^(?:[^<>]*<\s*[^\s@<>]+@[^\s@<>]+\s*>|[^\s@<>]+@[^\s@<>]+)$/;

export async function startFakeResend(opts: FakeResendOptions = {}): Promise<FakeResend> {
  const keys = opts.apiKeys ?? [FAKE_RESEND_API_KEY];
  const sent: FakeResendEmail[] = [];
  const received = new Map<string, Record<string, unknown>>();
  const idempotency = new Map<string, { hash: string; id: string }>();
  /** email id -> its attachments (metadata + bytes). */
  const files = new Map<string, { id: string; filename: string; content_type: string; content_disposition: string; content_id?: string; bytes?: Uint8Array }[]>();
  const cdnKey = randomUUID();
  let baseUrl = '';
  const sign = (path: string, expires: number) => createHmac('sha256', cdnKey).update(`${path}\n${expires}`).digest('hex');
  function attachmentJson(emailId: string, a: NonNullable<ReturnType<typeof files.get>>[number]): Record<string, unknown> {
    const path = `/cdn/${emailId}/attachments/${a.id}`;
    const expires = Date.now() + 3600_000;
    return {
      object: 'attachment', id: a.id, filename: a.filename, content_type: a.content_type, content_disposition: a.content_disposition,
      ...(a.content_id ? { content_id: a.content_id } : {}), size: a.bytes?.length ?? 0,
      download_url: `${baseUrl}${path}?expires=${expires}&signature=${sign(path, expires)}`, expires_at: new Date(expires).toISOString(),
    };
  }
  function cdn(req: RecordedRequest): FakeReply {
    if (req.headers.authorization) return { status: 400, text: 'Only one auth mechanism allowed; the signature is in the query string' };
    const m = /^\/cdn\/([^/]+)\/attachments\/([^/]+)$/.exec(req.path);
    const expires = Number(req.query.get('expires'));
    const sig = req.query.get('signature') ?? '';
    if (!m || !Number.isFinite(expires) || sig !== sign(req.path, expires)) return { status: 403, text: 'Access denied: bad signature' };
    if (expires < Date.now()) return { status: 403, text: 'Access denied: the link expired' };
    const a = files.get(m[1])?.find((x) => x.id === m[2]);
    if (!a?.bytes) return { status: 404, text: 'Not found' };
    return { status: 200, bytes: a.bytes, headers: { 'content-type': a.content_type } };
  }
  let hits: number[] = [];

  const error = (statusCode: number, name: string, message: string, headers?: Record<string, string>): FakeReply => ({
    status: statusCode, json: { statusCode, name, message }, headers,
  });
  const list = (v: unknown): string[] => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

  function send(req: RecordedRequest): FakeReply {
    const b = fields(req.body);
    if (req.body === undefined) return error(422, 'validation_error', 'Invalid JSON body.');
    for (const f of ['from', 'to', 'subject']) {
      if (b[f] === undefined || b[f] === '') return error(422, 'missing_required_field', `Missing \`${f}\` field.`);
    }
    const to = list(b.to);
    if (typeof b.from !== 'string' || !ADDRESS.test(b.from)) return error(422, 'validation_error', 'Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.');
    if (to.length === 0 || to.length > 50) return error(422, 'validation_error', 'Invalid `to` field. Provide between 1 and 50 recipients.');
    for (const a of [...to, ...list(b.cc), ...list(b.bcc), ...list(b.reply_to)]) {
      if (!ADDRESS.test(a)) return error(422, 'validation_error', `Invalid email address: ${a}`);
    }
    if (typeof b.html !== 'string' && typeof b.text !== 'string') return error(422, 'validation_error', 'Either `html` or `text` must be provided.');

    const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : undefined;
    if (key !== undefined) {
      if (key.length < 1 || key.length > 256) return error(400, 'invalid_idempotency_key', 'The key must be between 1-256 chars.');
      const hash = createHash('sha256').update(req.rawBody).digest('hex');
      const seen = idempotency.get(key);
      if (seen && seen.hash !== hash) {
        return error(409, 'invalid_idempotent_request', 'Same idempotency key used with a different request payload. Change your idempotency key or payload.');
      }
      if (seen) return { status: 200, json: { id: seen.id } };
      idempotency.set(key, { hash, id: '' });
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(fields(b.headers))) if (typeof v === 'string') headers[k] = v;
    const email: FakeResendEmail = {
      id: randomUUID(), from: b.from, to, cc: list(b.cc), bcc: list(b.bcc), reply_to: list(b.reply_to),
      subject: String(b.subject), html: typeof b.html === 'string' ? b.html : undefined, text: typeof b.text === 'string' ? b.text : undefined,
      headers, attachments: Array.isArray(b.attachments) ? b.attachments : [], idempotencyKey: key, created_at: new Date().toISOString(), message_id: '',
    };
    const custom = Object.entries(headers).find(([k]) => k.toLowerCase() === 'message-id')?.[1];
    email.message_id = custom && !opts.assignMessageIds ? custom : `<${email.id}@email.fake-resend.test>`;
    sent.push(email);
    if (key !== undefined) idempotency.set(key, { hash: idempotency.get(key)?.hash ?? '', id: email.id });
    return { status: 200, json: { id: email.id } };
  }

  function handler(req: RecordedRequest): FakeReply {
    if (req.path.startsWith('/cdn/') && req.method === 'GET') return cdn(req);
    const auth = req.headers.authorization;
    if (!auth) return error(401, 'missing_api_key', 'Missing API key in the authorization header. Include the following header in the request: Authorization: Bearer YOUR_API_KEY');
    const key = bearer(req);
    if (!key || !keys.includes(key)) return error(403, 'invalid_api_key', 'API key is invalid');

    if (opts.rateLimitPerSecond !== undefined) {
      const now = Date.now();
      hits = hits.filter((t) => now - t < 1000);
      if (hits.length >= opts.rateLimitPerSecond) {
        return error(429, 'rate_limit_exceeded', `Too many requests. You can only make ${opts.rateLimitPerSecond} requests per second. See rate limit response headers for more information. Or contact support to increase rate limit.`, {
          'retry-after': '1', 'ratelimit-limit': String(opts.rateLimitPerSecond), 'ratelimit-remaining': '0', 'ratelimit-reset': '1',
        });
      }
      hits.push(now);
    }

    if (req.path === '/emails' && req.method === 'POST') return send(req);
    const inbound = /^\/emails\/receiving\/([^/]+)$/.exec(req.path);
    if (inbound && req.method === 'GET') {
      const e = received.get(inbound[1]);
      return e ? { status: 200, json: e } : error(404, 'not_found', 'Email not found');
    }
    const atts = /^\/emails\/receiving\/([^/]+)\/attachments(?:\/([^/]+))?$/.exec(req.path);
    if (atts && req.method === 'GET') {
      const list = files.get(atts[1]);
      if (!list) return error(404, 'not_found', 'Email not found');
      if (!atts[2]) return { status: 200, json: { object: 'list', has_more: false, data: list.map((a) => attachmentJson(atts[1], a)) } };
      const a = list.find((x) => x.id === atts[2]);
      return a ? { status: 200, json: attachmentJson(atts[1], a) } : error(404, 'not_found', 'Attachment not found');
    }
    const get = /^\/emails\/([^/]+)$/.exec(req.path);
    if (get && req.method === 'GET') {
      const e = sent.find((x) => x.id === get[1]);
      return e ? { status: 200, json: { object: 'email', ...e, idempotencyKey: undefined, last_event: 'delivered' } } : error(404, 'not_found', 'Email not found');
    }
    return error(405, 'method_not_allowed', 'Method not allowed');
  }

  function failure(spec: StatusFailSpec): FakeReply {
    const byStatus: Record<number, [string, string]> = {
      401: ['missing_api_key', 'Missing API key in the authorization header.'],
      403: ['invalid_api_key', 'API key is invalid'],
      404: ['not_found', 'The requested endpoint does not exist.'],
      409: ['concurrent_idempotent_requests', 'Same idempotency key used while original request is still in progress.'],
      422: ['validation_error', 'Invalid request.'],
      429: ['rate_limit_exceeded', 'Too many requests.'],
    };
    const [name, message] = byStatus[spec.status] ?? ['internal_server_error', 'An unexpected error occurred.'];
    const headers = spec.status === 429 || spec.retryAfter !== undefined ? { 'retry-after': String(spec.retryAfter ?? 1) } : undefined;
    return error(spec.status, spec.code !== undefined ? String(spec.code) : name, spec.message ?? message, headers);
  }

  function addReceivedEmail(email: FakeReceivedEmailInput): string {
    const id = randomUUID();
    const stored = (email.attachments ?? []).map((a) => ({ id: randomUUID(), filename: a.filename, content_type: a.content_type, content_disposition: a.content_disposition ?? 'attachment', ...(a.content_id ? { content_id: a.content_id } : {}), ...(a.bytes ? { bytes: a.bytes } : {}) }));
    files.set(id, stored);
    // Metadata only, as in the webhook: the bytes come through the Attachments API.
    email = { ...email, attachments: stored.map((a) => ({ id: a.id, filename: a.filename, content_type: a.content_type, content_disposition: a.content_disposition, ...(a.content_id ? { content_id: a.content_id } : {}) })) as FakeReceivedEmailInput['attachments'] };
    received.set(id, {
      object: 'email', id, from: email.from, to: email.to, cc: email.cc ?? [], bcc: [], reply_to: [],
      subject: email.subject, html: email.html ?? null, text: email.text ?? null,
      headers: email.headers ?? {}, message_id: email.message_id ?? `<${id}@mail.example>`,
      created_at: new Date().toISOString(), attachments: email.attachments ?? [],
    });
    return id;
  }

  const server = await startFakeServer({ handler, failure, port: opts.port });
  baseUrl = server.url;
  return {
    ...server,
    dropAttachments: (emailId) => void files.set(emailId, []),
    apiKey: keys[0],
    addReceivedEmail,
    receiveEmail(email) {
      const id = addReceivedEmail(email);
      const stored = received.get(id) ?? {};
      email = { ...email, attachments: stored.attachments as FakeReceivedEmailInput['attachments'] };
      const event = {
        type: 'email.received',
        created_at: new Date().toISOString(),
        data: { email_id: id, created_at: stored.created_at, from: email.from, to: email.to, cc: email.cc ?? [], bcc: [], message_id: stored.message_id, subject: email.subject, attachments: email.attachments ?? [] },
      };
      return { id, event };
    },
    async deliverWebhook(url, secret, event) {
      const body = JSON.stringify(event);
      return postWebhook(url, { 'content-type': 'application/json', ...(await svixHeaders(secret, body)) }, body);
    },
    sentEmails: (to) => (to === undefined ? [...sent] : sent.filter((e) => e.to.includes(to))),
  };
}
