/** Sending email through Resend, threaded with In-Reply-To/References; idempotent per message chunk. */
import type { OutboundPart } from '../contract.js';
import { createHash } from 'node:crypto';
import { resendApi } from './api.js';

/** A bucket key for an API key that does not contain the key. */
const keyId = (k: string) => createHash('sha256').update(k).digest('hex').slice(0, 16);

export const resendOutbound: OutboundPart = {
  // Resend keeps an Idempotency-Key for 24 h: a retry after a timeout returns the first send's id.
  idempotent: true,
  // Resend's default: 2 requests/s per API key (keyed by the sending identity's account).
  rateLimits: (ctx) => [{ key: `resend:key:${keyId(ctx.secrets.api_key ?? '')}`, burst: 2, perSecond: 2 }],
  async send(ctx, chunk) {
    const e = chunk.email;
    if (!e || e.to.length === 0) throw new Error('an email needs a recipient');
    const headers: Record<string, string> = {};
    if (e.inReplyTo) headers['In-Reply-To'] = e.inReplyTo;
    if (e.references?.length) headers['References'] = e.references.join(' ');
    // A thread Switchboard starts: its own Message-ID, which the reply's References will name.
    if (e.messageId) headers['Message-ID'] = e.messageId;
    const r = await resendApi({ apiKey: ctx.secrets.api_key ?? '', baseUrl: ctx.apiBaseUrl, fetch: ctx.fetch, timeoutMs: ctx.timeoutMs }).sendEmail(
      {
        from: e.from,
        to: e.to,
        ...(e.cc?.length ? { cc: e.cc } : {}),
        subject: chunk.subject ?? '',
        html: chunk.html,
        text: chunk.text,
        ...(Object.keys(headers).length ? { headers } : {}),
        // Uploaded media goes as base64 `content`; other URLs Resend fetches itself (`path`).
        ...(chunk.attachments?.length ? { attachments: await Promise.all(chunk.attachments.map(async (a) => (a.load
          ? { content: (await a.load()).toString('base64'), filename: a.fileName ?? 'attachment', ...(a.mimeType ? { content_type: a.mimeType } : {}) }
          : { path: a.url, filename: a.fileName ?? a.url.split('/').pop()?.split('?')[0] ?? 'attachment' }))) } : {}),
      },
      { idempotencyKey: ctx.idempotencyKey },
    );
    // Inbound Resend mail is keyed by the thread's root Message-ID, lower-cased (see parse.ts).
    return { providerMessageId: r.id, ...(e.messageId && !e.inReplyTo ? { conversationKey: e.messageId.toLowerCase() } : {}) };
  },
};
