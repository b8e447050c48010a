/** Sending from a customer's Gmail: a raw RFC 2822 reply posted into the thread. */
import type { OutboundPart } from '../contract.js';
import { buildRfc2822, toBase64Url } from './api.js';
import { gmailClientFor } from './client.js';

export const gmailOutbound: OutboundPart = {
  idempotent: false,
  rateLimits: (ctx) => [{ key: `gmail:mailbox:${ctx.externalIdentifier.toLowerCase()}`, burst: 10, perSecond: 5 }],
  async send(ctx, chunk) {
    const e = chunk.email;
    if (!e || e.to.length === 0) throw new Error('an email needs a recipient');
    // Uploaded media is attached to the MIME message; an attachment given only by URL is linked in the text.
    const files = await Promise.all((chunk.attachments ?? []).filter((a) => a.load).map(async (a) => ({ fileName: a.fileName ?? 'attachment', mimeType: a.mimeType ?? 'application/octet-stream', bytes: await a.load!() })));
    const raw = buildRfc2822({ from: e.from, to: e.to, cc: e.cc, subject: chunk.subject ?? '', text: chunk.text, html: chunk.html, inReplyTo: e.inReplyTo, references: e.references, ...(e.messageId ? { messageId: e.messageId } : {}), ...(files.length ? { attachments: files } : {}) });
    const api = gmailClientFor(ctx);
    const r = await api.send({ raw: toBase64Url(raw), ...(e.threadId ? { threadId: e.threadId } : {}) });
    // Inbound Gmail mail is keyed by threadId: a new thread's replies arrive under this one.
    return { providerMessageId: r.id, conversationKey: r.threadId, threadId: r.threadId };
  },
};
