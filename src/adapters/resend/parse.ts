import type { DeliveryStatus, EmailFields, InboundEvent, MediaRef, MessageEvent, StatusEvent } from '../events.js';
import type { AdapterContext, RawRequest } from '../contract.js';
import { PayloadError } from '../contract.js';
import { ProviderFetchError } from '../shared/errors.js';
import { fetchJson } from '../shared/fetch-json.js';
import { isObj, obj, optArr, optObj, optStr, parseJsonObject, str, type Obj } from '../shared/guards.js';
import { joinUrl } from '../shared/http.js';
import { header, stringSetting } from '../shared/webhook.js';
import { isoFromDateString } from '../shared/time.js';
import { messageIds, parseAddress, threadRoot } from '../shared/email-address.js';
import { resendAttachmentRef } from './media.js';

const DELIVERY: Record<string, DeliveryStatus> = {
  'email.sent': 'sent',
  'email.delivered': 'delivered',
  'email.delivery_delayed': 'queued',
  'email.bounced': 'failed',
  // A complaint arrives after delivery: the mail got there, the person marked it as spam.
  'email.complained': 'delivered',
  'email.failed': 'failed',
};

export async function parseResend(req: RawRequest, ctx: AdapterContext): Promise<InboundEvent[]> {
  const body = parseJsonObject(req.body, 'resend webhook');
  const type = str(body.type, 'type');
  const data = obj(body.data, 'data');
  // Resend sends one event per delivery; the svix id is what stays the same across its retries.
  const providerEventId = header(req, 'svix-id') ?? header(req, 'webhook-id');
  if (!providerEventId) throw new PayloadError('resend webhook: svix-id header is missing');
  const occurredAt = isoFromDateString(body.created_at ?? data.created_at, ctx.now);

  if (type === 'email.received') return [await receivedEvent(data, providerEventId, occurredAt, ctx)];
  const status = DELIVERY[type];
  if (status) {
    const providerStatus = type.slice('email.'.length);
    const from = optStr(data.from, 'data.from');
    const to = optArr(data.to, 'data.to').filter((t): t is string => typeof t === 'string');
    const ev: StatusEvent = {
      kind: 'status',
      providerEventId,
      occurredAt,
      providerMessageId: str(data.email_id, 'data.email_id'),
      status,
      providerStatus,
      ...(from ? { channelIdentity: parseAddress(from).email } : {}),
      ...(to[0] ? { conversationKey: parseAddress(to[0]).email } : {}),
      raw: body,
    };
    const message = failureText(data);
    if (message) ev.error = { message };
    const messageId = optStr(data.message_id, 'data.message_id');
    if (messageId) ev.emailMessageId = messageId;
    return [ev];
  }
  return [{ kind: 'unsupported', providerType: type, providerEventId, occurredAt, raw: body }];
}

function failureText(data: Obj): string | undefined {
  const bounce = optObj(data.bounce, 'data.bounce');
  const failed = optObj(data.failed, 'data.failed');
  return optStr(bounce?.message, 'data.bounce.message') ?? optStr(failed?.reason, 'data.failed.reason');
}

async function receivedEvent(data: Obj, providerEventId: string, occurredAt: string, ctx: AdapterContext): Promise<MessageEvent> {
  const emailId = str(data.email_id, 'data.email_id');
  const from = parseAddress(str(data.from, 'data.from'));
  const to = strings(data.to, 'data.to');
  const cc = strings(data.cc, 'data.cc');
  if (to.length === 0) throw new PayloadError('data.to must list at least one address');
  const full = await fetchBody(emailId, ctx);

  const headers = headerMap(full.headers);
  const messageId = optStr(data.message_id, 'data.message_id') ?? optStr(full.message_id, 'message_id') ?? headers.get('message-id');
  const inReplyTo = headers.get('in-reply-to');
  const references = messageIds(headers.get('references'));
  const email: EmailFields = {
    subject: optStr(data.subject, 'data.subject') ?? '',
    from: from.email,
    to,
    cc,
    references,
    attachments: optArr(data.attachments, 'data.attachments').map((a, i) => {
      const att = obj(a, `data.attachments[${i}]`);
      const contentType = optStr(att.content_type, `data.attachments[${i}].content_type`);
      const fileId = optStr(att.id, `data.attachments[${i}].id`);
      const size = typeof att.size === 'number' ? att.size : undefined;
      return { fileName: optStr(att.filename, `data.attachments[${i}].filename`) ?? 'attachment', ...(contentType ? { contentType } : {}), ...(size !== undefined ? { size } : {}), ...(fileId ? { providerFileId: fileId } : {}) };
    }),
  };
  // Each attachment with an id is captured (media.ts fetches it through the Attachments API).
  const media: MediaRef[] = email.attachments.filter((a) => a.providerFileId).map((a) => ({
    kind: 'file', providerFileId: resendAttachmentRef(emailId, a.providerFileId!), fileName: a.fileName,
    ...(a.contentType ? { mimeType: a.contentType } : {}), ...(a.size !== undefined ? { size: a.size } : {}),
  }));
  if (typeof full.text === 'string') email.text = full.text;
  if (typeof full.html === 'string') email.html = full.html;
  if (messageId) email.messageId = messageId;
  if (inReplyTo) email.inReplyTo = inReplyTo;

  return {
    kind: 'message',
    providerEventId,
    occurredAt,
    providerMessageId: emailId,
    conversationKey: threadRoot(references, inReplyTo, messageId) ?? `resend:${emailId}`,
    // Several recipients: the channel's own address when configured, else the first `to`.
    channelIdentity: pickIdentity(to, cc, ctx),
    from: { id: from.email, email: from.email, ...(from.name ? { name: from.name } : {}) },
    to: { id: to[0], email: to[0] },
    ...(email.text !== undefined ? { text: email.text } : {}),
    ...(media.length ? { media } : {}),
    email,
    raw: data,
  };
}

function strings(v: unknown, path: string): string[] {
  return optArr(v, path).map((s, i) => parseAddress(str(s, `${path}[${i}]`)).email);
}

function pickIdentity(to: string[], cc: string[], ctx: AdapterContext): string {
  const own = stringSetting(ctx.config.address, ctx.config.email)?.toLowerCase();
  return own && (to.includes(own) || cc.includes(own)) ? own : to[0];
}

/** GET /emails/receiving/{id}: the webhook carries no body, only its metadata. */
async function fetchBody(emailId: string, ctx: AdapterContext): Promise<Obj> {
  const key = ctx.secrets.api_key;
  if (!key) throw new ProviderFetchError('resend', 'connection has no api_key to fetch the received email');
  const res = await fetchJson(ctx.fetch, 'resend', 'fetching the received email', joinUrl(ctx.apiBaseUrl, `/emails/receiving/${encodeURIComponent(emailId)}`), {
    headers: { authorization: `Bearer ${key}` },
  });
  if (!isObj(res)) throw new ProviderFetchError('resend', 'received email answer is not an object');
  return res;
}

/** Resend has returned headers both as an object and as [{name, value}]; accept either. */
function headerMap(v: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (Array.isArray(v)) {
    for (const h of v) if (isObj(h) && typeof h.name === 'string' && typeof h.value === 'string') out.set(h.name.toLowerCase(), h.value);
  } else if (isObj(v)) {
    for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out.set(k.toLowerCase(), val);
  }
  return out;
}
